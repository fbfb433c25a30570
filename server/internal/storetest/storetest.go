// Package storetest provisions real databases for tests: a fresh PostgreSQL database
// per test inside the server named by TEST_DATABASE_URL (default: the local server on
// 127.0.0.1:5432), or a fresh embedded SQLite file.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/restic-manager/restic-manager/server/internal/secrets"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// DefaultURL is used when TEST_DATABASE_URL is not set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Dialects to run a suite against.
var Dialects = []string{store.DialectPostgres, store.DialectSQLite}

// AdminURL returns the URL of the PostgreSQL server tests may create databases in.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// NewPostgresDB creates an empty database and drops it when the test ends. It returns
// its URL. A test that asks for PostgreSQL fails when none is reachable: tests never
// silently skip the real database.
func NewPostgresDB(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin := AdminURL()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("storetest: PostgreSQL at %s is not reachable (run the tests with scripts/test.sh, which provisions one): %v", redact(admin), err)
	}
	defer conn.Close(context.Background())
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "rmtest_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("storetest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("storetest: drop %s: %v", name, err)
			return
		}
		defer c.Close(context.Background())
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("storetest: drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("storetest: parse %s: %v", redact(admin), err)
	}
	u.Path = "/" + name
	return u.String()
}

// Box returns a secrets box with a fixed test key.
func Box(t testing.TB) *secrets.Box {
	t.Helper()
	box, err := secrets.NewBox(bytes.Repeat([]byte{42}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// Open returns a migrated store of the given dialect on a fresh database.
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	opts := store.Options{Box: Box(t)}
	switch dialect {
	case store.DialectPostgres:
		opts.DatabaseURL = NewPostgresDB(t)
	case store.DialectSQLite:
		opts.SQLitePath = filepath.Join(t.TempDir(), "rm.db")
	default:
		t.Fatalf("storetest: unknown dialect %q", dialect)
	}
	ctx := context.Background()
	s, err := store.Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

// Must returns v, and panics on an error: for test set-up steps that cannot fail
// unless something is badly broken (the panic fails the test binary with a trace).
func Must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Errorf("storetest: unexpected error: %w", err))
	}
	return v
}
