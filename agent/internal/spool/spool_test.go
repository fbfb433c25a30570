package spool

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func body(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

func TestOrderSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{KindScheduleFire, KindJobStart, KindJobLogs, KindJobLogs, KindJobFinish}
	for i, k := range kinds {
		if _, err := s.Append(Entry{Kind: k, Key: "job-1", ID: "job-1", Body: body(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if !s.HasKey("job-1") || s.HasKey("job-2") {
		t.Fatal("HasKey")
	}
	// Reopen: same order, and new entries go after the old ones.
	s, err = Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(Entry{Kind: KindStats, Key: "repo:r"}); err != nil {
		t.Fatal(err)
	}
	entries, err := s.Entries()
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 6 {
		t.Fatalf("%d entries", len(entries))
	}
	for i, e := range entries[:5] {
		var n int
		_ = json.Unmarshal(e.Body, &n)
		if e.Kind != kinds[i] || n != i {
			t.Fatalf("entry %d: %+v", i, e)
		}
	}
	if entries[5].Kind != KindStats || entries[5].Seq <= entries[4].Seq {
		t.Fatalf("appended after reopen: %+v", entries[5])
	}
	// Drain in order.
	for i := range 6 {
		e, ok, err := s.First()
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if e.Seq != entries[i].Seq {
			t.Fatalf("first: %d want %d", e.Seq, entries[i].Seq)
		}
		if err := s.Remove(e.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, _ := s.First(); ok || s.Len() != 0 || s.Bytes() != 0 {
		t.Fatalf("not empty: %d %d", s.Len(), s.Bytes())
	}
}

func TestBoundRefusesOnlyDroppable(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MaxBytes: 600})
	if err != nil {
		t.Fatal(err)
	}
	big := body(strings.Repeat("x", 300))
	if _, err := s.Append(Entry{Kind: KindJobLogs, Key: "j", Body: big, Droppable: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(Entry{Kind: KindJobLogs, Key: "j", Body: big, Droppable: true}); !errors.Is(err, ErrFull) {
		t.Fatalf("want ErrFull, got %v", err)
	}
	if _, err := s.Append(Entry{Kind: KindJobFinish, Key: "j", Body: big}); err != nil {
		t.Fatalf("terminal refused: %v", err)
	}
	if s.Len() != 2 {
		t.Fatalf("len %d", s.Len())
	}
}

func TestReplaces(t *testing.T) {
	s, _ := Open(t.TempDir(), Options{})
	_, _ = s.Append(Entry{Kind: KindSnapshots, Key: "repo:a", Body: body(1), Replaces: true})
	_, _ = s.Append(Entry{Kind: KindStats, Key: "repo:a", Body: body(2), Replaces: true})
	_, _ = s.Append(Entry{Kind: KindSnapshots, Key: "repo:b", Body: body(3), Replaces: true})
	_, _ = s.Append(Entry{Kind: KindSnapshots, Key: "repo:a", Body: body(4), Replaces: true})
	entries, _ := s.Entries()
	var got []string
	for _, e := range entries {
		got = append(got, e.Kind+"/"+e.Key+"/"+string(e.Body))
	}
	want := []string{"repo_stats/repo:a/2", "repo_snapshots/repo:b/3", "repo_snapshots/repo:a/4"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
}

func TestRewriteAndCorrupt(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir, Options{})
	e, _ := s.Append(Entry{Kind: KindJobStart, Key: "old", ID: "old"})
	e.Key, e.ID = "new", "new"
	if err := s.Rewrite(e); err != nil {
		t.Fatal(err)
	}
	if s.HasKey("old") || !s.HasKey("new") {
		t.Fatal("rewrite did not change the key")
	}
	// A corrupt file and a leftover temporary file are put aside at open.
	if err := os.WriteFile(filepath.Join(dir, "00000000000000000099.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".x.tmp-1"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := s.Entries()
	if len(entries) != 1 || entries[0].ID != "new" {
		t.Fatalf("entries %+v", entries)
	}
	if _, err := os.Stat(filepath.Join(dir, "00000000000000000099.json.corrupt")); err != nil {
		t.Fatal("corrupt entry not put aside")
	}
	// Sequence numbers continue above the valid entries.
	n, _ := s.Append(Entry{Kind: KindJobFinish, Key: "new"})
	if n.Seq <= entries[0].Seq {
		t.Fatalf("seq %d", n.Seq)
	}
}
