package browse

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// CreateDownload asks the agent to dump a file (or a directory as an archive) and
// returns the download with a first ticket. The agent starts at once; its bytes wait in
// the database for the browser.
func (s *Service) CreateDownload(ctx context.Context, t Target, p, archive string, actor Actor, createdBy string) (store.Download, store.BrowseRequest, string, error) {
	in := store.NewDownload{
		Request: store.NewBrowseRequest{HostID: t.HostID, RepositoryID: t.RepositoryID, Kind: protocol.BrowseDump,
			CacheKey: "dump:" + t.Snapshot + ":" + p, Params: store.BrowseParams{Snapshot: t.Snapshot, Path: p, Archive: archive},
			ActorType: actor.Type, ActorID: actor.ID, TTL: s.cfg.RequestTTL,
			Spec: protocol.BrowseSpec{Kind: protocol.BrowseDump, Snapshot: t.Snapshot, Path: p, Archive: archive, MaxBytes: s.cfg.DownloadMaxBytes}},
		MaxBytes: s.cfg.DownloadMaxBytes, Retention: s.cfg.DownloadRetention, TicketTTL: s.cfg.TicketTTL, CreatedBy: createdBy,
	}
	r, d, cmd, ticket, err := s.store.CreateDownload(ctx, in)
	if err != nil {
		return store.Download{}, store.BrowseRequest{}, "", err
	}
	s.publish(ctx, notify.Event{HostID: t.HostID, CommandID: cmd.ID})
	return d, r, ticket, nil
}

// NewTicket makes another ticket for a download (to resume it).
func (s *Service) NewTicket(ctx context.Context, id, createdBy string) (string, time.Time, error) {
	return s.store.AddDownloadTicket(ctx, id, createdBy, s.cfg.TicketTTL)
}

// CancelDownload stops a download: the agent hears it at its next chunk.
func (s *Service) CancelDownload(ctx context.Context, id, reason string) error {
	if err := s.store.CancelBrowseRequest(ctx, id, reason); err != nil {
		return err
	}
	s.Wake(id)
	return nil
}

// FileName is what the browser saves a download as.
func FileName(d store.Download) string {
	name := path.Base(d.Path)
	if d.Path == "/" || name == "/" || name == "." {
		name = "snapshot-" + short(d.SnapshotID)
	}
	if d.NodeType == "dir" {
		if d.Archive == protocol.ArchiveZip {
			return name + ".zip"
		}
		return name + ".tar"
	}
	return name
}

// ContentType is the download's media type.
func ContentType(d store.Download) string {
	switch {
	case d.NodeType != "dir":
		return "application/octet-stream"
	case d.Archive == protocol.ArchiveZip:
		return "application/zip"
	}
	return "application/x-tar"
}

// WaitStarted waits until the agent said what it sends (or the download failed).
func (s *Service) WaitStarted(ctx context.Context, id string, wait time.Duration) (store.Download, store.BrowseRequest, error) {
	return s.waitDownload(ctx, id, wait, func(d store.Download, r store.BrowseRequest) bool { return d.NodeType != "" || r.Done() })
}

// WaitComplete waits until the download is complete (or failed).
func (s *Service) WaitComplete(ctx context.Context, id string, wait time.Duration) (store.Download, store.BrowseRequest, error) {
	return s.waitDownload(ctx, id, wait, func(_ store.Download, r store.BrowseRequest) bool { return r.Done() })
}

func (s *Service) waitDownload(ctx context.Context, id string, wait time.Duration, ready func(store.Download, store.BrowseRequest) bool) (store.Download, store.BrowseRequest, error) {
	news, unsubscribe := s.subscribe(id)
	defer unsubscribe()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(s.cfg.Recheck)
	defer tick.Stop()
	for {
		d, r, err := s.store.Download(ctx, id)
		if err != nil || ready(d, r) {
			return d, r, err
		}
		select {
		case <-news:
		case <-tick.C:
		case <-deadline.C:
			return d, r, nil
		case <-s.draining:
			return d, r, nil
		case <-ctx.Done():
			return d, r, ctx.Err()
		}
	}
}

// Stream writes the download's bytes from offset from up to end (exclusive; -1: to the
// end) as they arrive, calling flush after each chunk. It returns when everything was
// written, the download failed (an error), or ctx ended.
func (s *Service) Stream(ctx context.Context, id string, from, end int64, w io.Writer, flush func() error) (int64, error) {
	news, unsubscribe := s.subscribe(id)
	defer unsubscribe()
	tick := time.NewTicker(s.cfg.Recheck)
	defer tick.Stop()
	pos, written := from, int64(0)
	// recheck is set when the download was seen finished with bytes left to send: the
	// last chunks may have been committed between the chunk read and the status read,
	// so read the chunk once more before calling it gone.
	recheck := false
	for {
		if end >= 0 && pos >= end {
			return written, nil
		}
		c, err := s.store.DownloadChunkAt(ctx, id, pos)
		if err == nil {
			data := c.Data[pos-c.Pos:]
			if end >= 0 && int64(len(data)) > end-pos {
				data = data[:end-pos]
			}
			recheck = false
			n, err := w.Write(data)
			written += int64(n)
			pos += int64(n)
			if err != nil {
				return written, err
			}
			if err := flush(); err != nil {
				return written, err
			}
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return written, err
		}
		d, r, err := s.store.Download(ctx, id)
		if err != nil {
			return written, err
		}
		switch {
		case r.Done() && r.Status == store.BrowseSucceeded && pos >= d.Received:
			if end < 0 || end >= d.Received {
				if err := s.store.MarkDownloadConsumed(context.WithoutCancel(ctx), id, 10*time.Minute); err != nil {
					s.logger.Warn("browse: download consumed", "id", id, "err", err)
				}
			}
			return written, nil
		case r.Done() && r.Status == store.BrowseSucceeded && !recheck:
			recheck = true
			continue
		case r.Done() && r.Status == store.BrowseSucceeded:
			return written, fmt.Errorf("browse: download %s: the bytes at %d are gone (expired)", id, pos)
		case r.Done():
			return written, failed(r)
		}
		select {
		case <-news:
		case <-tick.C:
		case <-ctx.Done():
			return written, ctx.Err()
		}
	}
}

// ParseRange reads a Range header of one range ("bytes=N-" or "bytes=N-M"); ok is false
// when there is none. Suffix ranges ("bytes=-N") need the size: size < 0 refuses them.
func ParseRange(h string, size int64) (start, end int64, ok bool, err error) {
	if h == "" {
		return 0, -1, false, nil
	}
	spec, found := strings.CutPrefix(h, "bytes=")
	if !found || strings.Contains(spec, ",") {
		return 0, 0, false, fmt.Errorf("unsupported range %q", h)
	}
	a, b, _ := strings.Cut(spec, "-")
	if a == "" {
		var n int64
		if _, err := fmt.Sscan(b, &n); err != nil || n <= 0 || size < 0 {
			return 0, 0, false, fmt.Errorf("unsupported range %q", h)
		}
		return max(size-n, 0), size, true, nil
	}
	if _, err := fmt.Sscan(a, &start); err != nil || start < 0 {
		return 0, 0, false, fmt.Errorf("bad range %q", h)
	}
	end = -1
	if b != "" {
		if _, err := fmt.Sscan(b, &end); err != nil || end < start {
			return 0, 0, false, fmt.Errorf("bad range %q", h)
		}
		end++ // exclusive
	}
	return start, end, true, nil
}
