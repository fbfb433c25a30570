package browse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// ErrIndexNotReady: a search needs the snapshot's index (build it first).
var ErrIndexNotReady = errors.New("the snapshot has no index yet: build it first")

// FailedError is a request the agent (or the server) failed, with its error code
// (protocol.BrowseErr*, store.BrowseErr*, or "cancelled").
type FailedError struct {
	Code    string
	Message string
}

func (e *FailedError) Error() string { return e.Code + ": " + e.Message }

// Pending says the answer is not there yet: ask again (the same question joins the same
// request) after RetryAfter.
type Pending struct {
	RequestID  string
	Status     string
	RetryAfter time.Duration
}

// Actor is who asks.
type Actor struct{ Type, ID string }

// Target is a snapshot of a repository of a host; Snapshot is the full id.
type Target struct {
	HostID       string
	RepositoryID string
	Snapshot     string
}

func (s *Service) pending(r store.BrowseRequest) *Pending {
	return &Pending{RequestID: r.ID, Status: r.Status, RetryAfter: 2 * time.Second}
}

func failed(r store.BrowseRequest) error {
	code := r.ErrorCode
	if r.Status == store.BrowseCancelled {
		code = store.BrowseCancelled
	}
	if code == "" {
		code = protocol.BrowseErrRestic
	}
	msg := r.Error
	if msg == "" {
		msg = "the request " + r.Status
	}
	return &FailedError{Code: code, Message: msg}
}

// deterministic failures are answers too: the snapshot will not change.
func deterministic(r store.BrowseRequest) bool {
	return r.Done() && r.Status == store.BrowseFailed &&
		(r.ErrorCode == protocol.BrowseErrNotFound || r.ErrorCode == protocol.BrowseErrNotDir)
}

func open(r store.BrowseRequest) bool { return !r.Done() && time.Now().Before(r.ExpiresAt) }

// failedLately keeps a failure visible for a while: a client that asks again after a 202
// learns why its request failed instead of starting another one at once.
func failedLately(r store.BrowseRequest) bool {
	return r.Done() && r.Status != store.BrowseSucceeded && r.FinishedAt != nil && time.Since(*r.FinishedAt) < failureShown
}

// failureShown is how long a failed request answers the same question.
const failureShown = 30 * time.Second

// ensure returns the newest request with the key since a time when reuse accepts it, or
// creates one and wakes the host's poll.
func (s *Service) ensure(ctx context.Context, in store.NewBrowseRequest, since time.Time, reuse func(store.BrowseRequest) bool) (store.BrowseRequest, bool, error) {
	r, err := s.store.LatestBrowseRequest(ctx, in.RepositoryID, in.CacheKey, since)
	switch {
	case err == nil && reuse(r):
		return r, false, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.BrowseRequest{}, false, err
	}
	if in.TTL == 0 {
		in.TTL = s.cfg.RequestTTL
	}
	r, cmd, err := s.store.CreateBrowseRequest(ctx, in)
	if err != nil {
		return store.BrowseRequest{}, false, err
	}
	s.publish(ctx, notify.Event{HostID: in.HostID, CommandID: cmd.ID})
	return r, true, nil
}

// DirPage is one page of a directory listing.
type DirPage struct {
	Path    string
	Total   int64
	Offset  int64
	Entries []protocol.BrowseEntry
	// Indexed: the snapshot's whole tree is cached. Cached: the answer came from the
	// cache without asking the agent.
	Indexed bool
	Cached  bool
}

// List returns entries [offset, offset+limit) of a directory of a snapshot: from the
// cache, or from the agent (waiting up to wait; then Pending).
func (s *Service) List(ctx context.Context, t Target, dir string, offset int64, limit int, wait time.Duration, actor Actor) (DirPage, *Pending, error) {
	page, ok, err := s.cached(ctx, t, dir, offset, limit)
	if ok || err != nil {
		page.Cached = true
		return page, nil, err
	}
	in := store.NewBrowseRequest{HostID: t.HostID, RepositoryID: t.RepositoryID, Kind: protocol.BrowseLs,
		CacheKey: "ls:" + t.Snapshot + ":" + dir, Params: store.BrowseParams{Snapshot: t.Snapshot, Path: dir},
		ActorType: actor.Type, ActorID: actor.ID,
		Spec: protocol.BrowseSpec{Kind: protocol.BrowseLs, Snapshot: t.Snapshot, Path: dir, ChunkEntries: store.ChunkEntries}}
	r, _, err := s.ensure(ctx, in, time.Time{}, func(r store.BrowseRequest) bool {
		return open(r) || deterministic(r) || failedLately(r)
	})
	if err != nil {
		return DirPage{}, nil, err
	}
	if r, err = s.wait(ctx, r.ID, wait); err != nil {
		return DirPage{}, nil, err
	}
	switch {
	case !r.Done():
		return DirPage{}, s.pending(r), nil
	case r.Status != store.BrowseSucceeded:
		return DirPage{}, nil, failed(r)
	}
	page, ok, err = s.cached(ctx, t, dir, offset, limit)
	if err == nil && !ok {
		err = fmt.Errorf("browse: the listing of %s was reported but is not cached", dir)
	}
	return page, nil, err
}

// cached answers from the listing cache; ok is false when it cannot.
func (s *Service) cached(ctx context.Context, t Target, dir string, offset int64, limit int) (DirPage, bool, error) {
	bs, err := s.store.BrowseSnapshotOf(ctx, t.RepositoryID, t.Snapshot, false)
	if errors.Is(err, store.ErrNotFound) {
		return DirPage{}, false, nil
	} else if err != nil {
		return DirPage{}, false, err
	}
	d, err := s.store.CachedDir(ctx, bs.ID, dir)
	switch {
	case errors.Is(err, store.ErrNotFound) && bs.IndexState == store.IndexReady:
		return DirPage{}, false, &FailedError{Code: protocol.BrowseErrNotFound, Message: fmt.Sprintf("%s is not a directory of snapshot %s", dir, short(t.Snapshot))}
	case errors.Is(err, store.ErrNotFound):
		return DirPage{}, false, nil
	case err != nil:
		return DirPage{}, false, err
	}
	es, err := s.store.DirEntries(ctx, bs.ID, dir, offset, limit)
	if err != nil {
		return DirPage{}, false, err
	}
	return DirPage{Path: dir, Total: d.Total, Offset: offset, Entries: es, Indexed: bs.IndexState == store.IndexReady}, true, nil
}

func short(id string) string { return id[:min(8, len(id))] }

// IndexStatus is the state of a snapshot's index.
type IndexStatus struct {
	State     string // "", building, ready, failed
	Error     string
	RequestID string
	IndexedAt *time.Time
	Dirs      int64
	Entries   int64
}

func indexStatus(bs store.BrowseSnapshot) IndexStatus {
	return IndexStatus{State: bs.IndexState, Error: bs.IndexError, RequestID: bs.IndexRequest, IndexedAt: bs.IndexedAt, Dirs: bs.Dirs, Entries: bs.Entries}
}

// Index returns the state of a snapshot's index.
func (s *Service) Index(ctx context.Context, t Target) (IndexStatus, error) {
	bs, err := s.store.BrowseSnapshotOf(ctx, t.RepositoryID, t.Snapshot, false)
	if errors.Is(err, store.ErrNotFound) {
		return IndexStatus{}, nil
	}
	if err != nil {
		return IndexStatus{}, err
	}
	if bs.IndexState == store.IndexBuilding {
		if r, err := s.store.BrowseRequest(ctx, bs.IndexRequest); err == nil && !r.Done() && r.Status == store.BrowsePending {
			return IndexStatus{State: store.IndexBuilding, RequestID: r.ID}, nil
		}
	}
	return indexStatus(bs), nil
}

// BuildIndex starts building a snapshot's index (ls --recursive on the agent) unless it
// is ready or being built, and waits up to wait for it.
func (s *Service) BuildIndex(ctx context.Context, t Target, wait time.Duration, actor Actor) (IndexStatus, error) {
	in := store.NewBrowseRequest{HostID: t.HostID, RepositoryID: t.RepositoryID, Kind: protocol.BrowseIndex,
		CacheKey: "index:" + t.Snapshot, Params: store.BrowseParams{Snapshot: t.Snapshot},
		ActorType: actor.Type, ActorID: actor.ID, TTL: s.cfg.RequestTTL,
		Spec: protocol.BrowseSpec{Kind: protocol.BrowseIndex, Snapshot: t.Snapshot, ChunkEntries: store.ChunkEntries}}
	bs, r, cmd, err := s.store.StartIndex(ctx, t.RepositoryID, t.Snapshot, in)
	if err != nil {
		return IndexStatus{}, err
	}
	if cmd != nil {
		s.publish(ctx, notify.Event{HostID: t.HostID, CommandID: cmd.ID})
	}
	if bs.IndexState == store.IndexReady || r.ID == "" {
		return indexStatus(bs), nil
	}
	if _, err := s.wait(ctx, r.ID, wait); err != nil {
		return IndexStatus{}, err
	}
	return s.Index(ctx, t)
}

// Search finds entries of an indexed snapshot whose name matches query: a glob (with *,
// ? or [) or else a substring, both case-insensitive; under prefix ("/" for all).
func (s *Service) Search(ctx context.Context, t Target, query, prefix, cursor string, limit int) ([]store.IndexMatch, string, error) {
	bs, err := s.store.BrowseSnapshotOf(ctx, t.RepositoryID, t.Snapshot, false)
	if errors.Is(err, store.ErrNotFound) || (err == nil && bs.IndexState != store.IndexReady) {
		return nil, "", ErrIndexNotReady
	}
	if err != nil {
		return nil, "", err
	}
	q := strings.ToLower(query)
	glob := strings.ContainsAny(q, "*?[")
	if glob {
		if _, err := path.Match(q, ""); err != nil {
			return nil, "", fmt.Errorf("%w: q: %v", store.ErrInvalidArgument, err)
		}
	}
	match := func(_ string, e protocol.BrowseEntry) bool {
		name := strings.ToLower(e.Name)
		if glob {
			ok, _ := path.Match(q, name)
			return ok
		}
		return strings.Contains(name, q)
	}
	return s.store.SearchIndex(ctx, bs.ID, prefix, cursor, limit, match)
}

// Find runs restic find on the agent, in one snapshot (t.Snapshot) or in all of them.
func (s *Service) Find(ctx context.Context, t Target, patterns []string, wait time.Duration, actor Actor) (protocol.FindResult, *Pending, error) {
	raw, _ := json.Marshal(patterns)
	key := "find:" + t.Snapshot + ":" + string(raw)
	in := store.NewBrowseRequest{HostID: t.HostID, RepositoryID: t.RepositoryID, Kind: protocol.BrowseFind, CacheKey: key,
		Params: store.BrowseParams{Snapshot: t.Snapshot, Patterns: patterns}, ActorType: actor.Type, ActorID: actor.ID,
		Spec: protocol.BrowseSpec{Kind: protocol.BrowseFind, Snapshot: t.Snapshot, Patterns: patterns, MaxResults: s.cfg.MaxResults}}
	since, reuse := time.Time{}, func(r store.BrowseRequest) bool {
		return open(r) || r.Status == store.BrowseSucceeded || failedLately(r)
	}
	if t.Snapshot == "" { // new snapshots may appear: a recent answer only
		since = time.Now().Add(-max(s.cfg.FindCacheTTL, s.cfg.RequestTTL))
		reuse = func(r store.BrowseRequest) bool {
			return open(r) || failedLately(r) || (r.Status == store.BrowseSucceeded && r.FinishedAt != nil && time.Since(*r.FinishedAt) < s.cfg.FindCacheTTL)
		}
	}
	var res protocol.FindResult
	p, err := s.result(ctx, in, since, reuse, wait, &res)
	return res, p, err
}

// Diff runs restic diff between two snapshots on the agent.
func (s *Service) Diff(ctx context.Context, t Target, to string, wait time.Duration, actor Actor) (protocol.DiffResult, *Pending, error) {
	in := store.NewBrowseRequest{HostID: t.HostID, RepositoryID: t.RepositoryID, Kind: protocol.BrowseDiff,
		CacheKey: "diff:" + t.Snapshot + ":" + to, Params: store.BrowseParams{Snapshot: t.Snapshot, Snapshot2: to},
		ActorType: actor.Type, ActorID: actor.ID,
		Spec: protocol.BrowseSpec{Kind: protocol.BrowseDiff, Snapshot: t.Snapshot, Snapshot2: to, MaxResults: s.cfg.MaxResults}}
	var res protocol.DiffResult
	p, err := s.result(ctx, in, time.Time{}, func(r store.BrowseRequest) bool {
		return open(r) || r.Status == store.BrowseSucceeded || failedLately(r)
	}, wait, &res)
	return res, p, err
}

// result gets a request's JSON result into out.
func (s *Service) result(ctx context.Context, in store.NewBrowseRequest, since time.Time, reuse func(store.BrowseRequest) bool, wait time.Duration, out any) (*Pending, error) {
	r, _, err := s.ensure(ctx, in, since, reuse)
	if err != nil {
		return nil, err
	}
	if !r.Done() {
		if r, err = s.wait(ctx, r.ID, wait); err != nil {
			return nil, err
		}
	}
	switch {
	case !r.Done():
		return s.pending(r), nil
	case r.Status != store.BrowseSucceeded:
		return nil, failed(r)
	}
	if err := json.Unmarshal(r.Result, out); err != nil {
		return nil, fmt.Errorf("browse: result of %s: %w", r.ID, err)
	}
	return nil, nil
}
