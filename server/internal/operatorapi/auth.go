package operatorapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/server/internal/auth"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/secrets"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// login opens a browser session.
//
//	@Summary		Log in
//	@Description	Checks an email and password and opens a server-side session: the HttpOnly, SameSite=Lax cookie rm_session (Secure under TLS) and the rm_csrf cookie. Send the CSRF token (in the answer and in rm_csrf) as the X-CSRF-Token header on every state-changing request made with the session. Failed attempts are limited per account and per client address (429 rate_limited with Retry-After). Automation should use API tokens instead.
//	@Tags			auth
//	@Accept			json
//	@Produce		json
//	@Param			body	body		LoginRequest	true	"credentials"
//	@Success		200		{object}	LoginResponse
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error	"invalid_credentials"
//	@Failure		429		{object}	protocol.Error	"rate_limited"
//	@Router			/auth/login [post]
func (a *API) login(c *gin.Context) {
	var req LoginRequest
	if !decode(c, &req) {
		return
	}
	if req.Email == "" || req.Password == "" || len(req.Email) > 254 {
		httpx.Fail(c, httpx.Validation("email and password are required"))
		return
	}
	res, err := a.auth.Login(c.Request.Context(), req.Email, req.Password, c.ClientIP(), c.Request.UserAgent())
	if err != nil {
		if errors.Is(err, auth.ErrInvalidCredentials) {
			a.auditEntry(c.Request.Context(), store.AuditEntry{ActorType: store.AuditActorAnonymous, ActorName: store.NormalizeEmail(req.Email),
				Action: "auth.login_failed", RemoteAddr: c.ClientIP()})
		}
		auth.FailLogin(c, err)
		return
	}
	a.auth.SetSessionCookies(c, res)
	a.auditEntry(c.Request.Context(), store.AuditEntry{ActorType: store.AuditActorUser, ActorID: res.User.ID, ActorName: res.User.Email,
		Action: "auth.login", TargetType: "session", TargetID: res.Session.ID, RemoteAddr: c.ClientIP()})
	c.JSON(http.StatusOK, LoginResponse{User: toUser(res.User), CSRFToken: res.CSRFToken, ExpiresAt: res.Session.ExpiresAt})
}

// logout ends the caller's session.
//
//	@Summary		Log out
//	@Description	Ends the current browser session server-side and clears its cookies. With an API token it does nothing (revoke the token instead).
//	@Tags			auth
//	@Produce		json
//	@Security		SessionCSRF
//	@Success		200	{object}	OK
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error	"csrf_failed"
//	@Router			/auth/logout [post]
func (a *API) logout(c *gin.Context) {
	p := principal(c)
	if p.SessionID != "" {
		if err := a.store.RevokeSession(c.Request.Context(), p.User.ID, p.SessionID); err != nil && !errors.Is(err, store.ErrNotFound) {
			fail(c, err)
			return
		}
		a.audit(c, "auth.logout", "session", p.SessionID, nil)
	}
	a.auth.ClearSessionCookies(c)
	c.JSON(http.StatusOK, OK{OK: true})
}

// me describes the caller.
//
//	@Summary		Who am I
//	@Tags			auth
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Success		200	{object}	Me
//	@Failure		401	{object}	protocol.Error
//	@Router			/auth/me [get]
func (a *API) me(c *gin.Context) {
	p := principal(c)
	c.JSON(http.StatusOK, Me{User: toUser(p.User), Role: p.Role, Via: p.Via(), SessionID: p.SessionID, TokenID: p.TokenID})
}

// setup creates the first admin account.
//
//	@Summary		Create the first admin
//	@Description	Only while no account exists, and only with the one-time setup token the server printed to its log at start-up. Log in afterwards.
//	@Tags			auth
//	@Accept			json
//	@Produce		json
//	@Param			body	body		SetupRequest	true	"setup token and the new admin"
//	@Success		201		{object}	User
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error	"setup_token_invalid"
//	@Failure		409		{object}	protocol.Error	"setup_done"
//	@Router			/auth/setup [post]
func (a *API) setup(c *gin.Context) {
	var req SetupRequest
	if !decode(c, &req) {
		return
	}
	if req.Token == "" || len(req.Token) > 256 {
		httpx.Fail(c, fieldError("token", "required"))
		return
	}
	if err := validateNewUser(req.Email, req.Name, store.RoleAdmin, req.Password); err != nil {
		httpx.Fail(c, err)
		return
	}
	hash, err := a.auth.Hasher().Hash(c.Request.Context(), req.Password)
	if err != nil {
		fail(c, err)
		return
	}
	u, err := a.store.CreateFirstAdmin(c.Request.Context(), store.NewUser{Email: req.Email, Name: req.Name, PasswordHash: hash},
		secrets.HashToken(req.Token))
	if err != nil {
		fail(c, err)
		return
	}
	a.auditEntry(c.Request.Context(), store.AuditEntry{ActorType: store.AuditActorAnonymous, ActorName: u.Email, Action: "auth.setup",
		TargetType: "user", TargetID: u.ID, RemoteAddr: c.ClientIP()})
	c.JSON(http.StatusCreated, toUser(u))
}

// changePassword changes the caller's own password.
//
//	@Summary		Change my password
//	@Description	Needs the current password. Every other session of the account is signed out.
//	@Tags			auth
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			body	body		PasswordChange	true	"current and new password"
//	@Success		200		{object}	OK
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error	"invalid_credentials: wrong current password"
//	@Router			/auth/password [post]
func (a *API) changePassword(c *gin.Context) {
	var req PasswordChange
	if !decode(c, &req) {
		return
	}
	if err := auth.ValidatePassword(req.NewPassword); err != nil {
		httpx.Fail(c, fieldError("new_password", "%v", err))
		return
	}
	p := principal(c)
	ctx := c.Request.Context()
	ok, _, err := a.auth.Hasher().Verify(ctx, p.User.PasswordHash, req.CurrentPassword)
	if err != nil && !errors.Is(err, auth.ErrMalformedHash) {
		fail(c, err)
		return
	}
	if !ok {
		httpx.Fail(c, &httpx.Error{Status: http.StatusForbidden, Code: auth.CodeInvalidCredentials, Message: "the current password is wrong"})
		return
	}
	hash, err := a.auth.Hasher().Hash(ctx, req.NewPassword)
	if err != nil {
		fail(c, err)
		return
	}
	if _, err := a.store.UpdateUser(ctx, p.User.ID, store.UserUpdate{PasswordHash: &hash}); err != nil {
		fail(c, err)
		return
	}
	n, err := a.store.RevokeUserSessions(ctx, p.User.ID, p.SessionID)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "auth.password_change", "user", p.User.ID, map[string]any{"sessions_revoked": n})
	c.JSON(http.StatusOK, OK{OK: true})
}

// listSessions lists the caller's live sessions.
//
//	@Summary		List my sessions
//	@Tags			auth
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Success		200	{object}	SessionList
//	@Failure		401	{object}	protocol.Error
//	@Router			/auth/sessions [get]
func (a *API) listSessions(c *gin.Context) {
	p := principal(c)
	ss, err := a.store.ListSessions(c.Request.Context(), p.User.ID)
	if err != nil {
		fail(c, err)
		return
	}
	out := SessionList{Items: make([]Session, len(ss))}
	for i, s := range ss {
		out.Items[i] = Session{ID: s.ID, Current: s.ID == p.SessionID, RemoteAddr: s.RemoteAddr, UserAgent: s.UserAgent,
			CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, ExpiresAt: s.ExpiresAt}
	}
	c.JSON(http.StatusOK, out)
}

// revokeSession ends one of the caller's sessions.
//
//	@Summary		Revoke one of my sessions
//	@Tags			auth
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"session id"
//	@Success		200	{object}	OK
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/auth/sessions/{id} [delete]
func (a *API) revokeSession(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	p := principal(c)
	if err := a.store.RevokeSession(c.Request.Context(), p.User.ID, id); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "session.revoke", "session", id, nil)
	c.JSON(http.StatusOK, OK{OK: true})
}

func validateNewUser(email, name, role, password string) error {
	if !auth.ValidEmail(email) {
		return fieldError("email", "must be an email address")
	}
	if len(name) > 200 || strings.ContainsAny(name, "\x00\n\r") {
		return fieldError("name", "at most 200 characters on one line")
	}
	if !auth.ValidRole(role) {
		return fieldError("role", "must be viewer, operator or admin")
	}
	if err := auth.ValidatePassword(password); err != nil {
		return fieldError("password", "%v", err)
	}
	return nil
}
