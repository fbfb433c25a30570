package operatorapi

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/server/internal/auth"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// listUsers lists accounts.
//
//	@Summary		List accounts
//	@Description	Role: admin. Ordered by email.
//	@Tags			users
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			limit	query		int		false	"page size (1-500, default 50)"
//	@Param			cursor	query		string	false	"next_cursor of the previous page"
//	@Success		200		{object}	UserPage
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Router			/users [get]
func (a *API) listUsers(c *gin.Context) {
	pg, ok := page(c)
	if !ok {
		return
	}
	us, next, err := a.store.ListUsers(c.Request.Context(), pg)
	if err != nil {
		fail(c, err)
		return
	}
	out := UserPage{Items: make([]User, len(us)), NextCursor: next}
	for i, u := range us {
		out.Items[i] = toUser(u)
	}
	c.JSON(http.StatusOK, out)
}

// createUser creates an account.
//
//	@Summary		Create an account
//	@Description	Role: admin. Passwords are hashed with argon2id; at least 12 characters.
//	@Tags			users
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			body	body		UserCreate	true	"the account"
//	@Success		201		{object}	User
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"conflict: email taken"
//	@Router			/users [post]
func (a *API) createUser(c *gin.Context) {
	var req UserCreate
	if !decode(c, &req) {
		return
	}
	if err := validateNewUser(req.Email, req.Name, req.Role, req.Password); err != nil {
		httpx.Fail(c, err)
		return
	}
	hash, err := a.auth.Hasher().Hash(c.Request.Context(), req.Password)
	if err != nil {
		fail(c, err)
		return
	}
	u, err := a.store.CreateUser(c.Request.Context(), store.NewUser{Email: req.Email, Name: strings.TrimSpace(req.Name), Role: req.Role, PasswordHash: hash})
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "user.create", "user", u.ID, map[string]any{"email": u.Email, "role": u.Role})
	c.JSON(http.StatusCreated, toUser(u))
}

// getUser shows an account.
//
//	@Summary		Get an account
//	@Description	Role: admin.
//	@Tags			users
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"user id"
//	@Success		200	{object}	User
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/users/{id} [get]
func (a *API) getUser(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	u, err := a.store.UserByID(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toUser(u))
}

// updateUser changes an account.
//
//	@Summary		Change an account
//	@Description	Role: admin. Absent fields stay. A new password or disabling signs the account out everywhere. The last enabled admin can be neither demoted nor disabled (409 last_admin).
//	@Tags			users
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string		true	"user id"
//	@Param			body	body		UserUpdate	true	"changes"
//	@Success		200		{object}	User
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"last_admin"
//	@Router			/users/{id} [patch]
func (a *API) updateUser(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	var req UserUpdate
	if !decode(c, &req) {
		return
	}
	upd := store.UserUpdate{Name: req.Name, Role: req.Role, Disabled: req.Disabled}
	details := map[string]any{}
	if req.Name != nil {
		if len(*req.Name) > 200 || strings.ContainsAny(*req.Name, "\x00\n\r") {
			httpx.Fail(c, fieldError("name", "at most 200 characters on one line"))
			return
		}
		details["name"] = *req.Name
	}
	if req.Role != nil {
		if !auth.ValidRole(*req.Role) {
			httpx.Fail(c, fieldError("role", "must be viewer, operator or admin"))
			return
		}
		details["role"] = *req.Role
	}
	if req.Disabled != nil {
		details["disabled"] = *req.Disabled
	}
	if req.Password != nil {
		if err := auth.ValidatePassword(*req.Password); err != nil {
			httpx.Fail(c, fieldError("password", "%v", err))
			return
		}
		hash, err := a.auth.Hasher().Hash(c.Request.Context(), *req.Password)
		if err != nil {
			fail(c, err)
			return
		}
		upd.PasswordHash = &hash
		details["password"] = "(changed)"
	}
	u, err := a.store.UpdateUser(c.Request.Context(), id, upd)
	if err != nil {
		fail(c, err)
		return
	}
	if req.Password != nil {
		if _, err := a.store.RevokeUserSessions(c.Request.Context(), id, ""); err != nil {
			fail(c, err)
			return
		}
	}
	a.audit(c, "user.update", "user", id, details)
	c.JSON(http.StatusOK, toUser(u))
}

// deleteUser removes an account with its sessions and API tokens.
//
//	@Summary		Delete an account
//	@Description	Role: admin. Its sessions and API tokens go with it. The last enabled admin cannot be deleted (409 last_admin).
//	@Tags			users
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"user id"
//	@Success		200	{object}	OK
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Failure		409	{object}	protocol.Error	"last_admin"
//	@Router			/users/{id} [delete]
func (a *API) deleteUser(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	u, err := a.store.UserByID(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	if err := a.store.DeleteUser(c.Request.Context(), id); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "user.delete", "user", id, map[string]any{"email": u.Email})
	c.JSON(http.StatusOK, OK{OK: true})
}

// revokeUserSessions signs an account out everywhere.
//
//	@Summary		Revoke an account's sessions
//	@Description	Role: admin. Ends every browser session of the account (its API tokens stay; revoke them separately).
//	@Tags			users
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"user id"
//	@Success		200	{object}	RevokedCount
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/users/{id}/sessions [delete]
func (a *API) revokeUserSessions(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	if _, err := a.store.UserByID(c.Request.Context(), id); err != nil {
		fail(c, err)
		return
	}
	n, err := a.store.RevokeUserSessions(c.Request.Context(), id, "")
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "user.sessions_revoke", "user", id, map[string]any{"revoked": n})
	c.JSON(http.StatusOK, RevokedCount{Revoked: n})
}
