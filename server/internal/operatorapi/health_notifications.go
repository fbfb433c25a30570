package operatorapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/notifications"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

const maxRuleHosts = 1000

func validName(n string) bool {
	return n != "" && len(n) <= 200 && utf8.ValidString(n) && !strings.ContainsAny(n, "\x00\r\n")
}

// channelSettings turns the input's settings into the channel's JSON config, keeping
// write-only values of old when they are left out.
func channelSettings(req NotificationChannelInput, old []byte) ([]byte, string, error) {
	var (
		raw []byte
		err error
	)
	given := 0
	for _, set := range []bool{req.Webhook != nil, req.Email != nil, req.Chat != nil} {
		if set {
			given++
		}
	}
	if given > 1 {
		return nil, "", fieldError(req.Type, "give only the settings of the channel's type")
	}
	switch req.Type {
	case store.ChannelWebhook:
		s := req.Webhook
		if s == nil {
			s = &WebhookSettings{}
		}
		raw, err = json.Marshal(notifications.WebhookConfig{URL: s.URL, Secret: s.Secret, Headers: s.Headers})
	case store.ChannelEmail:
		if req.Email == nil {
			return nil, "", fieldError("email", "required for an email channel")
		}
		s := req.Email
		raw, err = json.Marshal(notifications.EmailConfig{Host: s.Host, Port: s.Port, Security: s.Security, Username: s.Username,
			Password: s.Password, From: s.From, To: s.To})
	case store.ChannelChat:
		s := req.Chat
		if s == nil {
			s = &ChatSettings{}
		}
		raw, err = json.Marshal(notifications.ChatConfig{URL: s.URL})
	default:
		return nil, "", fieldError("type", "must be one of %s", strings.Join(store.ChannelTypes, ", "))
	}
	if err != nil {
		return nil, "", err
	}
	cfg, summary, err := notifications.Prepare(req.Type, raw, old)
	var fe *notifications.FieldError
	if errors.As(err, &fe) {
		return nil, "", fieldError(fe.Field, "%s", fe.Message)
	}
	return cfg, summary, err
}

func (a *API) channelView(ch store.NotificationChannel) (NotificationChannel, error) {
	raw, err := a.store.OpenChannelConfig(ch)
	if err != nil {
		return NotificationChannel{}, err
	}
	return toChannel(ch, raw), nil
}

// listChannels lists the notification channels.
//
//	@Summary		List notification channels
//	@Description	Role: viewer. Secrets (webhook URL, secret and header values, SMTP password, chat service URL) are never returned.
//	@Tags			notifications
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Success		200	{object}	NotificationChannelList
//	@Failure		401	{object}	protocol.Error
//	@Router			/notification-channels [get]
func (a *API) listChannels(c *gin.Context) {
	chs, err := a.store.Channels(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	out := NotificationChannelList{Items: make([]NotificationChannel, len(chs))}
	for i, ch := range chs {
		if out.Items[i], err = a.channelView(ch); err != nil {
			fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, out)
}

func (a *API) channelFor(c *gin.Context) (store.NotificationChannel, bool) {
	id, ok := pathID(c, "id")
	if !ok {
		return store.NotificationChannel{}, false
	}
	ch, err := a.store.Channel(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return store.NotificationChannel{}, false
	}
	return ch, true
}

// getChannel shows a notification channel.
//
//	@Summary		Get a notification channel
//	@Description	Role: viewer.
//	@Tags			notifications
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"channel id"
//	@Success		200	{object}	NotificationChannel
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/notification-channels/{id} [get]
func (a *API) getChannel(c *gin.Context) {
	ch, ok := a.channelFor(c)
	if !ok {
		return
	}
	v, err := a.channelView(ch)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// createChannel adds a notification channel.
//
//	@Summary		Create a notification channel
//	@Description	Role: operator. A webhook (JSON POST, HMAC-SHA256 signed with the secret in X-RM-Signature-256), an email channel (SMTP) or a chat channel (a shoutrrr service URL: Slack, Discord, Telegram, Gotify, ntfy, Matrix, Teams, …). Nothing is routed to it until a rule names it. Try it with POST /notification-channels/{id}/test.
//	@Tags			notifications
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			body	body		NotificationChannelInput	true	"the channel"
//	@Success		201		{object}	NotificationChannel
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"name taken"
//	@Router			/notification-channels [post]
func (a *API) createChannel(c *gin.Context) {
	var req NotificationChannelInput
	if !decode(c, &req) {
		return
	}
	in, ok := channelInput(c, req, nil)
	if !ok {
		return
	}
	ch, err := a.store.CreateChannel(c.Request.Context(), in)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "notification_channel.create", "notification_channel", ch.ID, map[string]any{"name": ch.Name, "type": ch.Type, "summary": ch.Summary})
	v, err := a.channelView(ch)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, v)
}

func channelInput(c *gin.Context, req NotificationChannelInput, old []byte) (store.ChannelInput, bool) {
	req.Name = strings.TrimSpace(req.Name)
	if !validName(req.Name) {
		httpx.Fail(c, fieldError("name", "required, at most 200 characters on one line"))
		return store.ChannelInput{}, false
	}
	cfg, summary, err := channelSettings(req, old)
	if err != nil {
		fail(c, err)
		return store.ChannelInput{}, false
	}
	enabled := true
	if req.Enabled != nil {
		enabled = *req.Enabled
	}
	return store.ChannelInput{Name: req.Name, Type: req.Type, Config: cfg, Summary: summary, Enabled: enabled}, true
}

// replaceChannel replaces a notification channel's settings.
//
//	@Summary		Replace a notification channel
//	@Description	Role: operator. Write-only values left out keep their current values (webhook url, secret and headers; SMTP password with an unchanged username; chat url). The type cannot change.
//	@Tags			notifications
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string						true	"channel id"
//	@Param			body	body		NotificationChannelInput	true	"the channel"
//	@Success		200		{object}	NotificationChannel
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Failure		409		{object}	protocol.Error	"name taken"
//	@Router			/notification-channels/{id} [put]
func (a *API) replaceChannel(c *gin.Context) {
	ch, ok := a.channelFor(c)
	if !ok {
		return
	}
	var req NotificationChannelInput
	if !decode(c, &req) {
		return
	}
	if req.Type != ch.Type {
		httpx.Fail(c, fieldError("type", "a channel's type cannot change (it is %s)", ch.Type))
		return
	}
	old, err := a.store.OpenChannelConfig(ch)
	if err != nil {
		fail(c, err)
		return
	}
	in, ok := channelInput(c, req, old)
	if !ok {
		return
	}
	if ch, err = a.store.UpdateChannel(c.Request.Context(), ch.ID, in); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "notification_channel.update", "notification_channel", ch.ID, map[string]any{"name": ch.Name, "summary": ch.Summary, "enabled": ch.Enabled})
	v, err := a.channelView(ch)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, v)
}

// deleteChannel removes a notification channel and its rules.
//
//	@Summary		Delete a notification channel
//	@Description	Role: operator. Its rules go with it; its delivery log stays (pending deliveries fail).
//	@Tags			notifications
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"channel id"
//	@Success		200	{object}	OK
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/notification-channels/{id} [delete]
func (a *API) deleteChannel(c *gin.Context) {
	ch, ok := a.channelFor(c)
	if !ok {
		return
	}
	if err := a.store.DeleteChannel(c.Request.Context(), ch.ID); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "notification_channel.delete", "notification_channel", ch.ID, map[string]any{"name": ch.Name})
	c.JSON(http.StatusOK, OK{OK: true})
}

// testChannel sends a test message.
//
//	@Summary		Send a test notification
//	@Description	Role: operator. Sends a test message to the channel now (even when it is disabled) and answers with the delivery as logged: status delivered, or failed with last_error. It is not retried.
//	@Tags			notifications
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"channel id"
//	@Success		200	{object}	NotificationDelivery
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/notification-channels/{id}/test [post]
func (a *API) testChannel(c *gin.Context) {
	ch, ok := a.channelFor(c)
	if !ok {
		return
	}
	if a.cfg.Notifier == nil {
		fail(c, errors.New("operatorapi: no notifier configured"))
		return
	}
	d, err := a.cfg.Notifier.SendTest(c.Request.Context(), ch.ID)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "notification_channel.test", "notification_channel", ch.ID, map[string]any{"name": ch.Name, "status": d.Status})
	c.JSON(http.StatusOK, toDelivery(d))
}

// listRules lists the routing rules.
//
//	@Summary		List notification rules
//	@Description	Role: viewer. Oldest first.
//	@Tags			notifications
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Success		200	{object}	NotificationRuleList
//	@Failure		401	{object}	protocol.Error
//	@Router			/notification-rules [get]
func (a *API) listRules(c *gin.Context) {
	rs, err := a.store.Rules(c.Request.Context())
	if err != nil {
		fail(c, err)
		return
	}
	out := NotificationRuleList{Items: make([]NotificationRule, len(rs))}
	for i, r := range rs {
		out.Items[i] = toRule(r)
	}
	c.JSON(http.StatusOK, out)
}

// getRule shows a routing rule.
//
//	@Summary		Get a notification rule
//	@Description	Role: viewer.
//	@Tags			notifications
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"rule id"
//	@Success		200	{object}	NotificationRule
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/notification-rules/{id} [get]
func (a *API) getRule(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	r, err := a.store.Rule(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, toRule(r))
}

func ruleInput(c *gin.Context, req NotificationRuleInput) (store.RuleInput, bool) {
	req.Name = strings.TrimSpace(req.Name)
	bad := func(field, format string, args ...any) (store.RuleInput, bool) {
		httpx.Fail(c, fieldError(field, format, args...))
		return store.RuleInput{}, false
	}
	if !validName(req.Name) {
		return bad("name", "required, at most 200 characters on one line")
	}
	if _, err := uuid.Parse(req.ChannelID); err != nil {
		return bad("channel_id", "must be a channel id")
	}
	for _, e := range req.Events {
		if !slices.Contains(store.EventTypes, e) {
			return bad("events", "%q is not one of %s", e, strings.Join(store.EventTypes, ", "))
		}
	}
	for _, cond := range req.Conditions {
		if !slices.Contains(store.Conditions, cond) {
			return bad("conditions", "%q is not one of %s", cond, strings.Join(store.Conditions, ", "))
		}
	}
	if req.MinSeverity != "" && !slices.Contains(store.Severities, req.MinSeverity) {
		return bad("min_severity", "must be one of %s", strings.Join(store.Severities, ", "))
	}
	for _, k := range req.JobKinds {
		if !slices.Contains(protocol.JobKinds, k) {
			return bad("job_kinds", "%q is not one of %s", k, strings.Join(protocol.JobKinds, ", "))
		}
	}
	if len(req.HostIDs) > maxRuleHosts {
		return bad("host_ids", "at most %d hosts", maxRuleHosts)
	}
	for _, h := range req.HostIDs {
		if _, err := uuid.Parse(h); err != nil {
			return bad("host_ids", "%q is not a host id", h)
		}
	}
	if len(req.Labels) > maxLabels {
		return bad("labels", "at most %d labels", maxLabels)
	}
	for k, v := range req.Labels {
		if !labelKeyRE.MatchString(k) || !validLabelValue(v) {
			return bad("labels", "label %q is not a valid key=value", k)
		}
	}
	enabled := true
	if req.Enabled != nil {
		enabled = *req.Enabled
	}
	return store.RuleInput{Name: req.Name, ChannelID: req.ChannelID, Events: req.Events, Conditions: req.Conditions,
		MinSeverity: req.MinSeverity, JobKinds: req.JobKinds, HostIDs: req.HostIDs, Labels: req.Labels, Enabled: enabled}, true
}

// createRule adds a routing rule.
//
//	@Summary		Create a notification rule
//	@Description	Role: operator. Routes events to a channel. Events: alert.opened, alert.escalated (an open alert reached a higher severity), alert.resolved, job.succeeded, job.warning, job.failed (default: the three alert events). Empty filters match everything. An event reaches a channel once even when several rules route it there.
//	@Tags			notifications
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			body	body		NotificationRuleInput	true	"the rule"
//	@Success		201		{object}	NotificationRule
//	@Failure		400		{object}	protocol.Error	"invalid, or no such channel"
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Router			/notification-rules [post]
func (a *API) createRule(c *gin.Context) {
	var req NotificationRuleInput
	if !decode(c, &req) {
		return
	}
	in, ok := ruleInput(c, req)
	if !ok {
		return
	}
	r, err := a.store.CreateRule(c.Request.Context(), in)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "notification_rule.create", "notification_rule", r.ID, map[string]any{"name": r.Name, "channel_id": r.ChannelID})
	c.JSON(http.StatusCreated, toRule(r))
}

// replaceRule replaces a routing rule.
//
//	@Summary		Replace a notification rule
//	@Description	Role: operator.
//	@Tags			notifications
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string					true	"rule id"
//	@Param			body	body		NotificationRuleInput	true	"the rule"
//	@Success		200		{object}	NotificationRule
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/notification-rules/{id} [put]
func (a *API) replaceRule(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	var req NotificationRuleInput
	if !decode(c, &req) {
		return
	}
	in, ok := ruleInput(c, req)
	if !ok {
		return
	}
	r, err := a.store.UpdateRule(c.Request.Context(), id, in)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "notification_rule.update", "notification_rule", r.ID, map[string]any{"name": r.Name, "channel_id": r.ChannelID, "enabled": r.Enabled})
	c.JSON(http.StatusOK, toRule(r))
}

// deleteRule removes a routing rule.
//
//	@Summary		Delete a notification rule
//	@Description	Role: operator.
//	@Tags			notifications
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"rule id"
//	@Success		200	{object}	OK
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/notification-rules/{id} [delete]
func (a *API) deleteRule(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	if err := a.store.DeleteRule(c.Request.Context(), id); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "notification_rule.delete", "notification_rule", id, nil)
	c.JSON(http.StatusOK, OK{OK: true})
}

// listDeliveries lists the delivery log.
//
//	@Summary		List notification deliveries
//	@Description	Role: viewer. The delivery log, newest first: every event sent (or being retried, or given up) to a channel or a schedule's ping URL, with its attempts count and last error. Filters combine.
//	@Tags			notifications
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			status		query		string	false	"status"	Enums(pending, sending, delivered, failed)
//	@Param			channel_id	query		string	false	"channel id"
//	@Param			schedule_id	query		string	false	"schedule id (ping deliveries)"
//	@Param			event_type	query		string	false	"event type, e.g. alert.opened"
//	@Param			host_id		query		string	false	"host id"
//	@Param			alert_id	query		string	false	"alert id"
//	@Param			limit		query		int		false	"page size (1-500, default 50)"
//	@Param			cursor		query		string	false	"next_cursor of the previous page"
//	@Success		200			{object}	NotificationDeliveryPage
//	@Failure		400			{object}	protocol.Error
//	@Failure		401			{object}	protocol.Error
//	@Router			/notification-deliveries [get]
func (a *API) listDeliveries(c *gin.Context) {
	pg, ok := page(c)
	if !ok {
		return
	}
	f := store.DeliveryFilter{Status: c.Query("status"), EventType: c.Query("event_type"), HostID: c.Query("host_id"), AlertID: c.Query("alert_id")}
	if f.Status != "" && !slices.Contains(store.DeliveryStatuses, f.Status) {
		httpx.Fail(c, fieldError("status", "must be one of %s", strings.Join(store.DeliveryStatuses, ", ")))
		return
	}
	ch, sc := c.Query("channel_id"), c.Query("schedule_id")
	switch {
	case ch != "" && sc != "":
		httpx.Fail(c, fieldError("channel_id", "give channel_id or schedule_id, not both"))
		return
	case ch != "":
		f.TargetType, f.TargetID = store.TargetChannel, ch
	case sc != "":
		f.TargetType, f.TargetID = store.TargetPing, sc
	}
	for name, v := range map[string]string{"channel_id": ch, "schedule_id": sc, "event_type": f.EventType, "host_id": f.HostID, "alert_id": f.AlertID} {
		if len(v) > 64 {
			httpx.Fail(c, fieldError(name, "at most 64 characters"))
			return
		}
	}
	ds, next, err := a.store.ListDeliveries(c.Request.Context(), f, pg)
	if err != nil {
		fail(c, err)
		return
	}
	out := NotificationDeliveryPage{Items: make([]NotificationDelivery, len(ds)), NextCursor: next}
	for i, d := range ds {
		out.Items[i] = toDelivery(d)
	}
	c.JSON(http.StatusOK, out)
}

// getDelivery shows a delivery with its attempts.
//
//	@Summary		Get a notification delivery
//	@Description	Role: viewer. The delivery, the event it carries, and every attempt with its status code and error.
//	@Tags			notifications
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		int	true	"delivery id"
//	@Success		200	{object}	NotificationDeliveryDetail
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/notification-deliveries/{id} [get]
func (a *API) getDelivery(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		httpx.Fail(c, httpx.ErrNotFound)
		return
	}
	d, atts, err := a.store.DeliveryByID(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return
	}
	out := NotificationDeliveryDetail{NotificationDelivery: toDelivery(d), Event: d.Payload, AttemptsLog: make([]NotificationAttempt, len(atts))}
	for i, t := range atts {
		out.AttemptsLog[i] = NotificationAttempt{Attempt: t.Attempt, At: t.At, OK: t.OK, StatusCode: t.StatusCode, Error: t.Error, DurationMS: t.DurationMS}
	}
	c.JSON(http.StatusOK, out)
}

// getSchedulePing shows whether a schedule has a ping URL.
//
//	@Summary		Get a schedule's ping
//	@Description	Role: viewer. Whether the schedule pings a Healthchecks-style URL, and its host (the URL itself is write-only).
//	@Tags			notifications
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Param			sid	path		string	true	"schedule id"
//	@Success		200	{object}	SchedulePing
//	@Failure		401	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error
//	@Router			/hosts/{id}/schedules/{sid}/ping [get]
func (a *API) getSchedulePing(c *gin.Context) {
	h, sc, ok := a.scheduleFor(c, false)
	if !ok {
		return
	}
	p, err := a.store.SchedulePingOf(c.Request.Context(), h.ID, sc.ID)
	if errors.Is(err, store.ErrNotFound) {
		c.JSON(http.StatusOK, SchedulePing{ScheduleID: sc.ID})
		return
	}
	if err != nil {
		fail(c, err)
		return
	}
	t := p.UpdatedAt
	c.JSON(http.StatusOK, SchedulePing{ScheduleID: sc.ID, Configured: true, URLHost: p.URLHost, UpdatedAt: &t})
}

// setSchedulePing sets a schedule's ping URL.
//
//	@Summary		Set a schedule's ping URL
//	@Description	Role: operator. A Healthchecks-style URL (healthchecks.io, or self-hosted): when a job of the schedule starts, the server POSTs to URL/start; on success to URL; on failure to URL/fail (with the error as body). Pings are retried like notifications and appear in the delivery log.
//	@Tags			notifications
//	@Accept			json
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id		path		string				true	"host id"
//	@Param			sid		path		string				true	"schedule id"
//	@Param			body	body		SchedulePingInput	true	"the URL"
//	@Success		200		{object}	SchedulePing
//	@Failure		400		{object}	protocol.Error
//	@Failure		401		{object}	protocol.Error
//	@Failure		403		{object}	protocol.Error
//	@Failure		404		{object}	protocol.Error
//	@Router			/hosts/{id}/schedules/{sid}/ping [put]
func (a *API) setSchedulePing(c *gin.Context) {
	h, sc, ok := a.scheduleFor(c, true)
	if !ok {
		return
	}
	var req SchedulePingInput
	if !decode(c, &req) {
		return
	}
	u, err := url.Parse(req.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" || len(req.URL) > 2000 {
		httpx.Fail(c, fieldError("url", "must be an http:// or https:// URL without credentials or query"))
		return
	}
	p, err := a.store.SetSchedulePing(c.Request.Context(), h.ID, sc.ID, req.URL, u.Scheme+"://"+u.Host)
	if err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "schedule.ping.set", "schedule", sc.ID, map[string]any{"url_host": p.URLHost})
	t := p.UpdatedAt
	c.JSON(http.StatusOK, SchedulePing{ScheduleID: sc.ID, Configured: true, URLHost: p.URLHost, UpdatedAt: &t})
}

// deleteSchedulePing removes a schedule's ping URL.
//
//	@Summary		Remove a schedule's ping URL
//	@Description	Role: operator.
//	@Tags			notifications
//	@Produce		json
//	@Security		OperatorToken
//	@Security		SessionCSRF
//	@Param			id	path		string	true	"host id"
//	@Param			sid	path		string	true	"schedule id"
//	@Success		200	{object}	SchedulePing
//	@Failure		401	{object}	protocol.Error
//	@Failure		403	{object}	protocol.Error
//	@Failure		404	{object}	protocol.Error	"unknown schedule, or no ping URL"
//	@Router			/hosts/{id}/schedules/{sid}/ping [delete]
func (a *API) deleteSchedulePing(c *gin.Context) {
	h, sc, ok := a.scheduleFor(c, false)
	if !ok {
		return
	}
	if err := a.store.DeleteSchedulePing(c.Request.Context(), h.ID, sc.ID); err != nil {
		fail(c, err)
		return
	}
	a.audit(c, "schedule.ping.delete", "schedule", sc.ID, nil)
	c.JSON(http.StatusOK, SchedulePing{ScheduleID: sc.ID})
}
