package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

const browseSnap = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func newBrowse(t *testing.T, s *store.Store, f fixture, kind, key string, p store.BrowseParams) (store.BrowseRequest, store.Command) {
	t.Helper()
	r, cmd, err := s.CreateBrowseRequest(context.Background(), store.NewBrowseRequest{HostID: f.host.ID, RepositoryID: f.repo.ID, Kind: kind,
		CacheKey: key, Params: p, TTL: time.Minute, Spec: protocol.BrowseSpec{Kind: kind, Snapshot: p.Snapshot, Path: p.Path}})
	if err != nil {
		t.Fatal(err)
	}
	return r, cmd
}

func entries(prefix string, n int) []protocol.BrowseEntry {
	out := make([]protocol.BrowseEntry, n)
	for i := range out {
		out[i] = protocol.BrowseEntry{Name: fmt.Sprintf("%s%05d", prefix, i), Type: "file", Size: int64(i), MTime: time.Unix(0, 0).UTC()}
	}
	return out
}

// TestBrowseCache: a request and its command, directory parts in chunks (idempotent),
// pages across chunks, an index search, the first finish winning, a rejected command
// failing its request — on both dialects.
func TestBrowseCache(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		r, cmd := newBrowse(t, s, f, protocol.BrowseLs, "ls:"+browseSnap+":/big", store.BrowseParams{Snapshot: browseSnap, Path: "/big"})
		if cmd.Type != protocol.CommandBrowse || cmd.Payload.Browse == nil || cmd.Payload.Browse.RequestID != r.ID || cmd.Payload.Browse.Repository.Password != "s3cret-pw" {
			t.Fatalf("command %+v", cmd.Payload)
		}
		if got, err := s.LatestBrowseRequest(ctx, f.repo.ID, r.CacheKey, time.Time{}); err != nil || got.ID != r.ID {
			t.Fatalf("latest: %+v %v", got, err)
		}
		// 2500 entries: two full parts and a last one; sent twice (a retry) in two orders.
		all := entries("f", 2500)
		parts := []protocol.BrowseDirPart{
			{Path: "/big", Offset: 0, Entries: all[:1000]},
			{Path: "/big", Offset: 1000, Entries: all[1000:2000]},
			{Path: "/big", Offset: 2000, Entries: all[2000:], Last: true, Total: 2500},
			{Path: "/big/sub", Offset: 0, Entries: []protocol.BrowseEntry{}, Last: true, Total: 0},
		}
		for range 2 {
			if _, err := s.PutBrowseParts(ctx, f.host.ID, r.ID, parts, time.Minute); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.PutBrowseParts(ctx, f.host.ID, r.ID, []protocol.BrowseDirPart{{Path: "/x", Offset: 5, Entries: all[:1], Last: true, Total: 6}}, time.Minute); !errors.Is(err, store.ErrInvalidArgument) {
			t.Fatalf("a part at a bad offset: %v", err)
		}
		other, _ := enrollHost(t, s, "other")
		if _, err := s.PutBrowseParts(ctx, other.ID, r.ID, parts, time.Minute); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("another host's request: %v", err)
		}
		bs, err := s.BrowseSnapshotOf(ctx, f.repo.ID, browseSnap, false)
		if err != nil {
			t.Fatal(err)
		}
		d, err := s.CachedDir(ctx, bs.ID, "/big")
		if err != nil || d.Total != 2500 {
			t.Fatalf("dir %+v %v", d, err)
		}
		page, err := s.DirEntries(ctx, bs.ID, "/big", 990, 30)
		if err != nil || len(page) != 30 || page[0].Name != "f00990" || page[29].Name != "f01019" {
			t.Fatalf("page across chunks: %d %v", len(page), err)
		}
		if page, _ := s.DirEntries(ctx, bs.ID, "/big", 2490, 50); len(page) != 10 {
			t.Fatalf("last page: %d", len(page))
		}
		if d, err := s.CachedDir(ctx, bs.ID, "/big/sub"); err != nil || d.Total != 0 {
			t.Fatalf("empty dir: %+v %v", d, err)
		}
		// Search walks the chunks in pages.
		match := func(_ string, e protocol.BrowseEntry) bool { return strings.HasSuffix(e.Name, "7") }
		var hits []store.IndexMatch
		cursor := ""
		for i := 0; ; i++ {
			got, next, err := s.SearchIndex(ctx, bs.ID, "/", cursor, 100, match)
			if err != nil {
				t.Fatal(err)
			}
			hits = append(hits, got...)
			if next == "" {
				break
			}
			cursor = next
		}
		if len(hits) != 250 || hits[0].Name != "f00007" || hits[249].Name != "f02497" || hits[0].Dir != "/big" {
			t.Fatalf("search: %d hits", len(hits))
		}
		if got, _, _ := s.SearchIndex(ctx, bs.ID, "/elsewhere", "", 10, match); len(got) != 0 {
			t.Fatalf("search below another dir: %d", len(got))
		}

		// The first finish wins; later reports hear that the request is over.
		fin, err := s.FinishBrowseRequest(ctx, f.host.ID, r.ID, protocol.BrowseFinish{Status: protocol.BrowseSucceeded, Dirs: 2, Entries: 2500}, nil)
		if err != nil || fin.Status != store.BrowseSucceeded || !fin.Done() {
			t.Fatalf("finish %+v %v", fin, err)
		}
		if fin, _ := s.FinishBrowseRequest(ctx, f.host.ID, r.ID, protocol.BrowseFinish{Status: protocol.BrowseFailed}, nil); fin.Status != store.BrowseSucceeded {
			t.Fatalf("second finish changed the request: %+v", fin)
		}
		if _, err := s.PutBrowseParts(ctx, f.host.ID, r.ID, parts, time.Minute); !errors.Is(err, store.ErrJobFinished) {
			t.Fatalf("a part after the finish: %v", err)
		}

		// A command the agent rejects fails its request.
		r2, cmd2 := newBrowse(t, s, f, protocol.BrowseFind, "find:x", store.BrowseParams{Patterns: []string{"x"}})
		if err := s.AckCommand(ctx, f.host.ID, cmd2.ID, protocol.CommandResult{Status: protocol.CommandRejected, Reason: "too old"}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.BrowseRequest(ctx, r2.ID); got.Status != store.BrowseFailed || got.ErrorCode != store.BrowseErrRejected {
			t.Fatalf("rejected: %+v", got)
		}

		// An index: the snapshot becomes ready with its counts.
		idxReq := store.NewBrowseRequest{HostID: f.host.ID, RepositoryID: f.repo.ID, Kind: protocol.BrowseIndex, CacheKey: "index:" + browseSnap,
			Params: store.BrowseParams{Snapshot: browseSnap}, TTL: time.Minute, Spec: protocol.BrowseSpec{Kind: protocol.BrowseIndex, Snapshot: browseSnap}}
		bs, ir, icmd, err := s.StartIndex(ctx, f.repo.ID, browseSnap, idxReq)
		if err != nil || icmd == nil || bs.IndexState != store.IndexBuilding {
			t.Fatalf("start index: %+v %v", bs, err)
		}
		if _, again, cmd, _ := s.StartIndex(ctx, f.repo.ID, browseSnap, idxReq); cmd != nil || again.ID != ir.ID {
			t.Fatal("a second build started while one runs")
		}
		if _, err := s.FinishBrowseRequest(ctx, f.host.ID, ir.ID, protocol.BrowseFinish{Status: protocol.BrowseSucceeded, Dirs: 2, Entries: 2500}, nil); err != nil {
			t.Fatal(err)
		}
		if bs, _ := s.BrowseSnapshotOf(ctx, f.repo.ID, browseSnap, false); bs.IndexState != store.IndexReady || bs.Entries != 2500 {
			t.Fatalf("index: %+v", bs)
		}
	})
}

// TestDownloadRelay: chunks in order, a retried chunk, a gap, the size limit, single-use
// tickets — on both dialects.
func TestDownloadRelay(t *testing.T) {
	forEachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		r, d, _, ticket, err := s.CreateDownload(ctx, store.NewDownload{
			Request: store.NewBrowseRequest{HostID: f.host.ID, RepositoryID: f.repo.ID, Kind: protocol.BrowseDump, CacheKey: "dump",
				Params: store.BrowseParams{Snapshot: browseSnap, Path: "/f"}, TTL: time.Minute, Spec: protocol.BrowseSpec{Kind: protocol.BrowseDump}},
			MaxBytes: 10, Retention: time.Hour, TicketTTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.StartDownload(ctx, f.host.ID, r.ID, protocol.DownloadStart{Type: "file", Size: 9}, time.Minute); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			off  int64
			data string
			want int64
			err  error
		}{
			{0, "abcd", 4, nil},
			{0, "abcd", 4, nil},                  // a retry
			{2, "cdef", 6, nil},                  // overlapping: only the tail is new
			{9, "x", 6, store.ErrOffsetMismatch}, // a gap
			{6, "ghi", 9, nil},                   // the end
			{9, "jk", 9, store.ErrJobFinished},   // over the limit of 10: the download fails
			{9, "z", 9, store.ErrJobFinished},    // and stays failed
		} {
			got, err := s.AppendDownloadChunk(ctx, f.host.ID, d.ID, c.off, []byte(c.data), time.Minute)
			if got != c.want || !errors.Is(err, c.err) {
				t.Fatalf("chunk %q at %d: %d %v, want %d %v", c.data, c.off, got, err, c.want, c.err)
			}
		}
		var all bytes.Buffer
		for pos := int64(0); pos < 9; {
			c, err := s.DownloadChunkAt(ctx, d.ID, pos)
			if err != nil {
				t.Fatal(err)
			}
			all.Write(c.Data[pos-c.Pos:])
			pos = c.Pos + int64(len(c.Data))
		}
		if all.String() != "abcdefghi" {
			t.Fatalf("bytes %q", all.String())
		}
		if _, err := s.DownloadChunkAt(ctx, d.ID, 9); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("past the end: %v", err)
		}
		if err := s.RedeemDownloadTicket(ctx, d.ID, ticket); err != nil {
			t.Fatal(err)
		}
		if err := s.RedeemDownloadTicket(ctx, d.ID, ticket); !errors.Is(err, store.ErrTicketInvalid) {
			t.Fatalf("second use: %v", err)
		}
		t2, _, err := s.AddDownloadTicket(ctx, d.ID, "ops", time.Minute)
		if err != nil || s.RedeemDownloadTicket(ctx, "00000000-0000-0000-0000-000000000000", t2) == nil {
			t.Fatalf("a ticket of another download: %v", err)
		}
		if _, got, _ := s.Download(ctx, d.ID); got.Status != store.BrowseFailed || got.ErrorCode != protocol.BrowseErrTooLarge {
			t.Fatalf("download over the limit: %+v", got)
		}

		// Expiry: a running download past its retention is cancelled and loses its bytes;
		// a request nobody answered fails.
		_, old, _, _, err := s.CreateDownload(ctx, store.NewDownload{
			Request: store.NewBrowseRequest{HostID: f.host.ID, RepositoryID: f.repo.ID, Kind: protocol.BrowseDump, CacheKey: "dump2",
				Params: store.BrowseParams{Snapshot: browseSnap, Path: "/g"}, TTL: time.Minute, Spec: protocol.BrowseSpec{Kind: protocol.BrowseDump}},
			MaxBytes: 100, Retention: -time.Second, TicketTTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.AppendDownloadChunk(ctx, f.host.ID, old.ID, 0, []byte("xyz"), time.Minute); err != nil {
			t.Fatal(err)
		}
		if ids, err := s.PurgeDownloads(ctx); err != nil || len(ids) != 1 || ids[0] != old.ID {
			t.Fatalf("purge: %v %v", ids, err)
		}
		if _, err := s.DownloadChunkAt(ctx, old.ID, 0); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired bytes kept: %v", err)
		}
		if _, got, _ := s.Download(ctx, old.ID); got.Status != store.BrowseCancelled {
			t.Fatalf("expired download: %+v", got)
		}
		if ids, err := s.PurgeDownloads(ctx); err != nil || len(ids) != 0 {
			t.Fatalf("second purge: %v %v", ids, err)
		}
		stale, _, err := s.CreateBrowseRequest(ctx, store.NewBrowseRequest{HostID: f.host.ID, RepositoryID: f.repo.ID, Kind: protocol.BrowseLs,
			CacheKey: "stale", TTL: -time.Second, Spec: protocol.BrowseSpec{Kind: protocol.BrowseLs}})
		if err != nil {
			t.Fatal(err)
		}
		if ids, err := s.ExpireBrowseRequests(ctx); err != nil || len(ids) != 1 || ids[0] != stale.ID {
			t.Fatalf("expire: %v %v", ids, err)
		}
		if got, _ := s.BrowseRequest(ctx, stale.ID); got.Status != store.BrowseFailed || got.ErrorCode != store.BrowseErrNoAnswer {
			t.Fatalf("stale request: %+v", got)
		}
		if err := s.PurgeBrowseCache(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.PurgeBrowseRequests(ctx, time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	})
}
