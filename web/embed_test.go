package web

import (
	"io/fs"
	"testing"
)

func TestDistHasAnIndex(t *testing.T) {
	b, err := fs.ReadFile(Dist(), "index.html")
	if err != nil || len(b) == 0 {
		t.Fatalf("index.html: %v", err)
	}
}
