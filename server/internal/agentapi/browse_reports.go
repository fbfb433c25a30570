package agentapi

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/notify"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Limits of the browse reports.
const (
	limitBrowseDirs   = 32 << 20
	limitBrowseFinish = 32 << 20
	limitChunk        = 8 << 20
	maxDirsPerBatch   = 10_000
	// browseIdle keeps a request alive after each report: a request silent this long
	// fails (the agent is gone).
	browseIdle = 10 * time.Minute
)

var browseStatuses = []string{protocol.BrowseSucceeded, protocol.BrowseFailed, protocol.BrowseCancelled}

// registerBrowse mounts the browse reports (called from Register).
func (a *API) registerBrowse(authed *gin.RouterGroup) {
	authed.POST("/browse/:id/dirs", a.browseDirs)
	authed.POST("/browse/:id/finish", a.browseFinish)
	authed.POST("/downloads/:id/start", a.downloadStart)
	authed.POST("/downloads/:id/chunks", a.downloadChunk)
}

// browseAck answers a report; a request that is over tells the agent to stop.
func (a *API) browseAck(c *gin.Context, err error) {
	switch {
	case err == nil:
		c.JSON(http.StatusOK, protocol.BrowseAck{})
	case errors.Is(err, store.ErrJobFinished):
		c.JSON(http.StatusOK, protocol.BrowseAck{Cancel: true})
	default:
		httpx.Fail(c, err)
	}
}

func (a *API) wakeBrowse(c *gin.Context, id string) {
	a.publish(c.Request.Context(), notify.Event{HostID: hostID(c), BrowseRequest: id})
}

// browseDirs stores directory parts of an ls or index.
//
//	@Summary		Send directory listings
//	@Description	Parts of directories of an ls or index request, each at most chunk_entries entries starting at a multiple of it; the last part of a directory has last and total. Idempotent: a part is keyed by its directory and offset. cancel in the answer: stop.
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		string					true	"browse request id"
//	@Param			body	body		protocol.BrowseDirBatch	true	"directory parts"
//	@Success		200		{object}	protocol.BrowseAck
//	@Failure		400		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		413		{object}	protocol.Error
//	@Router			/agent/browse/{id}/dirs [post]
func (a *API) browseDirs(c *gin.Context) {
	id, ok := jobID(c)
	if !ok {
		return
	}
	var b protocol.BrowseDirBatch
	if err := httpx.Decode(c, limitBrowseDirs, &b); err != nil {
		httpx.Fail(c, err)
		return
	}
	if len(b.Dirs) > maxDirsPerBatch {
		httpx.Fail(c, httpx.Validation("dirs: at most %d per batch", maxDirsPerBatch))
		return
	}
	for i, d := range b.Dirs {
		if !cleanAbs(d.Path) {
			httpx.Fail(c, httpx.Validation("dirs[%d].path: a clean absolute path", i))
			return
		}
		for j, e := range d.Entries {
			if e.Name == "" || len(e.Name) > 4096 || len(e.Type) > 32 || len(e.Permissions) > 32 {
				httpx.Fail(c, httpx.Validation("dirs[%d].entries[%d]: name, type or permissions out of range", i, j))
				return
			}
		}
	}
	_, err := a.store.PutBrowseParts(c.Request.Context(), hostID(c), id, b.Dirs, browseIdle)
	a.browseAck(c, err)
}

func cleanAbs(p string) bool {
	return len(p) > 0 && len(p) <= 4096 && p[0] == '/' && path.Clean(p) == p
}

// browseFinish ends a browse request.
//
//	@Summary		Finish a browse request
//	@Description	Status, error and, for find and diff, the result; for a dump its size and SHA-256. The first finish wins; a repeat answers 200.
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		string					true	"browse request id"
//	@Param			body	body		protocol.BrowseFinish	true	"outcome"
//	@Success		200		{object}	protocol.BrowseAck
//	@Failure		400		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		413		{object}	protocol.Error
//	@Router			/agent/browse/{id}/finish [post]
func (a *API) browseFinish(c *gin.Context) {
	id, ok := jobID(c)
	if !ok {
		return
	}
	var f protocol.BrowseFinish
	if err := httpx.Decode(c, limitBrowseFinish, &f); err != nil {
		httpx.Fail(c, err)
		return
	}
	switch {
	case !slices.Contains(browseStatuses, f.Status):
		httpx.Fail(c, httpx.Validation("status: one of succeeded, failed, cancelled"))
		return
	case len(f.Error) > maxErrorBytes || len(f.ErrorCode) > 64:
		httpx.Fail(c, httpx.Validation("error: at most %d bytes", maxErrorBytes))
		return
	case f.Size < 0 || f.Dirs < 0 || f.Entries < 0:
		httpx.Fail(c, httpx.Validation("counts may not be negative"))
		return
	}
	var result json.RawMessage
	var err error
	switch {
	case f.Find != nil:
		result, err = json.Marshal(f.Find)
	case f.Diff != nil:
		result, err = json.Marshal(f.Diff)
	}
	if err != nil {
		httpx.Fail(c, err)
		return
	}
	if _, err := a.store.FinishBrowseRequest(c.Request.Context(), hostID(c), id, f, result); err != nil {
		httpx.Fail(c, err)
		return
	}
	a.wakeBrowse(c, id)
	c.JSON(http.StatusOK, protocol.BrowseAck{})
}

// downloadStart records what a dump sends.
//
//	@Summary		Start a download
//	@Description	What the dump sends: a file (with its size) or a directory's archive. A file over the server's limit fails the download: the answer says cancel.
//	@Tags			agent
//	@Accept			json
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		string					true	"browse request id of the dump"
//	@Param			body	body		protocol.DownloadStart	true	"what is sent"
//	@Success		200		{object}	protocol.BrowseAck
//	@Failure		400		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/agent/downloads/{id}/start [post]
func (a *API) downloadStart(c *gin.Context) {
	id, ok := jobID(c)
	if !ok {
		return
	}
	var st protocol.DownloadStart
	if err := httpx.Decode(c, limitSmall, &st); err != nil {
		httpx.Fail(c, err)
		return
	}
	if (st.Type != "file" && st.Type != "dir") || st.Size < 0 {
		httpx.Fail(c, httpx.Validation("type: file or dir; size: not negative"))
		return
	}
	err := a.store.StartDownload(c.Request.Context(), hostID(c), id, st, browseIdle)
	if err == nil || errors.Is(err, store.ErrJobFinished) {
		a.wakeBrowse(c, id)
	}
	a.browseAck(c, err)
}

// downloadChunk stores bytes of a dump.
//
//	@Summary		Send download bytes
//	@Description	The raw body holds the dump's bytes from offset on (at most 8 MiB). Bytes the server already holds are ignored, so a retried chunk is harmless; the answer's offset is how many bytes it holds. An offset beyond that answers 409 offset_mismatch. cancel in the answer: stop (cancelled, expired or over the limit).
//	@Tags			agent
//	@Accept			octet-stream
//	@Produce		json
//	@Security		AgentCredential
//	@Param			id		path		string	true	"browse request id of the dump"
//	@Param			offset	query		int		true	"byte offset of the body"
//	@Param			body	body		string	true	"bytes"
//	@Success		200		{object}	protocol.DownloadChunkAck
//	@Failure		400		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"offset_mismatch"
//	@Failure		413		{object}	protocol.Error
//	@Failure		415		{object}	protocol.Error
//	@Router			/agent/downloads/{id}/chunks [post]
func (a *API) downloadChunk(c *gin.Context) {
	id, ok := jobID(c)
	if !ok {
		return
	}
	if ct := c.GetHeader("Content-Type"); ct != "" {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/octet-stream" {
			httpx.Fail(c, httpx.Errorf(http.StatusUnsupportedMediaType, protocol.CodeUnsupportedMedia, "content type must be application/octet-stream"))
			return
		}
	}
	offset, err := strconv.ParseInt(c.Query(protocol.QueryOffset), 10, 64)
	if err != nil || offset < 0 {
		httpx.Fail(c, httpx.Validation("offset: a non-negative integer"))
		return
	}
	data, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limitChunk))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			httpx.Fail(c, err)
			return
		}
		httpx.Fail(c, httpx.Errorf(http.StatusBadRequest, protocol.CodeBadRequest, "reading body: %v", err))
		return
	}
	received, err := a.store.AppendDownloadChunk(c.Request.Context(), hostID(c), id, offset, data, browseIdle)
	switch {
	case errors.Is(err, store.ErrOffsetMismatch):
		httpx.Fail(c, &httpx.Error{Status: http.StatusConflict, Code: protocol.CodeOffsetMismatch,
			Message: "the chunk does not continue the bytes the server holds", Details: map[string]int64{"offset": received}})
		return
	case errors.Is(err, store.ErrJobFinished):
		a.wakeBrowse(c, id)
		c.JSON(http.StatusOK, protocol.DownloadChunkAck{BrowseAck: protocol.BrowseAck{Cancel: true}, Offset: received})
		return
	case err != nil:
		httpx.Fail(c, err)
		return
	}
	a.wakeBrowse(c, id)
	c.JSON(http.StatusOK, protocol.DownloadChunkAck{Offset: received})
}
