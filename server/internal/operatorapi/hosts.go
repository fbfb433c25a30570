package operatorapi

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

var labelKeyRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/-]{0,62}$`)

const (
	maxLabels        = 64
	maxLabelValueLen = 255
	maxHostNameLen   = 255
)

func validLabelValue(v string) bool {
	return len(v) <= maxLabelValueLen && utf8.ValidString(v) && !strings.ContainsAny(v, "\x00\n\r")
}

// listHosts lists hosts.
//
//	@Summary		List hosts
//	@Description	Role: viewer. Keyset-paginated, so it stays fast with tens of thousands of hosts. Without status, decommissioned hosts are left out. A host is online when it was seen in the last two minutes.
//	@Tags			hosts
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			q		query		string		false	"substring of the name or hostname (any case), or an exact host id"
//	@Param			label	query		[]string	false	"key=value (must match) or key (must be present); repeat for several"	collectionFormat(multi)
//	@Param			status	query		string		false	"online, offline, decommissioned or all"	Enums(online, offline, decommissioned, all)
//	@Param			sort	query		string		false	"sort key (default name)"	Enums(name, hostname, last_seen, created_at)
//	@Param			order	query		string		false	"asc (default) or desc"	Enums(asc, desc)
//	@Param			limit	query		int			false	"page size (1-500, default 50)"
//	@Param			cursor	query		string		false	"next_cursor of the previous page"
//	@Success		200		{object}	HostPage
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Router			/hosts [get]
func (a *API) listHosts(c *gin.Context) {
	pg, ok := page(c)
	if !ok {
		return
	}
	f := store.HostFilter{Search: strings.TrimSpace(c.Query("q")), Status: c.Query("status"), Sort: c.Query("sort"), OnlineSince: a.onlineSince()}
	if len(f.Search) > 200 {
		httpx.Fail(c, fieldError("q", "at most 200 characters"))
		return
	}
	if f.Sort != "" && !slices.Contains(store.HostSorts, f.Sort) {
		httpx.Fail(c, fieldError("sort", "must be one of %s", strings.Join(store.HostSorts, ", ")))
		return
	}
	switch f.Status {
	case "", "all", store.HostOnline, store.HostOffline, store.HostDecommissioned:
	default:
		httpx.Fail(c, fieldError("status", "must be online, offline, decommissioned or all"))
		return
	}
	switch c.Query("order") {
	case "", "asc":
	case "desc":
		f.Desc = true
	default:
		httpx.Fail(c, fieldError("order", "must be asc or desc"))
		return
	}
	labels := c.QueryArray("label")
	if len(labels) > 16 {
		httpx.Fail(c, fieldError("label", "at most 16 label filters"))
		return
	}
	for _, l := range labels {
		k, v, hasValue := strings.Cut(l, "=")
		if !labelKeyRE.MatchString(k) || (hasValue && !validLabelValue(v)) {
			httpx.Fail(c, fieldError("label", "%q is not key=value or key with a valid key", l))
			return
		}
		if hasValue {
			if f.Labels == nil {
				f.Labels = map[string]string{}
			}
			f.Labels[k] = v
		} else {
			f.LabelKeys = append(f.LabelKeys, k)
		}
	}
	hs, next, err := a.store.ListHosts(c.Request.Context(), f, pg)
	if err != nil {
		fail(c, err)
		return
	}
	out := HostPage{Items: make([]Host, len(hs)), NextCursor: next}
	for i, h := range hs {
		out.Items[i] = toHost(h, f.OnlineSince)
	}
	c.JSON(http.StatusOK, out)
}

// hostSummary counts hosts by status.
//
//	@Summary		Count hosts by status
//	@Description	Role: viewer.
//	@Tags			hosts
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Success		200	{object}	HostSummary
//	@Failure		401	{object}	protocol.Error
//	@Router			/hosts/summary [get]
func (a *API) hostSummary(c *gin.Context) {
	n, err := a.store.CountHosts(c.Request.Context(), a.onlineSince())
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, HostSummary{Total: n.Total, Online: n.Online, Offline: n.Offline, Decommissioned: n.Decommissioned})
}

// getHost shows a host.
//
//	@Summary		Get a host
//	@Description	Role: viewer.
//	@Tags			hosts
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Success		200	{object}	Host
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id} [get]
func (a *API) getHost(c *gin.Context) {
	h, ok := a.hostFor(c, false)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, toHost(h, a.onlineSince()))
}

// updateHost renames a host or replaces its labels.
//
//	@Summary		Rename a host or set its labels
//	@Description	Role: operator. Absent fields stay; labels replace all labels. Label keys: letters, digits, '.', '_', '/', '-' (at most 63, starting with a letter or digit); values at most 255 characters.
//	@Tags			hosts
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string		true	"host id"
//	@Param			body	body		HostUpdate	true	"changes"
//	@Success		200		{object}	Host
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/hosts/{id} [patch]
func (a *API) updateHost(c *gin.Context) {
	h, ok := a.hostFor(c, false)
	if !ok {
		return
	}
	var req HostUpdate
	if !decode(c, &req) {
		return
	}
	if req.Name != nil {
		n := strings.TrimSpace(*req.Name)
		if n == "" || len(n) > maxHostNameLen || !utf8.ValidString(n) || strings.ContainsAny(n, "\x00\n\r") {
			httpx.Fail(c, fieldError("name", "required, at most %d characters on one line", maxHostNameLen))
			return
		}
		req.Name = &n
	}
	if req.Labels != nil {
		if len(*req.Labels) > maxLabels {
			httpx.Fail(c, fieldError("labels", "at most %d labels", maxLabels))
			return
		}
		for k, v := range *req.Labels {
			if !labelKeyRE.MatchString(k) || !validLabelValue(v) {
				httpx.Fail(c, fieldError("labels", "label %q: keys are letters, digits, '.', '_', '/', '-' (at most 63); values at most %d characters on one line", k, maxLabelValueLen))
				return
			}
		}
	}
	ctx := c.Request.Context()
	details := map[string]any{}
	var err error
	if req.Name != nil {
		details["old_name"], details["name"] = h.Name, *req.Name
		if h, err = a.store.RenameHost(ctx, h.ID, *req.Name); err != nil {
			fail(c, err)
			return
		}
	}
	if req.Labels != nil {
		details["labels"] = *req.Labels
		if h, err = a.store.SetHostLabels(ctx, h.ID, *req.Labels); err != nil {
			fail(c, err)
			return
		}
	}
	a.audit(c, "host.update", "host", h.ID, details)
	c.JSON(http.StatusOK, toHost(h, a.onlineSince()))
}

// decommissionHost retires a host.
//
//	@Summary		Decommission a host
//	@Description	Role: operator. Revokes the host's agent credential at once (on every server replica), cancels its unfinished jobs and hides it from the default host list. Its history stays. Repeating it is harmless; it cannot be undone (enrol the machine again instead).
//	@Tags			hosts
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Success		200	{object}	Host
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/decommission [post]
func (a *API) decommissionHost(c *gin.Context) {
	h, ok := a.hostFor(c, false)
	if !ok {
		return
	}
	h, err := a.disp.DecommissionHost(c.Request.Context(), h.ID)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "host.decommission", "host", h.ID, map[string]any{"name": h.Name})
	c.JSON(http.StatusOK, toHost(h, a.onlineSince()))
}
