package auth_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/server/internal/auth"
	"github.com/restic-manager/restic-manager/server/internal/secrets"
	"github.com/restic-manager/restic-manager/server/internal/store"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

func TestPasswordHashing(t *testing.T) {
	ctx := context.Background()
	h := auth.NewHasher(auth.DefaultParams, 2)
	enc, err := h.Hash(ctx, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(enc, "correct") {
		t.Fatalf("hash: %s", enc)
	}
	if enc2, _ := h.Hash(ctx, "correct horse battery"); enc2 == enc {
		t.Fatal("no salt")
	}
	if ok, rehash, err := h.Verify(ctx, enc, "correct horse battery"); !ok || rehash || err != nil {
		t.Fatalf("verify: %v %v %v", ok, rehash, err)
	}
	if ok, _, _ := h.Verify(ctx, enc, "correct horse batterY"); ok {
		t.Fatal("wrong password accepted")
	}
	// A hash made with other parameters verifies and asks for a rehash.
	cheap := auth.NewHasher(auth.Params{Memory: 8 * 1024, Iterations: 1, Parallelism: 1, SaltLen: 16, KeyLen: 32}, 1)
	old, _ := cheap.Hash(ctx, "pw-with-old-params")
	if ok, rehash, _ := h.Verify(ctx, old, "pw-with-old-params"); !ok || !rehash {
		t.Fatalf("old params: ok=%v rehash=%v", ok, rehash)
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=1,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5", "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$a2V5a2V5a2V5a2V5a2V5"} {
		if _, _, err := h.Verify(ctx, bad, "x"); !errors.Is(err, auth.ErrMalformedHash) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	for pw, ok := range map[string]bool{"short": false, "twelve chars": true, "            ": false, strings.Repeat("x", 2000): false} {
		if err := auth.ValidatePassword(pw); (err == nil) != ok {
			t.Errorf("ValidatePassword(%.20q) = %v", pw, err)
		}
	}
}

func TestLimiter(t *testing.T) {
	l := auth.NewLimiter(3, 100*time.Millisecond)
	for range 3 {
		if blocked, _ := l.Blocked("k"); blocked {
			t.Fatal("blocked too early")
		}
		l.Fail("k")
	}
	blocked, wait := l.Blocked("k")
	if !blocked || wait <= 0 || wait > 100*time.Millisecond {
		t.Fatalf("blocked=%v wait=%s", blocked, wait)
	}
	if b, _ := l.Blocked("other"); b {
		t.Fatal("keys are not separate")
	}
	time.Sleep(120 * time.Millisecond)
	if b, _ := l.Blocked("k"); b {
		t.Fatal("the window did not slide")
	}
	l.Fail("k")
	l.Reset("k")
	if b, _ := l.Blocked("k"); b {
		t.Fatal("reset")
	}
}

func TestBootstrap(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s := storetest.Open(t, d)
			var logs bytes.Buffer
			a := auth.New(auth.Config{}, s, slog.New(slog.NewTextHandler(&logs, nil)))
			if err := a.Bootstrap(ctx, "", "", "https://rm.example.test/"); err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`setup_token=(rmsetup_[A-Za-z0-9_-]+)`).FindStringSubmatch(logs.String())
			if m == nil || !strings.Contains(logs.String(), `setup_url="https://rm.example.test/setup?token=`+m[1]+`"`) {
				t.Fatalf("no setup token logged: %s", logs.String())
			}
			if _, err := s.CreateFirstAdmin(ctx, store.NewUser{Email: "a@example.test", PasswordHash: "h"}, secrets.HashToken(m[1])); err != nil {
				t.Fatalf("logged token does not work: %v", err)
			}
			// Once an account exists, nothing happens (and no password is ever invented).
			logs.Reset()
			if err := a.Bootstrap(ctx, "b@example.test", "a-long-password", ""); err != nil || logs.Len() != 0 {
				t.Fatalf("second bootstrap: %v %s", err, logs.String())
			}
			if n, _ := s.CountUsers(ctx); n != 1 {
				t.Fatalf("%d users", n)
			}
		})
	}
}

func TestBootstrapFromConfig(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, store.DialectSQLite)
	a := auth.New(auth.Config{}, s, slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)))
	if err := a.Bootstrap(ctx, "root@example.test", "short", ""); err == nil {
		t.Fatal("a weak configured password was accepted")
	}
	if err := a.Bootstrap(ctx, "root@example.test", "a-long-password", ""); err != nil {
		t.Fatal(err)
	}
	u, err := s.UserByEmail(ctx, "root@example.test")
	if err != nil || u.Role != store.RoleAdmin {
		t.Fatalf("admin: %+v %v", u, err)
	}
	res, err := a.Login(ctx, "root@example.test", "a-long-password", "127.0.0.1", "test")
	if err != nil || res.Token == "" || res.CSRFToken == "" {
		t.Fatalf("login: %v", err)
	}
}
