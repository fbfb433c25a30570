package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Objective states of a host.
const (
	ObjectiveOK       = "ok"
	ObjectiveAtRisk   = "at_risk"
	ObjectiveViolated = "violated"
	ObjectiveNone     = "none" // no backup schedule and no override: not judged
	ObjectiveUnknown  = "unknown"
)

// ObjectiveStates lists the states a host can be in, unknown (never evaluated) last.
var ObjectiveStates = []string{ObjectiveOK, ObjectiveAtRisk, ObjectiveViolated, ObjectiveNone, ObjectiveUnknown}

// Where a host's objective comes from.
const (
	ObjectiveFromSchedules = "schedules"
	ObjectiveFromOverride  = "override"
	ObjectiveFromDefault   = "default"
)

// Alert conditions.
const (
	ConditionBackupObjective  = "backup_objective"
	ConditionAgentOffline     = "agent_offline"
	ConditionRepositoryLocked = "repository_locked"
	ConditionCheckFailed      = "check_failed"
	ConditionResticOutdated   = "restic_outdated"
)

// Conditions lists every alert condition.
var Conditions = []string{ConditionBackupObjective, ConditionAgentOffline, ConditionRepositoryLocked, ConditionCheckFailed, ConditionResticOutdated}

// Alert severities, least severe first.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Severities lists the severities, least severe first.
var Severities = []string{SeverityInfo, SeverityWarning, SeverityCritical}

// SeverityRank orders severities; 0 is not a severity.
func SeverityRank(s string) int { return slices.Index(Severities, s) + 1 }

// Notification event types.
const (
	EventAlertOpened    = "alert.opened"
	EventAlertEscalated = "alert.escalated"
	EventAlertResolved  = "alert.resolved"
	EventJobSucceeded   = "job.succeeded"
	EventJobWarning     = "job.warning"
	EventJobFailed      = "job.failed"
	EventTest           = "test"
	EventPing           = "ping"
)

// EventTypes lists the event types a rule can route.
var EventTypes = []string{EventAlertOpened, EventAlertEscalated, EventAlertResolved, EventJobSucceeded, EventJobWarning, EventJobFailed}

// DefaultRuleEvents are routed by a rule that lists no events.
var DefaultRuleEvents = []string{EventAlertOpened, EventAlertEscalated, EventAlertResolved}

// Notification channel types.
const (
	ChannelWebhook = "webhook"
	ChannelEmail   = "email"
	ChannelChat    = "chat"
)

// ChannelTypes lists the channel types.
var ChannelTypes = []string{ChannelWebhook, ChannelEmail, ChannelChat}

// Delivery targets and statuses.
const (
	TargetChannel = "channel"
	TargetPing    = "ping"

	DeliveryPending   = "pending"
	DeliverySending   = "sending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// DeliveryStatuses lists the delivery statuses.
var DeliveryStatuses = []string{DeliveryPending, DeliverySending, DeliveryDelivered, DeliveryFailed}

// HostObjective is an operator's override of a host's objective.
type HostObjective struct {
	HostID        string `gorm:"primaryKey"`
	MaxAgeSeconds int64
	UpdatedBy     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// HostHealth is a host's objective state as last evaluated.
type HostHealth struct {
	HostID           string `gorm:"primaryKey"`
	ObjectiveState   string
	ObjectiveSeconds int64
	ObjectiveSource  string
	LastBackupAt     *time.Time
	StateSince       time.Time
	UpdatedAt        time.Time
}

// TableName keeps the table name of the migration.
func (HostHealth) TableName() string { return "host_health" }

// Alert is one occurrence of a condition on a host, open until the condition ends.
type Alert struct {
	ID         string `gorm:"primaryKey"`
	HostID     string
	Condition  string
	Severity   string
	Message    string
	Details    map[string]any `gorm:"serializer:json"`
	OpenedAt   time.Time
	ResolvedAt *time.Time
	Resolution string
	UpdatedAt  time.Time
}

// NotificationChannel is where notifications go. Its configuration (URLs, secrets, SMTP
// settings) is sealed; Summary is what may be shown.
type NotificationChannel struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Type      string
	ConfigEnc string
	Summary   string
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// NotificationRule routes events to a channel. Empty lists match everything (events:
// the alert events).
type NotificationRule struct {
	ID          string `gorm:"primaryKey"`
	Name        string
	ChannelID   string
	Events      []string          `gorm:"serializer:json"`
	Conditions  []string          `gorm:"serializer:json"`
	MinSeverity string            // empty: every severity
	JobKinds    []string          `gorm:"serializer:json"`
	HostIDs     []string          `gorm:"serializer:json"`
	Labels      map[string]string `gorm:"serializer:json"`
	Enabled     bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Matches reports whether the rule routes an event.
func (r NotificationRule) Matches(ev NotificationEvent) bool {
	if !r.Enabled {
		return false
	}
	events := r.Events
	if len(events) == 0 {
		events = DefaultRuleEvents
	}
	if !slices.Contains(events, ev.Type) {
		return false
	}
	if ev.Host != nil {
		if len(r.HostIDs) > 0 && !slices.Contains(r.HostIDs, ev.Host.ID) {
			return false
		}
		for k, v := range r.Labels {
			if got, ok := ev.Host.Labels[k]; !ok || got != v {
				return false
			}
		}
	} else if len(r.HostIDs) > 0 || len(r.Labels) > 0 {
		return false
	}
	if ev.Alert != nil {
		if len(r.Conditions) > 0 && !slices.Contains(r.Conditions, ev.Alert.Condition) {
			return false
		}
		if r.MinSeverity != "" && SeverityRank(ev.Alert.Severity) < SeverityRank(r.MinSeverity) {
			return false
		}
	}
	if ev.Job != nil && len(r.JobKinds) > 0 && !slices.Contains(r.JobKinds, ev.Job.Kind) {
		return false
	}
	return true
}

// SchedulePing is the Healthchecks-style ping URL of a schedule (sealed: the URL is the
// secret).
type SchedulePing struct {
	ScheduleID string `gorm:"primaryKey"`
	HostID     string
	URLEnc     string `gorm:"column:url_enc"`
	URLHost    string `gorm:"column:url_host"`
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// NotificationDelivery is one event on its way to one channel or ping URL.
type NotificationDelivery struct {
	ID            int64 `gorm:"primaryKey"`
	TargetType    string
	TargetID      string
	TargetName    string
	RuleID        string
	EventType     string
	EventKey      string
	HostID        string
	AlertID       string
	JobID         string
	Payload       NotificationEvent `gorm:"serializer:json"`
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	ClaimedUntil  *time.Time
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	DeliveredAt   *time.Time
}

// NotificationAttempt is one try of a delivery.
type NotificationAttempt struct {
	ID         int64 `gorm:"primaryKey"`
	DeliveryID int64
	Attempt    int
	At         time.Time
	OK         bool `gorm:"column:ok"`
	StatusCode int
	Error      string
	DurationMS int64 `gorm:"column:duration_ms"`
}

// HealthMeta holds the evaluator's marks.
type HealthMeta struct {
	Name string `gorm:"primaryKey"`
	At   time.Time
}

// TableName keeps the table name of the migration.
func (HealthMeta) TableName() string { return "health_meta" }

// Marks in health_meta.
const (
	metaRound = "round"
	metaJobs  = "jobs"
)

// NotificationEvent is what a notification says. It is stored with the delivery as it
// was when the event happened, and rendered per channel when sent.
type NotificationEvent struct {
	Type  string      `json:"type"`
	At    time.Time   `json:"at"`
	Host  *EventHost  `json:"host,omitempty"`
	Alert *EventAlert `json:"alert,omitempty"`
	Job   *EventJob   `json:"job,omitempty"`
	// PingPath is appended to a schedule's ping URL: "/start", "" or "/fail".
	PingPath string `json:"ping_path,omitempty"`
}

// EventHost identifies the host of an event.
type EventHost struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Hostname string            `json:"hostname"`
	Labels   map[string]string `json:"labels,omitempty"`
}

// EventAlert is the alert of an alert event.
type EventAlert struct {
	ID         string         `json:"id"`
	Condition  string         `json:"condition"`
	Severity   string         `json:"severity"`
	Message    string         `json:"message"`
	Details    map[string]any `json:"details,omitempty"`
	OpenedAt   time.Time      `json:"opened_at"`
	ResolvedAt *time.Time     `json:"resolved_at,omitempty"`
	Resolution string         `json:"resolution,omitempty"`
}

// EventJob is the job of a job event.
type EventJob struct {
	ID              string     `json:"id"`
	Kind            string     `json:"kind"`
	Status          string     `json:"status"`
	Error           string     `json:"error,omitempty"`
	ExitCode        *int       `json:"exit_code,omitempty"`
	ScheduleID      string     `json:"schedule_id,omitempty"`
	RepositoryID    string     `json:"repository_id,omitempty"`
	RepositoryName  string     `json:"repository_name,omitempty"`
	StartedAt       *time.Time `json:"started_at,omitempty"`
	FinishedAt      *time.Time `json:"finished_at,omitempty"`
	DurationSeconds float64    `json:"duration_seconds,omitempty"`
}

func eventOfAlert(typ string, at time.Time, host EventHost, a Alert) NotificationEvent {
	h := host
	return NotificationEvent{Type: typ, At: at.UTC(), Host: &h, Alert: &EventAlert{ID: a.ID, Condition: a.Condition,
		Severity: a.Severity, Message: a.Message, Details: a.Details, OpenedAt: a.OpenedAt, ResolvedAt: a.ResolvedAt, Resolution: a.Resolution}}
}

// nullTime scans a timestamp that SQLite may return as text (aggregates and subqueries
// lose the column type there).
type nullTime struct {
	T     time.Time
	Valid bool
}

var sqliteTimeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"}

func (n *nullTime) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*n = nullTime{}
		return nil
	case time.Time:
		*n = nullTime{T: x.UTC(), Valid: true}
		return nil
	case []byte:
		return n.parse(string(x))
	case string:
		return n.parse(x)
	}
	return fmt.Errorf("store: cannot scan %T as a time", v)
}

func (n *nullTime) parse(s string) error {
	s = strings.TrimSpace(s)
	if s == "" {
		*n = nullTime{}
		return nil
	}
	for _, l := range sqliteTimeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			*n = nullTime{T: t.UTC(), Valid: true}
			return nil
		}
	}
	return fmt.Errorf("store: unrecognised time %q", s)
}

// Value lets a nullTime be written back (unused, but keeps it a complete type).
func (n nullTime) Value() (driver.Value, error) {
	if !n.Valid {
		return nil, nil
	}
	return n.T, nil
}

func (n nullTime) ptr() *time.Time {
	if !n.Valid {
		return nil
	}
	t := n.T
	return &t
}

// jsonText scans a JSON column of either dialect.
type jsonText []byte

func (j *jsonText) Scan(v any) error {
	switch x := v.(type) {
	case nil:
		*j = nil
	case []byte:
		*j = append((*j)[:0], x...)
	case string:
		*j = []byte(x)
	default:
		return fmt.Errorf("store: cannot scan %T as JSON", v)
	}
	return nil
}

func (j jsonText) labels() map[string]string {
	out := map[string]string{}
	if len(j) > 0 {
		_ = json.Unmarshal(j, &out)
	}
	return out
}
