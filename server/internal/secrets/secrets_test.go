package secrets

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSealOpenRoundTrip(t *testing.T) {
	key := bytes.Repeat([]byte{7}, KeySize)
	box, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := box.Seal("hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(sealed, "hunter2") {
		t.Fatalf("sealed value contains the plaintext: %q", sealed)
	}
	plain, err := box.Open(sealed)
	if err != nil || plain != "hunter2" {
		t.Fatalf("Open = %q, %v", plain, err)
	}
	other, _ := NewBox(bytes.Repeat([]byte{8}, KeySize))
	if _, err := other.Open(sealed); err != ErrCorrupt {
		t.Fatalf("wrong key: err = %v, want ErrCorrupt", err)
	}
	if s, _ := box.Seal(""); s != "" {
		t.Fatalf("empty secret sealed to %q", s)
	}
}

func TestLoadOrCreateKeyPersists(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "server.key")
	k1, err := LoadOrCreateKey("", path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode = %v", st.Mode().Perm())
	}
	k2, err := LoadOrCreateKey("", path)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load differs: %v", err)
	}
	if _, err := LoadOrCreateKey("bm90LWEta2V5", path); err == nil {
		t.Fatal("short configured key accepted")
	}
}

func TestTokens(t *testing.T) {
	a, _ := NewToken("rmh")
	b, _ := NewToken("rmh")
	if a == b || !strings.HasPrefix(a, "rmh_") || len(a) < 40 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if HashToken(a) == HashToken(b) || len(HashToken(a)) != 64 {
		t.Fatal("hash")
	}
}
