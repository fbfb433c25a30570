package store

import (
	"context"
	"fmt"
)

// ListSnapshots lists a repository's snapshots newest first, keyset-paginated on
// (time, snapshot id).
func (s *Store) ListSnapshots(ctx context.Context, hostID, repoID string, page PageRequest) ([]Snapshot, string, error) {
	c, ok, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Snapshot{}).Where("repository_id = ? AND host_id = ?", repoID, hostID)
	if ok {
		t, err := cursorTime(c)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("(time, snapshot_id) < (?, ?)", t, c.I)
	}
	limit := page.limit()
	var out []Snapshot
	if err := q.Order("time DESC, snapshot_id DESC").Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, "", fmt.Errorf("store: list snapshots: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor(timeKey(out[limit-1].Time), out[limit-1].SnapshotID)
	}
	return out, next, nil
}
