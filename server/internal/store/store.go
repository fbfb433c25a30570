// Package store keeps Restic Manager's state in PostgreSQL or in an embedded SQLite
// database, through GORM. The schema comes from the versioned SQL migrations in
// /migrations; this package never auto-migrates.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/pressly/goose/v3"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/restic-manager/restic-manager/migrations"
	"github.com/restic-manager/restic-manager/server/internal/secrets"
)

// Dialects.
const (
	DialectPostgres = "postgres"
	DialectSQLite   = "sqlite"
)

// Sentinel errors. Callers test them with errors.Is.
var (
	ErrNotFound        = errors.New("not found")
	ErrConflict        = errors.New("conflict")
	ErrJobFinished     = errors.New("job already finished")
	ErrTokenInvalid    = errors.New("enrollment token invalid, expired or used up")
	ErrInvalidArgument = errors.New("invalid argument")
)

// Store is the server's persistence.
type Store struct {
	db      *gorm.DB
	dialect string
	box     *secrets.Box
	now     func() time.Time
	queries *atomic.Int64
}

// Options configure Open.
type Options struct {
	// DatabaseURL is a postgres:// URL; empty selects SQLite at SQLitePath.
	DatabaseURL string
	SQLitePath  string
	Box         *secrets.Box
	Logger      *slog.Logger
	// MaxOpenConns bounds the PostgreSQL pool (default 20).
	MaxOpenConns int
}

// Open connects to the database. It does not migrate: call Migrate.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.Box == nil {
		return nil, fmt.Errorf("store: a secrets box is required")
	}
	cfg := &gorm.Config{
		TranslateError:         true,
		Logger:                 logger.Discard,
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	var (
		db      *gorm.DB
		err     error
		dialect string
	)
	if opts.DatabaseURL != "" {
		dialect = DialectPostgres
		db, err = gorm.Open(postgres.Open(opts.DatabaseURL), cfg)
	} else {
		dialect = DialectSQLite
		if opts.SQLitePath == "" {
			return nil, fmt.Errorf("store: no database URL and no SQLite path")
		}
		dsn := "file:" + opts.SQLitePath + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
		db, err = gorm.Open(sqlite.Open(dsn), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dialect, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if dialect == DialectSQLite {
		// One writer at a time avoids "database is locked"; WAL lets readers go on.
		sqlDB.SetMaxOpenConns(1)
	} else {
		n := opts.MaxOpenConns
		if n <= 0 {
			n = 20
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("store: ping %s: %w", dialect, err)
	}
	s := &Store{db: db, dialect: dialect, box: opts.Box, now: func() time.Time { return time.Now().UTC() }, queries: new(atomic.Int64)}
	if err := s.countStatements(); err != nil {
		return nil, err
	}
	return s, nil
}

// countStatements counts every statement GORM runs, for tests and benchmarks that
// prove which paths touch the database.
func (s *Store) countStatements() error {
	count := func(*gorm.DB) { s.queries.Add(1) }
	cb := s.db.Callback()
	for name, err := range map[string]error{
		"create": cb.Create().After("gorm:create").Register("rm:count", count),
		"query":  cb.Query().After("gorm:query").Register("rm:count", count),
		"update": cb.Update().After("gorm:update").Register("rm:count", count),
		"delete": cb.Delete().After("gorm:delete").Register("rm:count", count),
		"row":    cb.Row().After("gorm:row").Register("rm:count", count),
		"raw":    cb.Raw().After("gorm:raw").Register("rm:count", count),
	} {
		if err != nil {
			return fmt.Errorf("store: register %s counter: %w", name, err)
		}
	}
	return nil
}

// Statements returns how many statements this store has run.
func (s *Store) Statements() int64 { return s.queries.Load() }

// Dialect returns DialectPostgres or DialectSQLite.
func (s *Store) Dialect() string { return s.dialect }

// Close releases the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return sqlDB.Close()
}

// SQLDB exposes the pool for health checks and benchmarks.
func (s *Store) SQLDB() (*sql.DB, error) { return s.db.DB() }

// Migrate applies every pending migration, forward only, and returns the schema version.
func (s *Store) Migrate(ctx context.Context) (int64, error) {
	sqlDB, err := s.db.DB()
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	var (
		fsys    fs.FS
		dialect goose.Dialect
	)
	if s.dialect == DialectPostgres {
		fsys, err = fs.Sub(migrations.Postgres, "postgres")
		dialect = goose.DialectPostgres
	} else {
		fsys, err = fs.Sub(migrations.SQLite, "sqlite")
		dialect = goose.DialectSQLite3
	}
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	provider, err := goose.NewProvider(dialect, sqlDB, fsys)
	if err != nil {
		return 0, fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := provider.Up(ctx); err != nil {
		return 0, fmt.Errorf("store: migrate: %w", err)
	}
	v, err := provider.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("store: migration version: %w", err)
	}
	return v, nil
}

func (s *Store) tx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.db.WithContext(ctx).Transaction(fn)
}

// notFound maps gorm's not-found to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ErrNotFound
	}
	return err
}

func isUniqueViolation(err error) bool {
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		return true
	}
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "unique")
}

func isForeignKeyViolation(err error) bool {
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return true
	}
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "foreign key")
}

// readOnlyTx returns transaction options for a consistent read.
func readOnlyTx(dialect string) *sql.TxOptions {
	if dialect == DialectPostgres {
		return &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	}
	return nil
}
