package operatorapi

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/restic-manager/restic-manager/server/internal/notifications"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// The wire types of fleet health: objectives, alerts, notification channels and rules,
// the delivery log and schedule pings. Channel secrets (webhook URL, secret and header
// values, SMTP password, chat service URL) are write-only, like repository secrets.

// HealthSummary counts the fleet by objective state and its open alerts.
type HealthSummary struct {
	// Hosts that are not decommissioned, by objective state: ok, at_risk, violated,
	// none (not judged: no backup schedule and no override), unknown (not evaluated yet).
	Hosts map[string]int64 `json:"hosts" validate:"required"`
	// Open alerts by condition and by severity.
	OpenAlerts           int64            `json:"open_alerts" validate:"required"`
	OpenAlertsByCond     map[string]int64 `json:"open_alerts_by_condition" validate:"required"`
	OpenAlertsBySeverity map[string]int64 `json:"open_alerts_by_severity" validate:"required"`
	EvaluatedAt          *time.Time       `json:"evaluated_at,omitempty" format:"date-time"` // the last evaluation round
} //@name HealthSummary

// HostHealth is a host's backup objective and state, with its open alerts.
type HostHealth struct {
	HostID   string            `json:"host_id" format:"uuid" validate:"required"`
	Name     string            `json:"name" validate:"required"`
	Hostname string            `json:"hostname" validate:"required"`
	Labels   map[string]string `json:"labels" validate:"required"`
	Status   string            `json:"status" enums:"online,offline,decommissioned" validate:"required"`
	// ok, at_risk (past 75% of the objective), violated, none (not judged) or unknown
	// (not evaluated yet).
	ObjectiveState string `json:"objective_state" enums:"ok,at_risk,violated,none,unknown" validate:"required"`
	// The maximum age of the last successful backup (0: none) and where it comes from:
	// schedules (twice the longest interval of the host's backup schedules plus slack),
	// override (set by an operator) or default (the server's -default-objective).
	ObjectiveSeconds int64      `json:"objective_seconds" validate:"required"`
	ObjectiveSource  string     `json:"objective_source,omitempty" enums:"schedules,override,default"`
	OverrideSeconds  *int64     `json:"override_seconds,omitempty"`
	LastBackupAt     *time.Time `json:"last_backup_at,omitempty" format:"date-time"`
	StateSince       *time.Time `json:"state_since,omitempty" format:"date-time"`
	OpenAlerts       []Alert    `json:"open_alerts" validate:"required"`
} //@name HostHealth

func toHostHealth(r store.HostHealthRow, onlineSince time.Time) HostHealth {
	labels := r.Host.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	out := HostHealth{HostID: r.Host.ID, Name: r.Host.Name, Hostname: r.Host.Hostname, Labels: labels,
		Status: store.HostStatus(r.Host, onlineSince), ObjectiveState: store.ObjectiveUnknown, OpenAlerts: make([]Alert, len(r.Open))}
	if r.Health != nil {
		since := r.Health.StateSince
		out.ObjectiveState, out.ObjectiveSeconds, out.ObjectiveSource = r.Health.ObjectiveState, r.Health.ObjectiveSeconds, r.Health.ObjectiveSource
		out.LastBackupAt, out.StateSince = r.Health.LastBackupAt, &since
	}
	if r.Override != nil {
		v := r.Override.MaxAgeSeconds
		out.OverrideSeconds = &v
	}
	for i, a := range r.Open {
		out.OpenAlerts[i] = toAlert(a, r.Host.Name)
	}
	return out
}

// HostHealthPage is a page of hosts with their health, by name.
type HostHealthPage struct {
	Items      []HostHealth `json:"items" validate:"required"`
	NextCursor string       `json:"next_cursor" validate:"required"`
} //@name HostHealthPage

// ObjectiveInput overrides a host's backup objective.
type ObjectiveInput struct {
	// The longest the last successful backup may be ago (60 s to 366 days).
	MaxAgeSeconds int64 `json:"max_age_seconds" example:"90000" validate:"required"`
} //@name ObjectiveInput

// Alert is one occurrence of a condition on a host. It is open until the condition
// ends; resolved alerts are the history.
type Alert struct {
	ID        string `json:"id" format:"uuid" validate:"required"`
	HostID    string `json:"host_id" format:"uuid" validate:"required"`
	HostName  string `json:"host_name" validate:"required"`
	Condition string `json:"condition" enums:"backup_objective,agent_offline,repository_locked,check_failed,restic_outdated" validate:"required"`
	// The highest severity reached while open.
	Severity   string         `json:"severity" enums:"info,warning,critical" validate:"required"`
	State      string         `json:"state" enums:"open,resolved" validate:"required"`
	Message    string         `json:"message" validate:"required"`
	Details    map[string]any `json:"details,omitempty"`
	OpenedAt   time.Time      `json:"opened_at" format:"date-time" validate:"required"`
	ResolvedAt *time.Time     `json:"resolved_at,omitempty" format:"date-time"`
	Resolution string         `json:"resolution,omitempty"`
} //@name Alert

func toAlert(a store.Alert, hostName string) Alert {
	st := store.AlertOpen
	if a.ResolvedAt != nil {
		st = store.AlertResolved
	}
	return Alert{ID: a.ID, HostID: a.HostID, HostName: hostName, Condition: a.Condition, Severity: a.Severity, State: st,
		Message: a.Message, Details: a.Details, OpenedAt: a.OpenedAt, ResolvedAt: a.ResolvedAt, Resolution: a.Resolution}
}

// AlertPage is a page of alerts, most recently opened first.
type AlertPage struct {
	Items      []Alert `json:"items" validate:"required"`
	NextCursor string  `json:"next_cursor" validate:"required"`
} //@name AlertPage

// WebhookSettings configure a webhook channel: the event is POSTed as JSON; with a
// secret, header X-RM-Signature-256 carries "sha256=" + hex(HMAC-SHA256(secret, body)).
// url, secret and header values are write-only: on update, left out, they stay.
type WebhookSettings struct {
	URL     string            `json:"url,omitempty" example:"https://hooks.example.com/restic-manager"`
	Secret  string            `json:"secret,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
} //@name WebhookSettings

// EmailSettings configure an email channel over SMTP. security: starttls (default; the
// server must offer it), tls (implicit TLS, port 465) or none (trusted relays only).
// The password is write-only: on update, left out with the same username, it stays.
type EmailSettings struct {
	Host     string   `json:"host" example:"smtp.example.com" validate:"required"`
	Port     int      `json:"port,omitempty" example:"587"`
	Security string   `json:"security,omitempty" enums:"starttls,tls,none"`
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
	From     string   `json:"from" example:"Restic Manager <backup@example.com>" validate:"required"`
	To       []string `json:"to" example:"ops@example.com" validate:"required"`
} //@name EmailSettings

// ChatSettings configure a chat channel with a shoutrrr service URL (slack://,
// discord://, telegram://, gotify://, ntfy://, matrix://, teams://, generic://, …; see
// the shoutrrr documentation). The URL holds tokens: it is write-only.
type ChatSettings struct {
	URL string `json:"url,omitempty" example:"ntfy://ntfy.sh/my-backups"`
} //@name ChatSettings

// NotificationChannelInput creates or replaces a channel: the settings object matching
// its type is required on create. A channel's type cannot change.
type NotificationChannelInput struct {
	Name    string           `json:"name" validate:"required"`
	Type    string           `json:"type" enums:"webhook,email,chat" validate:"required"`
	Enabled *bool            `json:"enabled,omitempty"` // default true
	Webhook *WebhookSettings `json:"webhook,omitempty"`
	Email   *EmailSettings   `json:"email,omitempty"`
	Chat    *ChatSettings    `json:"chat,omitempty"`
} //@name NotificationChannelInput

// WebhookView is what may be shown of a webhook channel.
type WebhookView struct {
	URLHost     string   `json:"url_host" validate:"required"` // scheme and host only
	SecretSet   bool     `json:"secret_set" validate:"required"`
	HeaderNames []string `json:"header_names" validate:"required"`
} //@name WebhookView

// EmailView is what may be shown of an email channel.
type EmailView struct {
	Host        string   `json:"host" validate:"required"`
	Port        int      `json:"port" validate:"required"`
	Security    string   `json:"security" enums:"starttls,tls,none" validate:"required"`
	Username    string   `json:"username,omitempty"`
	PasswordSet bool     `json:"password_set" validate:"required"`
	From        string   `json:"from" validate:"required"`
	To          []string `json:"to" validate:"required"`
} //@name EmailView

// ChatView is what may be shown of a chat channel.
type ChatView struct {
	Service string `json:"service" example:"slack" validate:"required"` // the URL's scheme
} //@name ChatView

// NotificationChannel is where notifications go. Secrets are never returned.
type NotificationChannel struct {
	ID        string       `json:"id" format:"uuid" validate:"required"`
	Name      string       `json:"name" validate:"required"`
	Type      string       `json:"type" enums:"webhook,email,chat" validate:"required"`
	Enabled   bool         `json:"enabled" validate:"required"`
	Summary   string       `json:"summary" validate:"required"`
	Webhook   *WebhookView `json:"webhook,omitempty"`
	Email     *EmailView   `json:"email,omitempty"`
	Chat      *ChatView    `json:"chat,omitempty"`
	CreatedAt time.Time    `json:"created_at" format:"date-time" validate:"required"`
	UpdatedAt time.Time    `json:"updated_at" format:"date-time" validate:"required"`
} //@name NotificationChannel

func toChannel(ch store.NotificationChannel, raw []byte) NotificationChannel {
	out := NotificationChannel{ID: ch.ID, Name: ch.Name, Type: ch.Type, Enabled: ch.Enabled, Summary: ch.Summary,
		CreatedAt: ch.CreatedAt, UpdatedAt: ch.UpdatedAt}
	switch ch.Type {
	case store.ChannelWebhook:
		var c notifications.WebhookConfig
		_ = json.Unmarshal(raw, &c)
		names := make([]string, 0, len(c.Headers))
		for k := range c.Headers {
			names = append(names, k)
		}
		sort.Strings(names)
		out.Webhook = &WebhookView{URLHost: ch.Summary, SecretSet: c.Secret != "", HeaderNames: names}
	case store.ChannelEmail:
		var c notifications.EmailConfig
		_ = json.Unmarshal(raw, &c)
		to := c.To
		if to == nil {
			to = []string{}
		}
		out.Email = &EmailView{Host: c.Host, Port: c.Port, Security: c.Security, Username: c.Username, PasswordSet: c.Password != "", From: c.From, To: to}
	case store.ChannelChat:
		out.Chat = &ChatView{Service: ch.Summary}
	}
	return out
}

// NotificationChannelList lists the channels (there are few).
type NotificationChannelList struct {
	Items []NotificationChannel `json:"items" validate:"required"`
} //@name NotificationChannelList

// NotificationRuleInput creates or replaces a routing rule. Empty lists match
// everything; events defaults to the alert events (alert.opened, alert.escalated,
// alert.resolved). conditions and min_severity filter alert events; job_kinds job
// events; host_ids and labels (all must match) filter both.
type NotificationRuleInput struct {
	Name        string            `json:"name" validate:"required"`
	ChannelID   string            `json:"channel_id" format:"uuid" validate:"required"`
	Events      []string          `json:"events,omitempty" example:"alert.opened,alert.resolved,job.failed"`
	Conditions  []string          `json:"conditions,omitempty" example:"backup_objective"`
	MinSeverity string            `json:"min_severity,omitempty" enums:"info,warning,critical"`
	JobKinds    []string          `json:"job_kinds,omitempty" example:"backup"`
	HostIDs     []string          `json:"host_ids,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Enabled     *bool             `json:"enabled,omitempty"` // default true
} //@name NotificationRuleInput

// NotificationRule routes events to a channel.
type NotificationRule struct {
	ID          string            `json:"id" format:"uuid" validate:"required"`
	Name        string            `json:"name" validate:"required"`
	ChannelID   string            `json:"channel_id" format:"uuid" validate:"required"`
	Events      []string          `json:"events" validate:"required"`
	Conditions  []string          `json:"conditions" validate:"required"`
	MinSeverity string            `json:"min_severity,omitempty" enums:"info,warning,critical"`
	JobKinds    []string          `json:"job_kinds" validate:"required"`
	HostIDs     []string          `json:"host_ids" validate:"required"`
	Labels      map[string]string `json:"labels" validate:"required"`
	Enabled     bool              `json:"enabled" validate:"required"`
	CreatedAt   time.Time         `json:"created_at" format:"date-time" validate:"required"`
	UpdatedAt   time.Time         `json:"updated_at" format:"date-time" validate:"required"`
} //@name NotificationRule

func toRule(r store.NotificationRule) NotificationRule {
	labels := r.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return NotificationRule{ID: r.ID, Name: r.Name, ChannelID: r.ChannelID, Events: nonNil(r.Events), Conditions: nonNil(r.Conditions),
		MinSeverity: r.MinSeverity, JobKinds: nonNil(r.JobKinds), HostIDs: nonNil(r.HostIDs), Labels: labels, Enabled: r.Enabled,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// NotificationRuleList lists the rules (there are few).
type NotificationRuleList struct {
	Items []NotificationRule `json:"items" validate:"required"`
} //@name NotificationRuleList

// NotificationDelivery is one event on its way to a channel (or a schedule's ping
// URL): the delivery log.
type NotificationDelivery struct {
	ID         int64  `json:"id" validate:"required"`
	TargetType string `json:"target_type" enums:"channel,ping" validate:"required"`
	TargetID   string `json:"target_id" validate:"required"` // channel or schedule id
	TargetName string `json:"target_name" validate:"required"`
	RuleID     string `json:"rule_id,omitempty"`
	EventType  string `json:"event_type" example:"alert.opened" validate:"required"`
	Title      string `json:"title" validate:"required"`
	HostID     string `json:"host_id,omitempty"`
	AlertID    string `json:"alert_id,omitempty"`
	JobID      string `json:"job_id,omitempty"`
	// pending (waiting for its next attempt), sending, delivered or failed (gave up).
	Status        string     `json:"status" enums:"pending,sending,delivered,failed" validate:"required"`
	Attempts      int        `json:"attempts" validate:"required"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty" format:"date-time"` // while pending
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at" format:"date-time" validate:"required"`
	UpdatedAt     time.Time  `json:"updated_at" format:"date-time" validate:"required"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty" format:"date-time"`
} //@name NotificationDelivery

func toDelivery(d store.NotificationDelivery) NotificationDelivery {
	out := NotificationDelivery{ID: d.ID, TargetType: d.TargetType, TargetID: d.TargetID, TargetName: d.TargetName, RuleID: d.RuleID,
		EventType: d.EventType, Title: notifications.Title(d.Payload), HostID: d.HostID, AlertID: d.AlertID, JobID: d.JobID,
		Status: d.Status, Attempts: d.Attempts, LastError: d.LastError, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, DeliveredAt: d.DeliveredAt}
	if d.Status == store.DeliveryPending {
		t := d.NextAttemptAt
		out.NextAttemptAt = &t
	}
	return out
}

// NotificationAttempt is one try of a delivery.
type NotificationAttempt struct {
	Attempt    int       `json:"attempt" validate:"required"`
	At         time.Time `json:"at" format:"date-time" validate:"required"`
	OK         bool      `json:"ok" validate:"required"`
	StatusCode int       `json:"status_code,omitempty"` // HTTP or SMTP reply code
	Error      string    `json:"error,omitempty"`
	DurationMS int64     `json:"duration_ms" validate:"required"`
} //@name NotificationAttempt

// NotificationDeliveryDetail is a delivery with the event it carries and every attempt.
type NotificationDeliveryDetail struct {
	NotificationDelivery
	Event       store.NotificationEvent `json:"event" swaggertype:"object" validate:"required"`
	AttemptsLog []NotificationAttempt   `json:"attempts_log" validate:"required"`
} //@name NotificationDeliveryDetail

// NotificationDeliveryPage is a page of the delivery log, newest first.
type NotificationDeliveryPage struct {
	Items      []NotificationDelivery `json:"items" validate:"required"`
	NextCursor string                 `json:"next_cursor" validate:"required"`
} //@name NotificationDeliveryPage

// SchedulePing is a schedule's Healthchecks-style ping: /start when its job starts,
// the URL on success, /fail on failure. The URL is write-only (it is the secret).
type SchedulePing struct {
	ScheduleID string     `json:"schedule_id" format:"uuid" validate:"required"`
	Configured bool       `json:"configured" validate:"required"`
	URLHost    string     `json:"url_host,omitempty"`
	UpdatedAt  *time.Time `json:"updated_at,omitempty" format:"date-time"`
} //@name SchedulePing

// SchedulePingInput sets a schedule's ping URL.
type SchedulePingInput struct {
	URL string `json:"url" example:"https://hc-ping.com/0f3e…" validate:"required"`
} //@name SchedulePingInput
