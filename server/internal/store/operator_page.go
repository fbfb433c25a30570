package store

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// Page limits of every operator listing.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 500
)

// PageRequest asks for one page of a listing. Cursor is the opaque NextCursor of the
// previous page ("" for the first one). Every listing is keyset-paginated: a page costs
// the same whether it is the first or the hundredth, and rows inserted meanwhile do not
// shift later pages.
type PageRequest struct {
	Limit  int
	Cursor string
}

func (p PageRequest) limit() int {
	switch {
	case p.Limit <= 0:
		return DefaultPageLimit
	case p.Limit > MaxPageLimit:
		return MaxPageLimit
	}
	return p.Limit
}

// cursor is the position after the last row of a page: its sort value and its id.
type cursor struct {
	V string `json:"v"`
	I string `json:"i"`
}

func encodeCursor(v, id string) string {
	b, _ := json.Marshal(cursor{V: v, I: id})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, bool, error) {
	if s == "" {
		return cursor{}, false, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(raw) > 2048 {
		return cursor{}, false, fmt.Errorf("%w: cursor is not one this server issued", ErrInvalidArgument)
	}
	var c cursor
	if err := json.Unmarshal(raw, &c); err != nil || c.I == "" {
		return cursor{}, false, fmt.Errorf("%w: cursor is not one this server issued", ErrInvalidArgument)
	}
	return c, true, nil
}

func cursorTime(c cursor) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, c.V)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: cursor is not one this server issued", ErrInvalidArgument)
	}
	return t.UTC(), nil
}

func timeKey(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// epoch stands in for a NULL time in sort keys (hosts never seen sort first).
var epoch = time.Unix(0, 0).UTC()
