package store

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// ChunkEntries is how many entries of a directory one cached chunk holds. The agent cuts
// its directory parts at multiples of it (BrowseSpec.ChunkEntries).
const ChunkEntries = 1000

// Index states of a snapshot.
const (
	IndexNone     = ""
	IndexBuilding = "building"
	IndexReady    = "ready"
	IndexFailed   = "failed"
)

// BrowseSnapshot is a snapshot with cached listings.
type BrowseSnapshot struct {
	ID           int64 `gorm:"primaryKey"`
	RepositoryID string
	SnapshotID   string
	IndexState   string
	IndexRequest string
	IndexError   string
	IndexedAt    *time.Time
	Dirs         int64
	Entries      int64
	CreatedAt    time.Time
}

// BrowseDir is a directory whose listing is complete.
type BrowseDir struct {
	SnapshotKey int64  `gorm:"primaryKey"`
	Path        string `gorm:"primaryKey"`
	Total       int64
	CreatedAt   time.Time
}

// BrowseChunk holds up to ChunkEntries entries of a directory, gzip'd JSON.
type BrowseChunk struct {
	SnapshotKey int64  `gorm:"primaryKey"`
	Path        string `gorm:"primaryKey"`
	Chunk       int    `gorm:"primaryKey"`
	Count       int
	Data        []byte
}

// ResolveSnapshot finds a snapshot of a repository of a host by its full or short id.
func (s *Store) ResolveSnapshot(ctx context.Context, hostID, repoID, id string) (Snapshot, error) {
	var sn Snapshot
	q := s.db.WithContext(ctx).Where("repository_id = ? AND host_id = ?", repoID, hostID)
	if len(id) == 64 {
		q = q.Where("snapshot_id = ?", id)
	} else {
		q = q.Where("snapshot_id = ? OR short_id = ? OR snapshot_id LIKE ?", id, id, id+"%")
	}
	if err := q.Order("time DESC").Take(&sn).Error; err != nil {
		return Snapshot{}, notFound(err)
	}
	return sn, nil
}

// BrowseSnapshotOf returns the cache row of a snapshot, creating it when create is set
// (ErrNotFound otherwise).
func (s *Store) BrowseSnapshotOf(ctx context.Context, repoID, snapshotID string, create bool) (BrowseSnapshot, error) {
	return s.browseSnapshot(s.db.WithContext(ctx), repoID, snapshotID, create)
}

func (s *Store) browseSnapshot(tx *gorm.DB, repoID, snapshotID string, create bool) (BrowseSnapshot, error) {
	var bs BrowseSnapshot
	err := tx.Where("repository_id = ? AND snapshot_id = ?", repoID, snapshotID).Take(&bs).Error
	if err == nil || !errors.Is(err, gorm.ErrRecordNotFound) || !create {
		return bs, notFound(err)
	}
	bs = BrowseSnapshot{RepositoryID: repoID, SnapshotID: snapshotID, CreatedAt: s.now()}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&bs).Error; err != nil {
		return BrowseSnapshot{}, fmt.Errorf("store: browse snapshot: %w", err)
	}
	err = tx.Where("repository_id = ? AND snapshot_id = ?", repoID, snapshotID).Take(&bs).Error
	return bs, notFound(err)
}

// StartIndex marks a snapshot's index as being built by a request, unless it is ready or
// another build runs. It returns the snapshot row; started says whether request is now
// the builder.
func (s *Store) StartIndex(ctx context.Context, repoID, snapshotID string, req NewBrowseRequest) (BrowseSnapshot, BrowseRequest, *Command, error) {
	var (
		bs  BrowseSnapshot
		br  BrowseRequest
		cmd *Command
	)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if bs, err = s.browseSnapshot(tx, repoID, snapshotID, true); err != nil {
			return err
		}
		q := tx.Where("id = ?", bs.ID)
		if s.dialect == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&bs).Error; err != nil {
			return notFound(err)
		}
		if bs.IndexState == IndexReady {
			return nil
		}
		if bs.IndexState == IndexBuilding {
			var cur BrowseRequest
			if err := tx.Where("id = ?", bs.IndexRequest).Take(&cur).Error; err == nil && !cur.Done() && s.now().Before(cur.ExpiresAt) {
				br = cur
				return nil
			}
		}
		now := s.now()
		br = BrowseRequest{ID: uuid.NewString(), HostID: req.HostID, RepositoryID: req.RepositoryID, Kind: protocol.BrowseIndex,
			CacheKey: req.CacheKey, Params: req.Params, Status: BrowsePending, ActorType: req.ActorType, ActorID: req.ActorID,
			CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(req.TTL)}
		c, err := s.insertBrowse(tx, &br, req.Spec, now)
		if err != nil {
			return err
		}
		cmd = &c
		bs.IndexState, bs.IndexRequest, bs.IndexError = IndexBuilding, br.ID, ""
		return tx.Model(&BrowseSnapshot{}).Where("id = ?", bs.ID).Updates(map[string]any{
			"index_state": IndexBuilding, "index_request": br.ID, "index_error": ""}).Error
	})
	return bs, br, cmd, err
}

// PutBrowseParts stores directory parts an agent sent for one of its host's requests:
// each part becomes a chunk (idempotent on directory and offset), a last part completes
// its directory. The request's snapshot names the cache.
func (s *Store) PutBrowseParts(ctx context.Context, hostID, requestID string, parts []protocol.BrowseDirPart, idle time.Duration) (BrowseRequest, error) {
	type enc struct {
		part protocol.BrowseDirPart
		data []byte
	}
	encoded := make([]enc, 0, len(parts))
	for i, p := range parts {
		switch {
		case p.Offset < 0 || p.Offset%ChunkEntries != 0:
			return BrowseRequest{}, fmt.Errorf("%w: dirs[%d].offset %d is not a multiple of %d", ErrInvalidArgument, i, p.Offset, ChunkEntries)
		case len(p.Entries) > ChunkEntries:
			return BrowseRequest{}, fmt.Errorf("%w: dirs[%d] has more than %d entries", ErrInvalidArgument, i, ChunkEntries)
		case !p.Last && len(p.Entries) != ChunkEntries:
			return BrowseRequest{}, fmt.Errorf("%w: dirs[%d] is not the last part and has %d entries, not %d", ErrInvalidArgument, i, len(p.Entries), ChunkEntries)
		case p.Last && p.Total != p.Offset+int64(len(p.Entries)):
			return BrowseRequest{}, fmt.Errorf("%w: dirs[%d].total %d does not end the directory", ErrInvalidArgument, i, p.Total)
		}
		data, err := encodeEntries(p.Entries)
		if err != nil {
			return BrowseRequest{}, err
		}
		encoded = append(encoded, enc{p, data})
	}
	var r BrowseRequest
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if r, err = s.openBrowse(tx, hostID, requestID, idle); err != nil {
			return err
		}
		if r.Kind != protocol.BrowseLs && r.Kind != protocol.BrowseIndex {
			return fmt.Errorf("%w: a %s request sends no directories", ErrInvalidArgument, r.Kind)
		}
		bs, err := s.browseSnapshot(tx, r.RepositoryID, r.Params.Snapshot, true)
		if err != nil {
			return err
		}
		now := s.now()
		for _, e := range encoded {
			if e.part.Offset == 0 && len(e.part.Entries) == 0 && !e.part.Last {
				continue
			}
			if len(e.part.Entries) > 0 {
				ch := BrowseChunk{SnapshotKey: bs.ID, Path: e.part.Path, Chunk: int(e.part.Offset / ChunkEntries), Count: len(e.part.Entries), Data: e.data}
				if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&ch).Error; err != nil {
					return fmt.Errorf("store: browse chunk: %w", err)
				}
			}
			if e.part.Last {
				d := BrowseDir{SnapshotKey: bs.ID, Path: e.part.Path, Total: e.part.Total, CreatedAt: now}
				if err := tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&d).Error; err != nil {
					return fmt.Errorf("store: browse dir: %w", err)
				}
			}
		}
		return nil
	})
	return r, err
}

func encodeEntries(es []protocol.BrowseEntry) ([]byte, error) {
	if es == nil {
		es = []protocol.BrowseEntry{}
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err := json.NewEncoder(zw).Encode(es); err != nil {
		return nil, fmt.Errorf("store: encode entries: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("store: encode entries: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeEntries(data []byte) ([]protocol.BrowseEntry, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("store: decode entries: %w", err)
	}
	var es []protocol.BrowseEntry
	if err := json.NewDecoder(zr).Decode(&es); err != nil && err != io.EOF {
		return nil, fmt.Errorf("store: decode entries: %w", err)
	}
	return es, nil
}

// CachedDir returns a complete directory of a cached snapshot; ErrNotFound when its
// listing is not cached.
func (s *Store) CachedDir(ctx context.Context, snapshotKey int64, path string) (BrowseDir, error) {
	var d BrowseDir
	err := s.db.WithContext(ctx).Where("snapshot_key = ? AND path = ?", snapshotKey, path).Take(&d).Error
	return d, notFound(err)
}

// DirEntries returns entries [offset, offset+limit) of a cached directory.
func (s *Store) DirEntries(ctx context.Context, snapshotKey int64, path string, offset int64, limit int) ([]protocol.BrowseEntry, error) {
	if limit <= 0 || offset < 0 {
		return nil, nil
	}
	first, last := int(offset/ChunkEntries), int((offset+int64(limit)-1)/ChunkEntries)
	var chunks []BrowseChunk
	if err := s.db.WithContext(ctx).Where("snapshot_key = ? AND path = ? AND chunk BETWEEN ? AND ?", snapshotKey, path, first, last).
		Order("chunk").Find(&chunks).Error; err != nil {
		return nil, fmt.Errorf("store: dir entries: %w", err)
	}
	out := make([]protocol.BrowseEntry, 0, limit)
	for _, c := range chunks {
		es, err := decodeEntries(c.Data)
		if err != nil {
			return nil, err
		}
		base := int64(c.Chunk) * ChunkEntries
		for i, e := range es {
			if pos := base + int64(i); pos >= offset && len(out) < limit {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// IndexMatch is an entry found in a snapshot's index.
type IndexMatch struct {
	Dir string
	protocol.BrowseEntry
}

// SearchIndex walks the cached directories of a snapshot in (path, chunk) order from a
// position (after: "" or a cursor of a previous call) and returns up to limit entries
// match accepts, and the position to continue from ("" at the end). Only directories
// under prefix are read.
func (s *Store) SearchIndex(ctx context.Context, snapshotKey int64, prefix string, after string, limit int, match func(dir string, e protocol.BrowseEntry) bool) ([]IndexMatch, string, error) {
	c, hasCursor, err := decodeCursor(after)
	if err != nil {
		return nil, "", err
	}
	var startChunk, startIdx int
	startPath := ""
	if hasCursor {
		if _, err := fmt.Sscanf(c.I, "%d/%d", &startChunk, &startIdx); err != nil {
			return nil, "", fmt.Errorf("%w: cursor is not one this server issued", ErrInvalidArgument)
		}
		startPath = c.V
	}
	const batch = 200
	var out []IndexMatch
	for {
		q := s.db.WithContext(ctx).Model(&BrowseChunk{}).Where("snapshot_key = ?", snapshotKey)
		if prefix != "/" && prefix != "" {
			q = q.Where(`(path = ? OR path LIKE ? ESCAPE '\')`, prefix, escapeLike(prefix)+"/%")
		}
		if hasCursor {
			q = q.Where("(path > ? OR (path = ? AND chunk >= ?))", startPath, startPath, startChunk)
		}
		var chunks []BrowseChunk
		if err := q.Order("path, chunk").Limit(batch).Find(&chunks).Error; err != nil {
			return nil, "", fmt.Errorf("store: search index: %w", err)
		}
		for _, ch := range chunks {
			es, err := decodeEntries(ch.Data)
			if err != nil {
				return nil, "", err
			}
			from := 0
			if hasCursor && ch.Path == startPath && ch.Chunk == startChunk {
				from = startIdx
			}
			for i := from; i < len(es); i++ {
				if !match(ch.Path, es[i]) {
					continue
				}
				if len(out) == limit {
					return out, encodeCursor(ch.Path, fmt.Sprintf("%d/%d", ch.Chunk, i)), nil
				}
				out = append(out, IndexMatch{Dir: ch.Path, BrowseEntry: es[i]})
			}
		}
		if len(chunks) < batch {
			return out, "", nil
		}
		last := chunks[len(chunks)-1]
		startPath, startChunk, startIdx, hasCursor = last.Path, last.Chunk+1, 0, true
	}
}

// PurgeBrowseCache drops the cached listings of snapshots the repository no longer has.
func (s *Store) PurgeBrowseCache(ctx context.Context) error {
	err := s.db.WithContext(ctx).Where("NOT EXISTS (SELECT 1 FROM snapshots sn WHERE sn.repository_id = browse_snapshots.repository_id AND sn.snapshot_id = browse_snapshots.snapshot_id)").
		Where("created_at < ?", s.now().Add(-time.Hour)).Delete(&BrowseSnapshot{}).Error
	if err != nil {
		return fmt.Errorf("store: purge browse cache: %w", err)
	}
	return nil
}
