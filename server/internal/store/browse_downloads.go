package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/secrets"
)

// ErrTicketInvalid: an unknown, expired or already used download ticket.
var ErrTicketInvalid = errors.New("download ticket invalid, expired or already used")

// ErrOffsetMismatch: a download chunk that does not continue the bytes held.
var ErrOffsetMismatch = errors.New("download chunk does not continue the bytes held")

// Download is the byte side of a dump request (same id): what is relayed from the
// agent to the browser through the database.
type Download struct {
	ID         string `gorm:"primaryKey"`
	SnapshotID string
	Path       string
	Archive    string
	NodeType   string
	TotalSize  *int64
	Received   int64
	SHA256     string `gorm:"column:sha256"`
	MaxBytes   int64
	ConsumedAt *time.Time
	ExpiresAt  time.Time
}

// DownloadChunk is a run of a download's bytes starting at Pos.
type DownloadChunk struct {
	DownloadID string `gorm:"primaryKey"`
	Pos        int64  `gorm:"primaryKey"`
	Data       []byte
}

// DownloadTicket authorises one fetch of a download's bytes.
type DownloadTicket struct {
	TokenHash  string `gorm:"primaryKey"`
	DownloadID string
	CreatedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
}

// NewDownload creates a dump request, its download and a first ticket.
type NewDownload struct {
	Request   NewBrowseRequest
	MaxBytes  int64
	Retention time.Duration // the bytes are kept this long
	TicketTTL time.Duration
	CreatedBy string
}

// CreateDownload stores a dump request with its command, its download row and a ticket,
// atomically, and returns the ticket (shown once; only its hash is kept).
func (s *Store) CreateDownload(ctx context.Context, in NewDownload) (BrowseRequest, Download, Command, string, error) {
	now := s.now()
	r := in.Request
	req := BrowseRequest{ID: uuid.NewString(), HostID: r.HostID, RepositoryID: r.RepositoryID, Kind: protocol.BrowseDump,
		CacheKey: r.CacheKey, Params: r.Params, Status: BrowsePending, ActorType: r.ActorType, ActorID: r.ActorID,
		CreatedAt: now, UpdatedAt: now, ExpiresAt: now.Add(r.TTL)}
	d := Download{ID: req.ID, SnapshotID: r.Params.Snapshot, Path: r.Params.Path, Archive: r.Params.Archive,
		MaxBytes: in.MaxBytes, ExpiresAt: now.Add(in.Retention)}
	ticket, err := secrets.NewToken("rmdl")
	if err != nil {
		return BrowseRequest{}, Download{}, Command{}, "", err
	}
	var cmd Command
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var err error
		if cmd, err = s.insertBrowse(tx, &req, r.Spec, now); err != nil {
			return err
		}
		if err := tx.Create(&d).Error; err != nil {
			return fmt.Errorf("store: create download: %w", err)
		}
		t := DownloadTicket{TokenHash: secrets.HashToken(ticket), DownloadID: d.ID, CreatedBy: in.CreatedBy, CreatedAt: now, ExpiresAt: now.Add(in.TicketTTL)}
		if err := tx.Create(&t).Error; err != nil {
			return fmt.Errorf("store: create download ticket: %w", err)
		}
		return nil
	})
	if err != nil {
		return BrowseRequest{}, Download{}, Command{}, "", err
	}
	return req, d, cmd, ticket, nil
}

// AddDownloadTicket makes a new ticket for a download (to resume it) and returns it.
func (s *Store) AddDownloadTicket(ctx context.Context, downloadID, createdBy string, ttl time.Duration) (string, time.Time, error) {
	ticket, err := secrets.NewToken("rmdl")
	if err != nil {
		return "", time.Time{}, err
	}
	now := s.now()
	t := DownloadTicket{TokenHash: secrets.HashToken(ticket), DownloadID: downloadID, CreatedBy: createdBy, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.db.WithContext(ctx).Create(&t).Error; err != nil {
		if isForeignKeyViolation(err) {
			return "", time.Time{}, ErrNotFound
		}
		return "", time.Time{}, fmt.Errorf("store: create download ticket: %w", err)
	}
	return ticket, t.ExpiresAt, nil
}

// RedeemDownloadTicket uses a ticket of a download up, atomically: a ticket works once.
func (s *Store) RedeemDownloadTicket(ctx context.Context, downloadID, ticket string) error {
	now := s.now()
	res := s.db.WithContext(ctx).Model(&DownloadTicket{}).
		Where("token_hash = ? AND download_id = ? AND used_at IS NULL AND expires_at > ?", secrets.HashToken(ticket), downloadID, now).
		Update("used_at", now)
	if res.Error != nil {
		return fmt.Errorf("store: redeem download ticket: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return ErrTicketInvalid
	}
	return nil
}

// Download loads a download and its request.
func (s *Store) Download(ctx context.Context, id string) (Download, BrowseRequest, error) {
	var d Download
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&d).Error; err != nil {
		return Download{}, BrowseRequest{}, notFound(err)
	}
	r, err := s.BrowseRequest(ctx, id)
	return d, r, err
}

// StartDownload records what the agent's dump sends (a file of a known size, or an
// archive). A file over the limit fails the request (the agent is told to stop).
func (s *Store) StartDownload(ctx context.Context, hostID, id string, st protocol.DownloadStart, idle time.Duration) error {
	over := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		r, err := s.openBrowse(tx, hostID, id, idle)
		if err != nil {
			return err
		}
		if r.Kind != protocol.BrowseDump {
			return fmt.Errorf("%w: not a download", ErrInvalidArgument)
		}
		var d Download
		if err := tx.Where("id = ?", id).Take(&d).Error; err != nil {
			return notFound(err)
		}
		up := map[string]any{"node_type": st.Type}
		if st.Type == "file" {
			up["total_size"] = st.Size
		}
		if err := tx.Model(&Download{}).Where("id = ?", id).Updates(up).Error; err != nil {
			return fmt.Errorf("store: start download: %w", err)
		}
		if st.Type == "file" && st.Size > d.MaxBytes {
			over = true
			return s.failBrowse(tx, id, protocol.BrowseErrTooLarge, fmt.Sprintf("%s has %d bytes, more than the limit of %d", d.Path, st.Size, d.MaxBytes))
		}
		return nil
	})
	if err == nil && over {
		return ErrJobFinished
	}
	return err
}

// AppendDownloadChunk stores bytes the agent sent at offset and returns how many bytes
// the server holds. Bytes it already holds are ignored (a retried chunk); a gap answers
// ErrOffsetMismatch; going over the limit fails the download (ErrJobFinished).
func (s *Store) AppendDownloadChunk(ctx context.Context, hostID, id string, offset int64, data []byte, idle time.Duration) (int64, error) {
	var received int64
	over := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		_, err := s.openBrowse(tx, hostID, id, idle) // locks the request: chunks of a download are serialised
		if err != nil && !errors.Is(err, ErrJobFinished) {
			return err
		}
		var d Download
		if err := tx.Where("id = ?", id).Take(&d).Error; err != nil {
			return notFound(err)
		}
		received = d.Received
		if err != nil {
			return err
		}
		switch {
		case offset > d.Received:
			return ErrOffsetMismatch
		case offset+int64(len(data)) <= d.Received:
			return nil // already held
		}
		tail := data[d.Received-offset:]
		if d.Received+int64(len(tail)) > d.MaxBytes {
			over = true
			return s.failBrowse(tx, id, protocol.BrowseErrTooLarge, fmt.Sprintf("the download is larger than the limit of %d bytes", d.MaxBytes))
		}
		if err := tx.Create(&DownloadChunk{DownloadID: id, Pos: d.Received, Data: tail}).Error; err != nil {
			return fmt.Errorf("store: download chunk: %w", err)
		}
		received = d.Received + int64(len(tail))
		return tx.Model(&Download{}).Where("id = ?", id).Update("received", received).Error
	})
	if err == nil && over {
		err = ErrJobFinished
	}
	return received, err
}

// DownloadChunkAt returns the chunk holding byte pos, ErrNotFound when it has not arrived.
func (s *Store) DownloadChunkAt(ctx context.Context, id string, pos int64) (DownloadChunk, error) {
	var c DownloadChunk
	err := s.db.WithContext(ctx).Where("download_id = ? AND pos <= ?", id, pos).Order("pos DESC").Take(&c).Error
	if err != nil {
		return DownloadChunk{}, notFound(err)
	}
	if pos >= c.Pos+int64(len(c.Data)) {
		return DownloadChunk{}, ErrNotFound
	}
	return c, nil
}

// MarkDownloadConsumed records that a browser read a download to its end: its bytes
// are kept only a short while longer (for a browser that retries).
func (s *Store) MarkDownloadConsumed(ctx context.Context, id string, keep time.Duration) error {
	now := s.now()
	err := s.db.WithContext(ctx).Model(&Download{}).Where("id = ?", id).Updates(map[string]any{
		"consumed_at": now, "expires_at": gorm.Expr("CASE WHEN expires_at < ? THEN expires_at ELSE ? END", now.Add(keep), now.Add(keep))}).Error
	if err != nil {
		return fmt.Errorf("store: download consumed: %w", err)
	}
	return nil
}

// PurgeDownloads deletes the bytes of expired downloads (the rows stay, for the record),
// cancels expired downloads that are still running, and drops expired tickets and
// downloads older than 30 days. It returns the downloads it cancelled.
func (s *Store) PurgeDownloads(ctx context.Context) ([]string, error) {
	now := s.now()
	db := s.db.WithContext(ctx)
	var running []string
	if err := db.Model(&BrowseRequest{}).Where("kind = ? AND finished_at IS NULL AND id IN (?)", protocol.BrowseDump,
		db.Model(&Download{}).Select("id").Where("expires_at < ?", now)).Pluck("id", &running).Error; err != nil {
		return nil, fmt.Errorf("store: expired downloads: %w", err)
	}
	for _, id := range running {
		if err := s.CancelBrowseRequest(ctx, id, "the download expired"); err != nil {
			return nil, err
		}
	}
	if err := db.Where("download_id IN (?)", db.Model(&Download{}).Select("id").Where("expires_at < ?", now)).
		Delete(&DownloadChunk{}).Error; err != nil {
		return nil, fmt.Errorf("store: purge download bytes: %w", err)
	}
	if err := db.Where("expires_at < ?", now.Add(-24*time.Hour)).Delete(&DownloadTicket{}).Error; err != nil {
		return nil, fmt.Errorf("store: purge tickets: %w", err)
	}
	if err := db.Where("kind = ? AND finished_at < ?", protocol.BrowseDump, now.Add(-30*24*time.Hour)).
		Delete(&BrowseRequest{}).Error; err != nil {
		return nil, fmt.Errorf("store: purge old downloads: %w", err)
	}
	return running, nil
}
