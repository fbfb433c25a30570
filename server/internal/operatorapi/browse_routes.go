package operatorapi

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/browse"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Restorer queues restore jobs (dispatch.Dispatcher).
type Restorer interface {
	EnqueueRestore(ctx context.Context, hostID string, req store.RestoreRequest) (store.Job, error)
}

// Bounds of the browse routes.
const (
	defaultDirLimit    = 500
	maxDirLimit        = 5000
	defaultSearchLimit = 100
	maxSearchLimit     = 1000
	maxPathLen         = 4096
	maxPatternLen      = 1024
	maxPatterns        = 20
	startWait          = 60 * time.Second // a download's content waits this long for the agent to start
	completeWait       = 30 * time.Minute // a resumed archive waits this long for its end
)

// Stable error codes of the browse routes.
const (
	CodeNotDirectory  = "not_directory"
	CodeTooLarge      = "too_large"
	CodeAgentRejected = "agent_rejected"
	CodeAgentTimeout  = "agent_timeout"
	CodeAgentFailed   = "agent_failed"
	CodeCancelled     = "cancelled"
	CodeIndexNotReady = "index_not_ready"
	CodeTicketInvalid = "ticket_invalid"
)

var hexIDRE = regexp.MustCompile(`^[0-9a-f]{8,64}$`)

// registerBrowse mounts the routes of browsing, restoring and downloading (from Register).
func (a *API) registerBrowse(g *gin.RouterGroup, view, op *gin.RouterGroup) {
	if a.cfg.Browse == nil {
		return
	}
	view.GET("/hosts/:id/repositories/:rid/snapshots/:sid/tree", a.browseTree)
	view.GET("/hosts/:id/repositories/:rid/snapshots/:sid/index", a.getSnapshotIndex)
	view.POST("/hosts/:id/repositories/:rid/snapshots/:sid/index", a.buildSnapshotIndex)
	view.GET("/hosts/:id/repositories/:rid/snapshots/:sid/search", a.searchSnapshot)
	view.GET("/hosts/:id/repositories/:rid/find", a.findInRepository)
	view.GET("/hosts/:id/repositories/:rid/diff", a.diffSnapshots)
	op.POST("/hosts/:id/repositories/:rid/snapshots/:sid/restore", a.restoreSnapshot)
	op.POST("/hosts/:id/repositories/:rid/snapshots/:sid/downloads", a.createDownload)
	op.GET("/downloads/:id", a.getDownload)
	op.DELETE("/downloads/:id", a.cancelDownload)
	op.POST("/downloads/:id/tickets", a.createDownloadTicket)
	g.GET("/downloads/:id/content", a.downloadContent) // the ticket is the credential
}

// failBrowse answers a browse error.
func failBrowse(c *gin.Context, err error) {
	var fe *browse.FailedError
	switch {
	case errors.As(err, &fe):
		status, code := http.StatusBadGateway, CodeAgentFailed
		switch fe.Code {
		case protocol.BrowseErrNotFound:
			status, code = http.StatusNotFound, protocol.CodeNotFound
		case protocol.BrowseErrNotDir:
			status, code = http.StatusBadRequest, CodeNotDirectory
		case protocol.BrowseErrTooLarge:
			status, code = http.StatusRequestEntityTooLarge, CodeTooLarge
		case store.BrowseErrRejected:
			code = CodeAgentRejected
		case store.BrowseErrNoAnswer:
			status, code = http.StatusGatewayTimeout, CodeAgentTimeout
		case store.BrowseCancelled:
			status, code = http.StatusConflict, CodeCancelled
		}
		httpx.Fail(c, httpx.Errorf(status, code, "%s", fe.Message))
	case errors.Is(err, browse.ErrIndexNotReady):
		httpx.Fail(c, httpx.Errorf(http.StatusConflict, CodeIndexNotReady, "%s", err.Error()))
	case errors.Is(err, context.Canceled):
		c.Abort() // the client went away
	default:
		fail(c, err)
	}
}

// pending answers 202 with a retry hint.
func pending(c *gin.Context, p *browse.Pending) {
	out := toPending(p)
	c.Header("Retry-After", strconv.Itoa(out.RetryAfterSeconds))
	c.JSON(http.StatusAccepted, out)
}

func (a *API) browseActor(c *gin.Context) browse.Actor {
	typ, id := a.jobActor(c)
	return browse.Actor{Type: typ, ID: id}
}

// snapshotFor loads the host, repository and snapshot of a path.
func (a *API) snapshotFor(c *gin.Context, writable bool) (store.Host, store.Repository, store.Snapshot, bool) {
	h, r, ok := a.repoFor(c, writable)
	if !ok {
		return h, r, store.Snapshot{}, false
	}
	sid := c.Param("sid")
	if !hexIDRE.MatchString(sid) {
		httpx.Fail(c, httpx.ErrNotFound)
		return h, r, store.Snapshot{}, false
	}
	sn, err := a.store.ResolveSnapshot(c.Request.Context(), h.ID, r.ID, sid)
	if err != nil {
		fail(c, err)
		return h, r, store.Snapshot{}, false
	}
	return h, r, sn, true
}

// snapshotPath reads a path inside a snapshot from the query (def when absent).
func snapshotPath(c *gin.Context, name, def string) (string, bool) {
	p := c.DefaultQuery(name, def)
	if p == "" || !strings.HasPrefix(p, "/") || len(p) > maxPathLen || hasControl(p) {
		httpx.Fail(c, fieldError(name, "an absolute path inside the snapshot, such as /home"))
		return "", false
	}
	return path.Clean(p), true
}

func hasControl(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0
}

// waitParam reads ?wait= (seconds; default: the server's).
func (a *API) waitParam(c *gin.Context) (time.Duration, bool) {
	raw := c.Query("wait")
	if raw == "" {
		return a.cfg.Browse.WaitFor(-1), true
	}
	n, err := strconv.Atoi(raw)
	max := a.cfg.Browse.Config().MaxWait
	if err != nil || n < 0 || time.Duration(n)*time.Second > max {
		httpx.Fail(c, fieldError("wait", "seconds from 0 to %d", int(max/time.Second)))
		return 0, false
	}
	return time.Duration(n) * time.Second, true
}

// offsetPage reads ?limit= and an offset ?cursor= (what these listings hand out).
func offsetPage(c *gin.Context, def, maxLimit int) (int64, int, bool) {
	limit := def
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxLimit {
			httpx.Fail(c, fieldError("limit", "must be an integer from 1 to %d", maxLimit))
			return 0, 0, false
		}
		limit = n
	}
	var offset int64
	if raw := c.Query("cursor"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			httpx.Fail(c, fieldError("cursor", "is not one this server issued"))
			return 0, 0, false
		}
		offset = n
	}
	return offset, limit, true
}

func nextOffset(offset int64, n int, total int64) string {
	if next := offset + int64(n); n > 0 && next < total {
		return strconv.FormatInt(next, 10)
	}
	return ""
}

// browseTree lists a directory of a snapshot.
//
//	@Summary		Browse a snapshot
//	@Description	Role: viewer. One page of a directory of the snapshot, in name order. Answered from the server's cache when the directory was listed before (snapshots never change); otherwise the host's agent lists it (restic ls) while the request waits up to `wait` seconds. If the agent has not answered by then: 202 with a retry hint; ask again (the same question joins the same request).
//	@Tags			browse
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string	true	"host id"
//	@Param			rid		path		string	true	"repository id"
//	@Param			sid		path		string	true	"snapshot id (full or short)"
//	@Param			path	query		string	false	"directory (default /)"
//	@Param			limit	query		int		false	"entries (1-5000, default 500)"
//	@Param			cursor	query		string	false	"next_cursor of the previous page"
//	@Param			wait	query		int		false	"seconds to wait for the agent (0-60, default 25)"
//	@Success		200		{object}	DirPage
//	@Success		202		{object}	BrowsePending
//	@Failure		400		{object}	protocol.Error	"validation_failed, not_directory"
//	@Failure		401		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error	"host, repository, snapshot or path"
//	@Failure		502		{object}	protocol.Error	"agent_failed, agent_rejected"
//	@Failure		504		{object}	protocol.Error	"agent_timeout"
//	@Router			/hosts/{id}/repositories/{rid}/snapshots/{sid}/tree [get]
func (a *API) browseTree(c *gin.Context) {
	h, r, sn, ok := a.snapshotFor(c, false)
	if !ok {
		return
	}
	dir, ok := snapshotPath(c, "path", "/")
	if !ok {
		return
	}
	offset, limit, ok := offsetPage(c, defaultDirLimit, maxDirLimit)
	if !ok {
		return
	}
	wait, ok := a.waitParam(c)
	if !ok {
		return
	}
	t := browse.Target{HostID: h.ID, RepositoryID: r.ID, Snapshot: sn.SnapshotID}
	pg, p, err := a.cfg.Browse.List(c.Request.Context(), t, dir, offset, limit, wait, a.browseActor(c))
	if err != nil {
		failBrowse(c, err)
		return
	}
	if p != nil {
		pending(c, p)
		return
	}
	out := DirPage{Snapshot: sn.SnapshotID, Path: dir, Total: pg.Total, Items: make([]DirEntry, len(pg.Entries)),
		NextCursor: nextOffset(offset, len(pg.Entries), pg.Total), Cached: pg.Cached, Indexed: pg.Indexed}
	for i, e := range pg.Entries {
		out.Items[i] = toDirEntry(dir, e)
	}
	c.JSON(http.StatusOK, out)
}

// getSnapshotIndex shows the state of a snapshot's index.
//
//	@Summary		Snapshot index state
//	@Description	Role: viewer. Whether the snapshot's whole tree is cached on the server (for name search, and browsing without the agent).
//	@Tags			browse
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Param			rid	path		string	true	"repository id"
//	@Param			sid	path		string	true	"snapshot id"
//	@Success		200	{object}	SnapshotIndex
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/repositories/{rid}/snapshots/{sid}/index [get]
func (a *API) getSnapshotIndex(c *gin.Context) {
	h, r, sn, ok := a.snapshotFor(c, false)
	if !ok {
		return
	}
	st, err := a.cfg.Browse.Index(c.Request.Context(), browse.Target{HostID: h.ID, RepositoryID: r.ID, Snapshot: sn.SnapshotID})
	if err != nil {
		failBrowse(c, err)
		return
	}
	c.JSON(http.StatusOK, toSnapshotIndex(sn.SnapshotID, st))
}

// buildSnapshotIndex starts indexing a snapshot.
//
//	@Summary		Index a snapshot
//	@Description	Role: viewer. Has the host's agent list the whole snapshot once (restic ls --recursive) and stores it compactly on the server: afterwards the snapshot browses and searches by name without the agent. Waits up to `wait` seconds; 200 when the index is ready, 202 while it is being built (poll GET …/index).
//	@Tags			browse
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string	true	"host id"
//	@Param			rid		path		string	true	"repository id"
//	@Param			sid		path		string	true	"snapshot id"
//	@Param			wait	query		int		false	"seconds to wait (0-60, default 25)"
//	@Success		200		{object}	SnapshotIndex
//	@Success		202		{object}	SnapshotIndex
//	@Failure		401		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/hosts/{id}/repositories/{rid}/snapshots/{sid}/index [post]
func (a *API) buildSnapshotIndex(c *gin.Context) {
	h, r, sn, ok := a.snapshotFor(c, false)
	if !ok {
		return
	}
	wait, ok := a.waitParam(c)
	if !ok {
		return
	}
	st, err := a.cfg.Browse.BuildIndex(c.Request.Context(), browse.Target{HostID: h.ID, RepositoryID: r.ID, Snapshot: sn.SnapshotID}, wait, a.browseActor(c))
	if err != nil {
		failBrowse(c, err)
		return
	}
	a.audit(c, "snapshot.index", "snapshot", sn.SnapshotID, map[string]any{"host_id": h.ID, "repository_id": r.ID, "state": st.State})
	status := http.StatusAccepted
	if st.State == store.IndexReady || st.State == store.IndexFailed {
		status = http.StatusOK
	}
	c.JSON(status, toSnapshotIndex(sn.SnapshotID, st))
}

// searchSnapshot searches an indexed snapshot by name.
//
//	@Summary		Search a snapshot by name
//	@Description	Role: viewer. Searches the snapshot's index (see POST …/index; 409 index_not_ready without one) for entries whose name contains q, or matches q as a glob when q has *, ? or [ — case-insensitive — below path. No agent is involved.
//	@Tags			browse
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string	true	"host id"
//	@Param			rid		path		string	true	"repository id"
//	@Param			sid		path		string	true	"snapshot id"
//	@Param			q		query		string	true	"name, substring or glob"
//	@Param			path	query		string	false	"only below this directory (default /)"
//	@Param			limit	query		int		false	"hits (1-1000, default 100)"
//	@Param			cursor	query		string	false	"next_cursor of the previous page"
//	@Success		200		{object}	SearchPage
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"index_not_ready"
//	@Router			/hosts/{id}/repositories/{rid}/snapshots/{sid}/search [get]
func (a *API) searchSnapshot(c *gin.Context) {
	h, r, sn, ok := a.snapshotFor(c, false)
	if !ok {
		return
	}
	q := c.Query("q")
	if q == "" || len(q) > maxPatternLen || hasControl(q) {
		httpx.Fail(c, fieldError("q", "required, at most %d characters", maxPatternLen))
		return
	}
	prefix, ok := snapshotPath(c, "path", "/")
	if !ok {
		return
	}
	limit := defaultSearchLimit
	if raw := c.Query("limit"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxSearchLimit {
			httpx.Fail(c, fieldError("limit", "must be an integer from 1 to %d", maxSearchLimit))
			return
		}
		limit = n
	}
	cursor := c.Query("cursor")
	if len(cursor) > 2048 {
		httpx.Fail(c, fieldError("cursor", "is not one this server issued"))
		return
	}
	hits, next, err := a.cfg.Browse.Search(c.Request.Context(), browse.Target{HostID: h.ID, RepositoryID: r.ID, Snapshot: sn.SnapshotID},
		q, prefix, cursor, limit)
	if err != nil {
		failBrowse(c, err)
		return
	}
	out := SearchPage{Items: make([]DirEntry, len(hits)), NextCursor: next}
	for i, hit := range hits {
		out.Items[i] = toDirEntry(hit.Dir, hit.BrowseEntry)
	}
	c.JSON(http.StatusOK, out)
}

// findInRepository runs restic find on the agent.
//
//	@Summary		Find files in snapshots
//	@Description	Role: viewer. The host's agent runs restic find for the patterns (globs on names, e.g. *.conf; several match any) in one snapshot, or in every snapshot of the repository. Waits like the tree; 202 to retry. Results of one snapshot are kept for good; of all snapshots, for a minute.
//	@Tags			browse
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id			path		string		true	"host id"
//	@Param			rid			path		string		true	"repository id"
//	@Param			pattern		query		[]string	true	"pattern (repeat for several)"	collectionFormat(multi)
//	@Param			snapshot	query		string		false	"snapshot id; absent: all snapshots"
//	@Param			limit		query		int			false	"matches per page (1-5000, default 500)"
//	@Param			cursor		query		string		false	"next_cursor of the previous page"
//	@Param			wait		query		int			false	"seconds to wait for the agent (0-60, default 25)"
//	@Success		200			{object}	FindPage
//	@Success		202			{object}	BrowsePending
//	@Failure		400			{object}	protocol.Error
//	@Failure		401			{object}	protocol.Error
//	@Failure		404			{object}	protocol.Error
//	@Failure		502			{object}	protocol.Error
//	@Failure		504			{object}	protocol.Error
//	@Router			/hosts/{id}/repositories/{rid}/find [get]
func (a *API) findInRepository(c *gin.Context) {
	h, r, ok := a.repoFor(c, false)
	if !ok {
		return
	}
	patterns := c.QueryArray("pattern")
	if len(patterns) == 0 || len(patterns) > maxPatterns {
		httpx.Fail(c, fieldError("pattern", "between 1 and %d", maxPatterns))
		return
	}
	for _, p := range patterns {
		if p == "" || len(p) > maxPatternLen || hasControl(p) {
			httpx.Fail(c, fieldError("pattern", "a pattern of at most %d characters", maxPatternLen))
			return
		}
	}
	snap := ""
	if raw := c.Query("snapshot"); raw != "" {
		if !hexIDRE.MatchString(raw) {
			httpx.Fail(c, fieldError("snapshot", "a snapshot id"))
			return
		}
		sn, err := a.store.ResolveSnapshot(c.Request.Context(), h.ID, r.ID, raw)
		if err != nil {
			fail(c, err)
			return
		}
		snap = sn.SnapshotID
	}
	offset, limit, ok := offsetPage(c, defaultDirLimit, maxDirLimit)
	if !ok {
		return
	}
	wait, ok := a.waitParam(c)
	if !ok {
		return
	}
	res, p, err := a.cfg.Browse.Find(c.Request.Context(), browse.Target{HostID: h.ID, RepositoryID: r.ID, Snapshot: snap}, patterns, wait, a.browseActor(c))
	if err != nil {
		failBrowse(c, err)
		return
	}
	if p != nil {
		pending(c, p)
		return
	}
	out := FindPage{Items: []FindMatch{}, Total: res.Total, Truncated: res.Truncated, Snapshots: res.Snapshots}
	for i := offset; i < int64(len(res.Matches)) && len(out.Items) < limit; i++ {
		m := res.Matches[i]
		out.Items = append(out.Items, FindMatch{Snapshot: m.Snapshot, DirEntry: toDirEntry(path.Dir(m.Path), m.BrowseEntry)})
	}
	out.NextCursor = nextOffset(offset, len(out.Items), int64(len(res.Matches)))
	c.JSON(http.StatusOK, out)
}

// diffSnapshots compares two snapshots on the agent.
//
//	@Summary		Compare two snapshots
//	@Description	Role: viewer. The host's agent runs restic diff: the paths added (+), removed (-), changed (M), changed in type (T) or metadata (U), and restic's totals. Kept for good (snapshots never change). Waits like the tree; 202 to retry.
//	@Tags			browse
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string	true	"host id"
//	@Param			rid		path		string	true	"repository id"
//	@Param			from	query		string	true	"older snapshot id"
//	@Param			to		query		string	true	"newer snapshot id"
//	@Param			limit	query		int		false	"changes per page (1-5000, default 500)"
//	@Param			cursor	query		string	false	"next_cursor of the previous page"
//	@Param			wait	query		int		false	"seconds to wait for the agent (0-60, default 25)"
//	@Success		200		{object}	DiffPage
//	@Success		202		{object}	BrowsePending
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		502		{object}	protocol.Error
//	@Failure		504		{object}	protocol.Error
//	@Router			/hosts/{id}/repositories/{rid}/diff [get]
func (a *API) diffSnapshots(c *gin.Context) {
	h, r, ok := a.repoFor(c, false)
	if !ok {
		return
	}
	ids := map[string]string{}
	for _, name := range []string{"from", "to"} {
		raw := c.Query(name)
		if !hexIDRE.MatchString(raw) {
			httpx.Fail(c, fieldError(name, "a snapshot id"))
			return
		}
		sn, err := a.store.ResolveSnapshot(c.Request.Context(), h.ID, r.ID, raw)
		if err != nil {
			fail(c, err)
			return
		}
		ids[name] = sn.SnapshotID
	}
	offset, limit, ok := offsetPage(c, defaultDirLimit, maxDirLimit)
	if !ok {
		return
	}
	wait, ok := a.waitParam(c)
	if !ok {
		return
	}
	res, p, err := a.cfg.Browse.Diff(c.Request.Context(), browse.Target{HostID: h.ID, RepositoryID: r.ID, Snapshot: ids["from"]}, ids["to"], wait, a.browseActor(c))
	if err != nil {
		failBrowse(c, err)
		return
	}
	if p != nil {
		pending(c, p)
		return
	}
	out := DiffPage{From: ids["from"], To: ids["to"], Items: []SnapshotChange{}, Total: res.Total, Truncated: res.Truncated, Stats: res.Stats}
	for i := offset; i < int64(len(res.Changes)) && len(out.Items) < limit; i++ {
		out.Items = append(out.Items, SnapshotChange{Path: res.Changes[i].Path, Modifier: res.Changes[i].Modifier})
	}
	out.NextCursor = nextOffset(offset, len(out.Items), int64(len(res.Changes)))
	c.JSON(http.StatusOK, out)
}

// restoreSnapshot queues a restore job.
//
//	@Summary		Restore from a snapshot
//	@Description	Role: operator. Queues a restore job (kind restore; follow it like any job): paths of the snapshot (empty: all) to their original location (target empty or "/") or below an absolute target directory, with excludes and an overwrite behaviour (restic before 0.17 always overwrites; other choices fail there). With target_host_id and target_repository_id it runs on another host whose repository lists the snapshot. Audited.
//	@Tags			browse
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string			true	"host id"
//	@Param			rid		path		string			true	"repository id"
//	@Param			sid		path		string			true	"snapshot id"
//	@Param			body	body		RestoreRequest	true	"what and where"
//	@Success		202		{object}	Job
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"host_decommissioned"
//	@Router			/hosts/{id}/repositories/{rid}/snapshots/{sid}/restore [post]
func (a *API) restoreSnapshot(c *gin.Context) {
	h, r, sn, ok := a.snapshotFor(c, false)
	if !ok {
		return
	}
	var req RestoreRequest
	if !decode(c, &req) {
		return
	}
	ctx := c.Request.Context()
	targetHost, targetRepo := h, r
	if req.TargetHostID != "" || req.TargetRepositoryID != "" {
		if req.TargetHostID == "" || req.TargetRepositoryID == "" {
			httpx.Fail(c, fieldError("target_repository_id", "target_host_id and target_repository_id go together"))
			return
		}
		th, err := a.store.Host(ctx, req.TargetHostID)
		if err != nil {
			httpx.Fail(c, fieldError("target_host_id", "no such host"))
			return
		}
		tr, err := a.store.Repository(ctx, th.ID, req.TargetRepositoryID)
		if err != nil {
			httpx.Fail(c, fieldError("target_repository_id", "no such repository on the target host"))
			return
		}
		if _, err := a.store.ResolveSnapshot(ctx, th.ID, tr.ID, sn.SnapshotID); err != nil {
			httpx.Fail(c, fieldError("target_repository_id", "the repository does not list snapshot %s (its list is refreshed after each backup, forget or prune there)", sn.ShortID))
			return
		}
		targetHost, targetRepo = th, tr
	}
	if targetHost.DecommissionedAt != nil {
		httpx.Fail(c, httpx.Errorf(http.StatusConflict, CodeHostDecommissioned, "the host is decommissioned"))
		return
	}
	target := req.Target
	if target == "" {
		target = "/"
	}
	typ, id := a.jobActor(c)
	spec := protocol.RestoreSpec{Snapshot: sn.SnapshotID, Target: target, Includes: req.Paths, Excludes: req.Excludes, Overwrite: req.Overwrite}
	j, err := a.cfg.Restorer.EnqueueRestore(ctx, targetHost.ID, store.RestoreRequest{RepositoryID: targetRepo.ID, Restore: spec, ActorType: typ, ActorID: id})
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "snapshot.restore", "job", j.ID, map[string]any{"host_id": h.ID, "repository_id": r.ID, "snapshot": sn.SnapshotID,
		"paths": req.Paths, "excludes": req.Excludes, "target": target, "overwrite": req.Overwrite,
		"target_host_id": targetHost.ID, "target_repository_id": targetRepo.ID})
	c.JSON(http.StatusAccepted, toJob(j))
}

// ticketFor builds the ticket answer.
func ticketFor(id, ticket string, expires time.Time) DownloadTicket {
	return DownloadTicket{Ticket: ticket, ExpiresAt: expires,
		URL: "/api/v1/downloads/" + id + "/content?ticket=" + url.QueryEscape(ticket)}
}

// createDownload starts a download.
//
//	@Summary		Download a file or a folder
//	@Description	Role: operator. The host's agent dumps the path (a file as is; a directory as a tar, or zip, archive) and streams it to the server, which relays it: fetch ticket.url (no other credential needed; it works once, within minutes) and the bytes flow as they arrive. The size is limited by the server's -download-max-bytes. To resume, get a new ticket (POST /downloads/{id}/tickets) and send a Range header. Audited.
//	@Tags			browse
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string			true	"host id"
//	@Param			rid		path		string			true	"repository id"
//	@Param			sid		path		string			true	"snapshot id"
//	@Param			body	body		DownloadCreate	true	"path and archive format"
//	@Success		201		{object}	DownloadCreated
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/hosts/{id}/repositories/{rid}/snapshots/{sid}/downloads [post]
func (a *API) createDownload(c *gin.Context) {
	h, r, sn, ok := a.snapshotFor(c, false)
	if !ok {
		return
	}
	var req DownloadCreate
	if !decode(c, &req) {
		return
	}
	if req.Path == "" || !strings.HasPrefix(req.Path, "/") || len(req.Path) > maxPathLen || hasControl(req.Path) {
		httpx.Fail(c, fieldError("path", "an absolute path inside the snapshot"))
		return
	}
	if req.Archive != "" && req.Archive != protocol.ArchiveTar && req.Archive != protocol.ArchiveZip {
		httpx.Fail(c, fieldError("archive", "tar or zip"))
		return
	}
	p := path.Clean(req.Path)
	_, _, who := principal(c).Actor()
	d, br, ticket, err := a.cfg.Browse.CreateDownload(c.Request.Context(), browse.Target{HostID: h.ID, RepositoryID: r.ID, Snapshot: sn.SnapshotID},
		p, req.Archive, a.browseActor(c), who)
	if err != nil {
		failBrowse(c, err)
		return
	}
	a.audit(c, "snapshot.download", "download", d.ID, map[string]any{"host_id": h.ID, "repository_id": r.ID, "snapshot": sn.SnapshotID,
		"path": p, "archive": req.Archive})
	c.JSON(http.StatusCreated, DownloadCreated{Download: toDownload(d, br),
		Ticket: ticketFor(d.ID, ticket, br.CreatedAt.Add(a.cfg.Browse.Config().TicketTTL))})
}

func (a *API) downloadFor(c *gin.Context) (store.Download, store.BrowseRequest, bool) {
	id, ok := pathID(c, "id")
	if !ok {
		return store.Download{}, store.BrowseRequest{}, false
	}
	d, r, err := a.store.Download(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return d, r, false
	}
	return d, r, true
}

// getDownload shows a download.
//
//	@Summary		Get a download
//	@Description	Role: operator. Its state, the bytes the server holds, and once complete its size and SHA-256.
//	@Tags			browse
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"download id"
//	@Success		200	{object}	Download
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/downloads/{id} [get]
func (a *API) getDownload(c *gin.Context) {
	d, r, ok := a.downloadFor(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, toDownload(d, r))
}

// cancelDownload stops a download.
//
//	@Summary		Cancel a download
//	@Description	Role: operator. Stops the agent's dump at its next chunk; a finished download keeps its bytes until they expire. Audited.
//	@Tags			browse
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"download id"
//	@Success		200	{object}	Download
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/downloads/{id} [delete]
func (a *API) cancelDownload(c *gin.Context) {
	d, _, ok := a.downloadFor(c)
	if !ok {
		return
	}
	_, _, who := principal(c).Actor()
	if err := a.cfg.Browse.CancelDownload(c.Request.Context(), d.ID, "cancelled by "+who); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "download.cancel", "download", d.ID, nil)
	d, r, err := a.store.Download(c.Request.Context(), d.ID)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toDownload(d, r))
}

// createDownloadTicket makes a new ticket for a download.
//
//	@Summary		New download ticket
//	@Description	Role: operator. Another single-use ticket for the download's content, e.g. to resume an interrupted download with a Range header. Audited.
//	@Tags			browse
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"download id"
//	@Success		201	{object}	DownloadTicket
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/downloads/{id}/tickets [post]
func (a *API) createDownloadTicket(c *gin.Context) {
	d, _, ok := a.downloadFor(c)
	if !ok {
		return
	}
	_, _, who := principal(c).Actor()
	ticket, expires, err := a.cfg.Browse.NewTicket(c.Request.Context(), d.ID, who)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "download.ticket", "download", d.ID, nil)
	c.JSON(http.StatusCreated, ticketFor(d.ID, ticket, expires))
}

// downloadContent streams a download's bytes.
//
//	@Summary		Download content
//	@Description	Authorised by the ticket alone (single use, short-lived): a browser can follow the URL. Streams the bytes as the agent sends them. A file has a Content-Length; an archive's size is known once complete. Range (bytes=N- or bytes=N-M) resumes: 206 with Content-Range (for an archive still being made, the answer starts once it is complete). A download that fails midway ends the connection without a proper end, so the browser marks it failed.
//	@Tags			browse
//	@Produce		octet-stream
//	@Param			id		path		string	true	"download id"
//	@Param			ticket	query		string	true	"ticket"
//	@Param			Range	header		string	false	"bytes=N-"
//	@Success		200		{file}		file	"the bytes"
//	@Success		206		{file}		file	"the requested range"
//	@Failure		401		{object}	protocol.Error	"ticket_invalid"
//	@Failure		404		{object}	protocol.Error
//	@Failure		413		{object}	protocol.Error	"too_large"
//	@Failure		416		{object}	protocol.Error
//	@Failure		502		{object}	protocol.Error
//	@Failure		504		{object}	protocol.Error
//	@Router			/downloads/{id}/content [get]
func (a *API) downloadContent(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	ticket := c.Query("ticket")
	ctx := c.Request.Context()
	if ticket == "" || len(ticket) > 256 {
		httpx.Fail(c, httpx.Errorf(http.StatusUnauthorized, CodeTicketInvalid, "a download ticket is required"))
		return
	}
	if err := a.store.RedeemDownloadTicket(ctx, id, ticket); err != nil {
		if errors.Is(err, store.ErrTicketInvalid) {
			httpx.Fail(c, httpx.Errorf(http.StatusUnauthorized, CodeTicketInvalid, "%s", err.Error()))
			return
		}
		fail(c, err)
		return
	}
	svc := a.cfg.Browse
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetWriteDeadline(time.Now().Add(startWait + time.Minute)) // waiting is not writing
	d, r, err := svc.WaitStarted(ctx, id, startWait)
	if err != nil {
		failBrowse(c, err)
		return
	}
	if r.Done() && r.Status != store.BrowseSucceeded {
		failBrowse(c, &browse.FailedError{Code: orStatus(r), Message: r.Error})
		return
	}
	if d.NodeType == "" {
		httpx.Fail(c, httpx.Errorf(http.StatusGatewayTimeout, CodeAgentTimeout, "the host's agent has not started the download yet; try again with a new ticket"))
		return
	}
	total := int64(-1)
	if d.TotalSize != nil {
		total = *d.TotalSize
	}
	if c.GetHeader("Range") != "" && total < 0 {
		// An archive's size is known when it is complete: a resume waits for that.
		_ = rc.SetWriteDeadline(time.Now().Add(completeWait + time.Minute))
		if d, r, err = svc.WaitComplete(ctx, id, completeWait); err != nil {
			failBrowse(c, err)
			return
		}
		if !r.Done() {
			httpx.Fail(c, httpx.Errorf(http.StatusGatewayTimeout, CodeAgentTimeout, "the archive is not complete yet; resume later with a new ticket"))
			return
		}
		if r.Status != store.BrowseSucceeded {
			failBrowse(c, &browse.FailedError{Code: orStatus(r), Message: r.Error})
			return
		}
		total = d.Received
	}
	start, end, ranged, err := browse.ParseRange(c.GetHeader("Range"), total)
	if err != nil || (ranged && total >= 0 && start >= total && total > 0) {
		c.Header("Content-Range", fmt.Sprintf("bytes */%d", max(total, 0)))
		httpx.Fail(c, httpx.Errorf(http.StatusRequestedRangeNotSatisfiable, "range_not_satisfiable", "the range is outside the download"))
		return
	}
	if total >= 0 && (end < 0 || end > total) {
		end = total
	}
	w := c.Writer
	w.Header().Set("Content-Type", browse.ContentType(d))
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": browse.FileName(d)}))
	w.Header().Set("Accept-Ranges", "bytes")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if end >= 0 {
		w.Header().Set("Content-Length", strconv.FormatInt(end-start, 10))
	}
	status := http.StatusOK
	if ranged {
		status = http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, max(end-1, start), total))
	}
	w.WriteHeader(status)
	dw := deadlineWriter{w: w, rc: rc}
	flush := func() error {
		if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			return err
		}
		return nil
	}
	if _, err := svc.Stream(ctx, id, start, end, dw, flush); err != nil {
		if ctx.Err() == nil {
			a.logger.Warn("download stream ended early", "download_id", id, "err", err)
		}
		panic(http.ErrAbortHandler) // end the connection: the browser must not take a cut stream for a whole file
	}
}

func orStatus(r store.BrowseRequest) string {
	if r.Status == store.BrowseCancelled {
		return store.BrowseCancelled
	}
	return r.ErrorCode
}

// deadlineWriter gives every write its own deadline, so a long download outlives the
// server's write timeout while a stalled client still times out.
type deadlineWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (d deadlineWriter) Write(p []byte) (int, error) {
	_ = d.rc.SetWriteDeadline(time.Now().Add(time.Minute))
	return d.w.Write(p)
}
