package operatorapi

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// listAudit lists the audit log.
//
//	@Summary		Read the audit log
//	@Description	Role: admin. Every state-changing action (and every login attempt): who (actor), what (action, target, details without secrets), when, and from where (client address). Newest first; filters combine.
//	@Tags			audit
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			actor_id	query		string	false	"user or API token id"
//	@Param			action		query		string	false	"action, e.g. host.rename"
//	@Param			target_type	query		string	false	"e.g. host, user, job"
//	@Param			target_id	query		string	false	"target id"
//	@Param			since		query		string	false	"at or after (RFC 3339)"
//	@Param			until		query		string	false	"before (RFC 3339)"
//	@Param			limit		query		int		false	"page size (1-500, default 50)"
//	@Param			cursor		query		string	false	"next_cursor of the previous page"
//	@Success		200			{object}	AuditPage
//	@Failure		400			{object}	protocol.Error
//	@Failure		401			{object}	protocol.Error
//	@Failure		403			{object}	protocol.Error
//	@Router			/audit [get]
func (a *API) listAudit(c *gin.Context) {
	pg, ok := page(c)
	if !ok {
		return
	}
	f := store.AuditFilter{ActorID: c.Query("actor_id"), Action: c.Query("action"), TargetType: c.Query("target_type"), TargetID: c.Query("target_id")}
	for name, v := range map[string]string{"actor_id": f.ActorID, "action": f.Action, "target_type": f.TargetType, "target_id": f.TargetID} {
		if len(v) > 200 {
			httpx.Fail(c, fieldError(name, "at most 200 characters"))
			return
		}
	}
	if f.Since, ok = queryTime(c, "since"); !ok {
		return
	}
	if f.Until, ok = queryTime(c, "until"); !ok {
		return
	}
	es, next, err := a.store.ListAudit(c.Request.Context(), f, pg)
	if err != nil {
		fail(c, err)
		return
	}
	out := AuditPage{Items: make([]AuditEntry, len(es)), NextCursor: next}
	for i, e := range es {
		out.Items[i] = AuditEntry{ID: e.ID, At: e.At, ActorType: e.ActorType, ActorID: e.ActorID, ActorName: e.ActorName, Action: e.Action,
			TargetType: e.TargetType, TargetID: e.TargetID, RemoteAddr: e.RemoteAddr, Details: e.Details}
	}
	c.JSON(http.StatusOK, out)
}
