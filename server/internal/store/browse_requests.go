package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// Statuses of a browse request. Succeeded, failed and cancelled are final.
const (
	BrowsePending   = "pending" // waiting for the agent
	BrowseRunning   = "running" // the agent reported something
	BrowseSucceeded = protocol.BrowseSucceeded
	BrowseFailed    = protocol.BrowseFailed
	BrowseCancelled = protocol.BrowseCancelled
)

// Error codes of browse requests the server fails itself (besides protocol.BrowseErr*).
const (
	BrowseErrRejected = "rejected" // the agent refused the command (too old, invalid)
	BrowseErrNoAnswer = "no_answer"
)

// BrowseParams are what a browse request asks for.
type BrowseParams struct {
	Snapshot  string   `json:"snapshot,omitempty"`
	Snapshot2 string   `json:"snapshot2,omitempty"`
	Path      string   `json:"path,omitempty"`
	Patterns  []string `json:"patterns,omitempty"`
	Archive   string   `json:"archive,omitempty"`
}

// BrowseRequest is one ls, index, find, diff or dump asked of a host's agent.
type BrowseRequest struct {
	ID           string `gorm:"primaryKey"`
	HostID       string
	RepositoryID string
	Kind         string
	CacheKey     string
	Params       BrowseParams `gorm:"serializer:json"`
	Status       string
	ErrorCode    string
	Error        string
	Result       json.RawMessage `gorm:"serializer:json"`
	ActorType    string
	ActorID      string
	CreatedAt    time.Time
	UpdatedAt    time.Time
	FinishedAt   *time.Time
	ExpiresAt    time.Time
}

// Done reports whether the request has its final status.
func (r BrowseRequest) Done() bool { return r.FinishedAt != nil }

// NewBrowseRequest is a request to create with its command.
type NewBrowseRequest struct {
	HostID       string
	RepositoryID string
	Kind         string
	CacheKey     string
	Params       BrowseParams
	ActorType    string
	ActorID      string
	// TTL is how long the request may go without news before it fails.
	TTL time.Duration
	// Spec is the command's browse spec; its request id and repository are filled in.
	Spec protocol.BrowseSpec
}

// CreateBrowseRequest stores a request and its command.browse, atomically. The command
// carries the repository's secrets (sealed in the repository row, opened here).
func (s *Store) CreateBrowseRequest(ctx context.Context, in NewBrowseRequest) (BrowseRequest, Command, error) {
	now := s.now()
	req := BrowseRequest{ID: uuid.NewString(), HostID: in.HostID, RepositoryID: in.RepositoryID, Kind: in.Kind,
		CacheKey: in.CacheKey, Params: in.Params, Status: BrowsePending, ActorType: in.ActorType, ActorID: in.ActorID,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(in.TTL)}
	var cmd Command
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		cmd, err = s.insertBrowse(tx, &req, in.Spec, now)
		return err
	})
	return req, cmd, err
}

// insertBrowse inserts a request and its command in tx.
func (s *Store) insertBrowse(tx *gorm.DB, req *BrowseRequest, spec protocol.BrowseSpec, now time.Time) (Command, error) {
	var r Repository
	if err := tx.Where("id = ? AND host_id = ?", req.RepositoryID, req.HostID).Take(&r).Error; err != nil {
		return Command{}, notFound(err)
	}
	wr, err := s.WireRepository(r)
	if err != nil {
		return Command{}, err
	}
	if err := tx.Create(req).Error; err != nil {
		return Command{}, fmt.Errorf("store: create browse request: %w", err)
	}
	spec.RequestID, spec.Repository = req.ID, wr
	return insertCommand(tx, req.HostID, protocol.CommandBrowse, req.ID, protocol.Command{Browse: &spec}, now)
}

// LatestBrowseRequest returns the newest request of a repository with this cache key
// created at or after since, ErrNotFound when there is none.
func (s *Store) LatestBrowseRequest(ctx context.Context, repoID, cacheKey string, since time.Time) (BrowseRequest, error) {
	var r BrowseRequest
	err := s.db.WithContext(ctx).Where("repository_id = ? AND cache_key = ? AND created_at >= ?", repoID, cacheKey, since.UTC()).
		Order("created_at DESC").Take(&r).Error
	return r, notFound(err)
}

// BrowseRequest loads a request.
func (s *Store) BrowseRequest(ctx context.Context, id string) (BrowseRequest, error) {
	var r BrowseRequest
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return BrowseRequest{}, notFound(err)
	}
	return r, nil
}

// openBrowse loads a request of the host for an agent report and keeps it alive for
// idle more. A finished (or expired) request answers ErrJobFinished: the agent stops.
func (s *Store) openBrowse(tx *gorm.DB, hostID, id string, idle time.Duration) (BrowseRequest, error) {
	var r BrowseRequest
	q := tx.Where("id = ? AND host_id = ?", id, hostID)
	if s.dialect == DialectPostgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	if err := q.Take(&r).Error; err != nil {
		return BrowseRequest{}, notFound(err)
	}
	now := s.now()
	if r.Done() || now.After(r.ExpiresAt) {
		return r, ErrJobFinished
	}
	updates := map[string]any{"status": BrowseRunning, "updated_at": now}
	if until := now.Add(idle); until.After(r.ExpiresAt) {
		updates["expires_at"] = until
	}
	if err := tx.Model(&BrowseRequest{}).Where("id = ?", id).Updates(updates).Error; err != nil {
		return BrowseRequest{}, fmt.Errorf("store: browse request: %w", err)
	}
	return r, nil
}

// TouchBrowseRequest records a report of the agent (the request runs) and keeps it alive
// for idle more. ErrJobFinished: the request is over, the agent should stop.
func (s *Store) TouchBrowseRequest(ctx context.Context, hostID, id string, idle time.Duration) (BrowseRequest, error) {
	var r BrowseRequest
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		r, err = s.openBrowse(tx, hostID, id, idle)
		return err
	})
	return r, err
}

// FinishBrowseRequest records the agent's finish report. The first finish wins; a repeat
// returns the recorded request. result is the find or diff result (nil otherwise). An
// index's snapshot becomes ready (or failed); a download gets its size and checksum.
func (s *Store) FinishBrowseRequest(ctx context.Context, hostID, id string, fin protocol.BrowseFinish, result json.RawMessage) (BrowseRequest, error) {
	now := s.now()
	var r BrowseRequest
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ? AND host_id = ?", id, hostID).Take(&r).Error; err != nil {
			return notFound(err)
		}
		if r.Done() {
			return nil
		}
		updates := map[string]any{"status": fin.Status, "error_code": truncate(fin.ErrorCode, 64), "error": truncate(fin.Error, 4000),
			"updated_at": now, "finished_at": now}
		if len(result) > 0 {
			updates["result"] = string(result)
		}
		res := tx.Model(&BrowseRequest{}).Where("id = ? AND finished_at IS NULL", id).Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("store: finish browse request: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		switch r.Kind {
		case protocol.BrowseIndex:
			up := map[string]any{"index_state": IndexFailed, "index_error": truncate(fin.Error, 4000)}
			if fin.Status == protocol.BrowseSucceeded {
				up = map[string]any{"index_state": IndexReady, "index_error": "", "indexed_at": now, "dirs": fin.Dirs, "entries": fin.Entries}
			}
			if err := tx.Model(&BrowseSnapshot{}).Where("repository_id = ? AND snapshot_id = ? AND index_request = ?",
				r.RepositoryID, r.Params.Snapshot, r.ID).Updates(up).Error; err != nil {
				return fmt.Errorf("store: index state: %w", err)
			}
		case protocol.BrowseDump:
			if fin.Status == protocol.BrowseSucceeded {
				var d Download
				if err := tx.Where("id = ?", id).Take(&d).Error; err != nil {
					return notFound(err)
				}
				if d.Received != fin.Size {
					// The agent sent fewer bytes than it says: the download is broken.
					return tx.Model(&BrowseRequest{}).Where("id = ?", id).Updates(map[string]any{"status": BrowseFailed,
						"error_code": protocol.BrowseErrRestic, "error": fmt.Sprintf("the server holds %d bytes, the agent sent %d", d.Received, fin.Size)}).Error
				}
				if err := tx.Model(&Download{}).Where("id = ?", id).Updates(map[string]any{"total_size": fin.Size, "sha256": fin.SHA256}).Error; err != nil {
					return fmt.Errorf("store: finish download: %w", err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return BrowseRequest{}, err
	}
	return s.BrowseRequest(ctx, id)
}

// FailBrowseRequest ends an unfinished request with an error (the agent rejected it, or
// it expired); its command, if still undelivered or unacknowledged, is withdrawn.
func (s *Store) FailBrowseRequest(ctx context.Context, id, code, msg string) error {
	return s.tx(ctx, func(tx *gorm.DB) error { return s.failBrowse(tx, id, code, msg) })
}

func (s *Store) failBrowse(tx *gorm.DB, id, code, msg string) error {
	now := s.now()
	res := tx.Model(&BrowseRequest{}).Where("id = ? AND finished_at IS NULL", id).Updates(map[string]any{
		"status": BrowseFailed, "error_code": code, "error": truncate(msg, 4000), "updated_at": now, "finished_at": now})
	if res.Error != nil {
		return fmt.Errorf("store: fail browse request: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return nil
	}
	if err := tx.Model(&BrowseSnapshot{}).Where("index_request = ? AND index_state = ?", id, IndexBuilding).
		Updates(map[string]any{"index_state": IndexFailed, "index_error": truncate(msg, 4000)}).Error; err != nil {
		return fmt.Errorf("store: fail index: %w", err)
	}
	return tx.Model(&Command{}).Where("job_id = ? AND type = ? AND acked_at IS NULL", id, protocol.CommandBrowse).
		Updates(map[string]any{"acked_at": now, "ack_status": protocol.CommandRejected, "ack_reason": "withdrawn: " + code}).Error
}

// CancelBrowseRequest ends an unfinished request as cancelled; the agent hears it in the
// answer to its next report.
func (s *Store) CancelBrowseRequest(ctx context.Context, id, reason string) error {
	now := s.now()
	return s.tx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&BrowseRequest{}).Where("id = ? AND finished_at IS NULL", id).Updates(map[string]any{
			"status": BrowseCancelled, "error": truncate(reason, 4000), "updated_at": now, "finished_at": now})
		if res.Error != nil {
			return fmt.Errorf("store: cancel browse request: %w", res.Error)
		}
		return tx.Model(&Command{}).Where("job_id = ? AND type = ? AND acked_at IS NULL", id, protocol.CommandBrowse).
			Updates(map[string]any{"acked_at": now, "ack_status": protocol.CommandRejected, "ack_reason": "withdrawn: cancelled"}).Error
	})
}

// ExpireBrowseRequests fails the unfinished requests past their expiry and returns their
// ids (to wake whoever waits for them).
func (s *Store) ExpireBrowseRequests(ctx context.Context) ([]string, error) {
	var ids []string
	if err := s.db.WithContext(ctx).Model(&BrowseRequest{}).Where("finished_at IS NULL AND expires_at < ?", s.now()).
		Limit(1000).Pluck("id", &ids).Error; err != nil {
		return nil, fmt.Errorf("store: expired browse requests: %w", err)
	}
	for _, id := range ids {
		if err := s.FailBrowseRequest(ctx, id, BrowseErrNoAnswer, "the host's agent did not answer in time (is it online?)"); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// PurgeBrowseRequests deletes finished requests older than before that are not downloads
// (those go with their download) and keep no cached result worth keeping: ls and index
// requests (their data lives in the listing cache) and failed ones.
func (s *Store) PurgeBrowseRequests(ctx context.Context, before time.Time) error {
	err := s.db.WithContext(ctx).Where("finished_at IS NOT NULL AND finished_at < ? AND kind <> ? AND (kind IN ? OR status <> ?)",
		before.UTC(), protocol.BrowseDump, []string{protocol.BrowseLs, protocol.BrowseIndex}, BrowseSucceeded).Delete(&BrowseRequest{}).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return fmt.Errorf("store: purge browse requests: %w", err)
	}
	return nil
}
