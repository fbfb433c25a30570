package operatorapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/server/internal/auth"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Enrollment token bounds.
const (
	defaultEnrollTTL  = 24 * time.Hour
	maxEnrollTTL      = 30 * 24 * time.Hour
	maxEnrollUses     = 10000
	maxDescriptionLen = 500
)

// listAPITokens lists API tokens.
//
//	@Summary		List API tokens
//	@Description	Role: viewer. The caller's own tokens; an admin sees every account's with all=true. Secrets are never shown again after creation.
//	@Tags			api-tokens
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			all		query		bool	false	"admin: tokens of every account"
//	@Param			limit	query		int		false	"page size (1-500, default 50)"
//	@Param			cursor	query		string	false	"next_cursor of the previous page"
//	@Success		200		{object}	APITokenPage
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Router			/api-tokens [get]
func (a *API) listAPITokens(c *gin.Context) {
	pg, ok := page(c)
	if !ok {
		return
	}
	p := principal(c)
	owner := p.User.ID
	if c.Query("all") == "true" {
		if p.Role != store.RoleAdmin {
			httpx.Fail(c, auth.ErrForbidden)
			return
		}
		owner = ""
	}
	ts, next, err := a.store.ListAPITokens(c.Request.Context(), owner, pg)
	if err != nil {
		fail(c, err)
		return
	}
	now := a.now()
	out := APITokenPage{Items: make([]APIToken, len(ts)), NextCursor: next}
	for i, t := range ts {
		out.Items[i] = toAPIToken(t, now)
	}
	c.JSON(http.StatusOK, out)
}

// createAPIToken creates an API token for the caller.
//
//	@Summary		Create an API token
//	@Description	Role: operator. The token acts for the caller with a role no higher than the caller's (403 otherwise), until it expires or is revoked. Its secret is in this answer only; the server keeps a hash.
//	@Tags			api-tokens
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			body	body		APITokenCreate	true	"name, role and optional expiry"
//	@Success		201		{object}	APITokenCreated
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Router			/api-tokens [post]
func (a *API) createAPIToken(c *gin.Context) {
	var req APITokenCreate
	if !decode(c, &req) {
		return
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || len(req.Name) > 200 || strings.ContainsAny(req.Name, "\x00\n\r") {
		httpx.Fail(c, fieldError("name", "required, at most 200 characters on one line"))
		return
	}
	if !auth.ValidRole(req.Role) {
		httpx.Fail(c, fieldError("role", "must be viewer, operator or admin"))
		return
	}
	p := principal(c)
	if auth.Rank(req.Role) > auth.Rank(p.Role) {
		httpx.Fail(c, &httpx.Error{Status: http.StatusForbidden, Code: auth.ErrForbidden.Code,
			Message: "a token's role cannot be higher than its creator's (" + p.Role + ")"})
		return
	}
	if req.ExpiresAt != nil && !req.ExpiresAt.After(a.now()) {
		httpx.Fail(c, fieldError("expires_at", "must be in the future"))
		return
	}
	plain, t, err := a.store.CreateAPIToken(c.Request.Context(), store.NewAPIToken{UserID: p.User.ID, Name: req.Name, Role: req.Role, ExpiresAt: req.ExpiresAt})
	if err != nil {
		fail(c, err)
		return
	}
	t.UserEmail = p.User.Email
	a.audit(c, "api_token.create", "api_token", t.ID, map[string]any{"name": t.Name, "role": t.Role})
	c.JSON(http.StatusCreated, APITokenCreated{APIToken: toAPIToken(t, a.now()), Token: plain})
}

// revokeAPIToken revokes an API token.
//
//	@Summary		Revoke an API token
//	@Description	Role: operator for the caller's own tokens, admin for anybody's. Takes effect on the next request made with it. Revoking twice is harmless.
//	@Tags			api-tokens
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"token id"
//	@Success		200	{object}	APIToken
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/api-tokens/{id} [delete]
func (a *API) revokeAPIToken(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	p := principal(c)
	owner := p.User.ID
	if p.Role == store.RoleAdmin {
		owner = ""
	}
	t, err := a.store.RevokeAPIToken(c.Request.Context(), owner, id)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "api_token.revoke", "api_token", id, map[string]any{"name": t.Name, "owner": t.UserEmail})
	c.JSON(http.StatusOK, toAPIToken(t, a.now()))
}

// listEnrollmentTokens lists enrollment tokens.
//
//	@Summary		List enrollment tokens
//	@Description	Role: operator. Newest first, in every state. Secrets are never shown again after creation.
//	@Tags			enrollment-tokens
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			limit	query		int		false	"page size (1-500, default 50)"
//	@Param			cursor	query		string	false	"next_cursor of the previous page"
//	@Success		200		{object}	EnrollmentTokenPage
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Router			/enrollment-tokens [get]
func (a *API) listEnrollmentTokens(c *gin.Context) {
	pg, ok := page(c)
	if !ok {
		return
	}
	ts, next, err := a.store.ListEnrollmentTokens(c.Request.Context(), pg)
	if err != nil {
		fail(c, err)
		return
	}
	now := a.now()
	out := EnrollmentTokenPage{Items: make([]EnrollmentToken, len(ts)), NextCursor: next}
	for i, t := range ts {
		out.Items[i] = toEnrollmentToken(t, now)
	}
	c.JSON(http.StatusOK, out)
}

// createEnrollmentToken creates an enrollment token for new hosts.
//
//	@Summary		Create an enrollment token
//	@Description	Role: operator. An agent exchanges it for its own credential (POST /agent/enroll). It expires after ttl_seconds (default one day, at most 30) and enrols at most max_uses hosts (default 1). Its secret is in this answer only.
//	@Tags			enrollment-tokens
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			body	body		EnrollmentTokenCreate	true	"description, lifetime and uses"
//	@Success		201		{object}	EnrollmentTokenCreated
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Router			/enrollment-tokens [post]
func (a *API) createEnrollmentToken(c *gin.Context) {
	var req EnrollmentTokenCreate
	if !decodeOptional(c, &req) {
		return
	}
	ttl := defaultEnrollTTL
	if req.TTLSeconds != 0 {
		ttl = time.Duration(req.TTLSeconds) * time.Second
	}
	if ttl < time.Minute || ttl > maxEnrollTTL {
		httpx.Fail(c, fieldError("ttl_seconds", "from 60 to %d", int(maxEnrollTTL/time.Second)))
		return
	}
	uses := req.MaxUses
	if uses == 0 {
		uses = 1
	}
	if uses < 1 || uses > maxEnrollUses {
		httpx.Fail(c, fieldError("max_uses", "from 1 to %d", maxEnrollUses))
		return
	}
	if len(req.Description) > maxDescriptionLen {
		httpx.Fail(c, fieldError("description", "at most %d characters", maxDescriptionLen))
		return
	}
	_, _, by := principal(c).Actor()
	plain, t, err := a.store.CreateEnrollmentToken(c.Request.Context(), store.NewEnrollmentToken{Description: req.Description, CreatedBy: by, TTL: ttl, MaxUses: uses})
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "enrollment_token.create", "enrollment_token", t.ID, map[string]any{"description": t.Description, "max_uses": uses, "ttl_seconds": int(ttl / time.Second)})
	c.JSON(http.StatusCreated, EnrollmentTokenCreated{EnrollmentToken: toEnrollmentToken(t, a.now()), Token: plain})
}

// revokeEnrollmentToken revokes an enrollment token.
//
//	@Summary		Revoke an enrollment token
//	@Description	Role: operator. Hosts already enrolled with it are not affected. Revoking twice is harmless.
//	@Tags			enrollment-tokens
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"enrollment token id"
//	@Success		200	{object}	EnrollmentToken
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/enrollment-tokens/{id} [delete]
func (a *API) revokeEnrollmentToken(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	t, err := a.store.RevokeEnrollmentToken(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "enrollment_token.revoke", "enrollment_token", id, nil)
	c.JSON(http.StatusOK, toEnrollmentToken(t, a.now()))
}
