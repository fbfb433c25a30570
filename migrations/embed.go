// Package migrations holds the versioned SQL schema, one folder per dialect, applied
// forward-only with goose at server start-up and by `server migrate`.
package migrations

import "embed"

// Postgres holds the PostgreSQL migrations under postgres/.
//
//go:embed postgres/*.sql
var Postgres embed.FS

// SQLite holds the embedded-SQLite migrations under sqlite/.
//
//go:embed sqlite/*.sql
var SQLite embed.FS
