package operatorapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

const (
	maxEnvVars   = 64
	maxSecretLen = 4096
	maxURLLen    = 2048
)

func (a *API) toRepository(r store.Repository) (Repository, error) {
	keys, err := a.store.RepositoryEnvKeys(r)
	if err != nil {
		return Repository{}, err
	}
	return Repository{ID: r.ID, HostID: r.HostID, Name: r.Name, URL: r.URL, RestUsername: r.RestUsername,
		PasswordSet: r.PasswordEnc != "", RestPasswordSet: r.RestPasswordEnc != "", EnvKeys: keys,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}, nil
}

// urlHasPassword reports whether a URL carries a password in its user info
// ("rest:https://user:secret@host/"): secrets belong in the write-only fields.
func urlHasPassword(u string) bool {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return false
	}
	authority, _, _ := strings.Cut(rest, "/")
	userinfo, _, hasAt := strings.Cut(authority, "@")
	return hasAt && strings.Contains(userinfo, ":")
}

func validateRepoFields(url, restUser *string, secrets []*string, env *map[string]string) error {
	if url != nil {
		if len(*url) > maxURLLen {
			return fieldError("url", "at most %d characters", maxURLLen)
		}
		if urlHasPassword(*url) {
			return fieldError("url", "may not contain a password: use rest_username and rest_password")
		}
	}
	if restUser != nil && (len(*restUser) > 200 || strings.ContainsAny(*restUser, "\x00\n\r:")) {
		return fieldError("rest_username", "at most 200 characters, no ':'")
	}
	for _, s := range secrets {
		if s != nil && (len(*s) > maxSecretLen || strings.ContainsRune(*s, 0)) {
			return fieldError("password", "secrets are at most %d bytes", maxSecretLen)
		}
	}
	if env != nil {
		if len(*env) > maxEnvVars {
			return fieldError("env", "at most %d variables", maxEnvVars)
		}
		for k, v := range *env {
			if k == "" || len(k) > 128 || strings.ContainsAny(k, "=\x00") || len(v) > maxSecretLen || strings.ContainsRune(v, 0) {
				return fieldError("env", "variable %q: a name without '=' and a value of at most %d bytes", k, maxSecretLen)
			}
		}
	}
	return nil
}

// listRepositories lists a host's repositories.
//
//	@Summary		List a host's repositories
//	@Description	Role: viewer. Secrets are never returned: password_set and rest_password_set say whether they are set, env_keys names the environment variables.
//	@Tags			repositories
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Success		200	{object}	RepositoryList
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/repositories [get]
func (a *API) listRepositories(c *gin.Context) {
	h, ok := a.hostFor(c, false)
	if !ok {
		return
	}
	rs, err := a.store.Repositories(c.Request.Context(), h.ID)
	if err != nil {
		fail(c, err)
		return
	}
	out := RepositoryList{Items: make([]Repository, len(rs))}
	for i, r := range rs {
		if out.Items[i], err = a.toRepository(r); err != nil {
			fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, out)
}

// repoFor loads the repository of a path.
func (a *API) repoFor(c *gin.Context, writable bool) (store.Host, store.Repository, bool) {
	h, ok := a.hostFor(c, writable)
	if !ok {
		return h, store.Repository{}, false
	}
	rid, ok := pathID(c, "rid")
	if !ok {
		return h, store.Repository{}, false
	}
	r, err := a.store.Repository(c.Request.Context(), h.ID, rid)
	if err != nil {
		fail(c, err)
		return h, store.Repository{}, false
	}
	return h, r, true
}

// getRepository shows a repository.
//
//	@Summary		Get a repository
//	@Description	Role: viewer. Secrets are never returned.
//	@Tags			repositories
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Param			rid	path		string	true	"repository id"
//	@Success		200	{object}	Repository
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/repositories/{rid} [get]
func (a *API) getRepository(c *gin.Context) {
	_, r, ok := a.repoFor(c, false)
	if !ok {
		return
	}
	out, err := a.toRepository(r)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

// createRepository adds a repository to a host.
//
//	@Summary		Add a repository
//	@Description	Role: operator. The password, REST password and environment are encrypted at rest and never returned. rclone: URLs are refused (they would let the server pick a program to run on the host), and so are passwords inside the URL. The host's agent receives the repository with its next schedule set.
//	@Tags			repositories
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string				true	"host id"
//	@Param			body	body		RepositoryCreate	true	"the repository"
//	@Success		201		{object}	Repository
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"conflict: name taken; host_decommissioned"
//	@Router			/hosts/{id}/repositories [post]
func (a *API) createRepository(c *gin.Context) {
	h, ok := a.hostFor(c, true)
	if !ok {
		return
	}
	var req RepositoryCreate
	if !decode(c, &req) {
		return
	}
	var env *map[string]string
	if req.Env != nil {
		env = &req.Env
	}
	if err := validateRepoFields(&req.URL, &req.RestUsername, []*string{&req.Password, &req.RestPassword}, env); err != nil {
		httpx.Fail(c, err)
		return
	}
	r, err := a.disp.CreateRepository(c.Request.Context(), h.ID, store.RepositoryInput{Name: strings.TrimSpace(req.Name), URL: req.URL,
		Password: req.Password, RestUsername: req.RestUsername, RestPassword: req.RestPassword, Env: req.Env})
	if err != nil {
		fail(c, err)
		return
	}
	out, err := a.toRepository(r)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "repository.create", "repository", r.ID, map[string]any{"host_id": h.ID, "name": r.Name, "url": r.URL})
	c.JSON(http.StatusCreated, out)
}

// updateRepository changes a repository.
//
//	@Summary		Change a repository
//	@Description	Role: operator. Absent fields stay. password replaces the password (it cannot be cleared); rest_password and env replace theirs and an empty value clears them.
//	@Tags			repositories
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string				true	"host id"
//	@Param			rid		path		string				true	"repository id"
//	@Param			body	body		RepositoryUpdate	true	"changes"
//	@Success		200		{object}	Repository
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error
//	@Router			/hosts/{id}/repositories/{rid} [patch]
func (a *API) updateRepository(c *gin.Context) {
	h, r, ok := a.repoFor(c, true)
	if !ok {
		return
	}
	var req RepositoryUpdate
	if !decode(c, &req) {
		return
	}
	if err := validateRepoFields(req.URL, req.RestUsername, []*string{req.Password, req.RestPassword}, req.Env); err != nil {
		httpx.Fail(c, err)
		return
	}
	if req.Name != nil {
		n := strings.TrimSpace(*req.Name)
		req.Name = &n
	}
	r, err := a.disp.UpdateRepository(c.Request.Context(), h.ID, r.ID, store.RepositoryUpdate{Name: req.Name, URL: req.URL,
		Password: req.Password, RestUsername: req.RestUsername, RestPassword: req.RestPassword, Env: req.Env})
	if err != nil {
		fail(c, err)
		return
	}
	out, err := a.toRepository(r)
	if err != nil {
		fail(c, err)
		return
	}
	var changed []string
	for name, set := range map[string]bool{"name": req.Name != nil, "url": req.URL != nil, "password": req.Password != nil,
		"rest_username": req.RestUsername != nil, "rest_password": req.RestPassword != nil, "env": req.Env != nil} {
		if set {
			changed = append(changed, name)
		}
	}
	a.audit(c, "repository.update", "repository", r.ID, map[string]any{"host_id": h.ID, "changed": sortedStrings(changed)})
	c.JSON(http.StatusOK, out)
}

// deleteRepository removes a repository.
//
//	@Summary		Delete a repository
//	@Description	Role: operator. Its schedules, snapshot list and statistics go with it; past jobs stay. The restic repository itself is not touched.
//	@Tags			repositories
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Param			rid	path		string	true	"repository id"
//	@Success		200	{object}	OK
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/repositories/{rid} [delete]
func (a *API) deleteRepository(c *gin.Context) {
	h, r, ok := a.repoFor(c, false)
	if !ok {
		return
	}
	if err := a.disp.DeleteRepository(c.Request.Context(), h.ID, r.ID); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "repository.delete", "repository", r.ID, map[string]any{"host_id": h.ID, "name": r.Name})
	c.JSON(http.StatusOK, OK{OK: true})
}

// testRepository runs a cheap probe job.
//
//	@Summary		Test a repository
//	@Description	Role: operator. Queues a "snapshots" job on the host's agent: it opens the repository with its credentials and lists the snapshots. Follow the returned job for the result.
//	@Tags			repositories
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Param			rid	path		string	true	"repository id"
//	@Success		202	{object}	Job
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Failure		409	{object}	protocol.Error	"host_decommissioned"
//	@Router			/hosts/{id}/repositories/{rid}/test [post]
func (a *API) testRepository(c *gin.Context) {
	h, r, ok := a.repoFor(c, true)
	if !ok {
		return
	}
	typ, id := a.jobActor(c)
	j, err := a.disp.EnqueueRun(c.Request.Context(), h.ID, store.RunRequest{Kind: protocol.KindSnapshots, RepositoryID: r.ID, ActorType: typ, ActorID: id})
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "repository.test", "repository", r.ID, map[string]any{"host_id": h.ID, "job_id": j.ID})
	c.JSON(http.StatusAccepted, toJob(j))
}

// listSnapshots lists a repository's snapshots.
//
//	@Summary		List snapshots
//	@Description	Role: viewer. As last reported by the host's agent, newest first.
//	@Tags			repositories
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string	true	"host id"
//	@Param			rid		path		string	true	"repository id"
//	@Param			limit	query		int		false	"page size (1-500, default 50)"
//	@Param			cursor	query		string	false	"next_cursor of the previous page"
//	@Success		200		{object}	SnapshotPage
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/hosts/{id}/repositories/{rid}/snapshots [get]
func (a *API) listSnapshots(c *gin.Context) {
	h, r, ok := a.repoFor(c, false)
	if !ok {
		return
	}
	pg, ok := page(c)
	if !ok {
		return
	}
	ss, next, err := a.store.ListSnapshots(c.Request.Context(), h.ID, r.ID, pg)
	if err != nil {
		fail(c, err)
		return
	}
	out := SnapshotPage{Items: make([]Snapshot, len(ss)), NextCursor: next}
	for i, s := range ss {
		out.Items[i] = toSnapshot(s)
	}
	c.JSON(http.StatusOK, out)
}

// repositoryStats returns a repository's size history.
//
//	@Summary		Repository statistics history
//	@Description	Role: viewer. Samples oldest first, since a time (default: 30 days ago).
//	@Tags			repositories
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string	true	"host id"
//	@Param			rid		path		string	true	"repository id"
//	@Param			since	query		string	false	"RFC 3339 time"
//	@Success		200		{object}	RepositoryStatList
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/hosts/{id}/repositories/{rid}/stats [get]
func (a *API) repositoryStats(c *gin.Context) {
	_, r, ok := a.repoFor(c, false)
	if !ok {
		return
	}
	since, ok := queryTime(c, "since")
	if !ok {
		return
	}
	if since.IsZero() {
		since = a.now().Add(-30 * 24 * time.Hour)
	}
	st, err := a.store.RepoStatsHistory(c.Request.Context(), r.ID, since)
	if err != nil {
		fail(c, err)
		return
	}
	out := RepositoryStatList{Items: make([]RepositoryStat, len(st))}
	for i, s := range st {
		out.Items[i] = RepositoryStat{At: s.At, TotalSize: s.TotalSize, TotalUncompressedSize: s.TotalUncompressedSize,
			TotalFileCount: s.TotalFileCount, TotalBlobCount: s.TotalBlobCount, SnapshotsCount: s.SnapshotsCount,
			CompressionRatio: s.CompressionRatio, Locked: s.Locked, LockDescription: s.LockDescription,
			RestoreSize: s.RestoreSize, RestoreSizeFileCount: s.RestoreSizeFileCount}
	}
	c.JSON(http.StatusOK, out)
}
