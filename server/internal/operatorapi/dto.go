package operatorapi

import (
	"encoding/json"
	"slices"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// The wire types of the operator API. They are separate from the store's models so that
// nothing secret (password hashes, sealed repository secrets, token hashes) can leak by
// accident: a field reaches the client only when it is listed here. `@name` gives each
// schema a clean name in openapi.yaml.

// Info describes the server. GET /info needs no authentication.
type Info struct {
	Version            string    `json:"version" example:"1.2.0" validate:"required"`
	ProtocolVersion    int       `json:"protocol_version" example:"1" validate:"required"`
	MinProtocolVersion int       `json:"min_protocol_version" example:"1" validate:"required"`
	SetupRequired      bool      `json:"setup_required" validate:"required"` // no account exists yet: use POST /auth/setup
	ServerTime         time.Time `json:"server_time" format:"date-time" validate:"required"`
} //@name Info

// User is an operator account.
type User struct {
	ID          string     `json:"id" format:"uuid" validate:"required"`
	Email       string     `json:"email" example:"ops@example.com" validate:"required"`
	Name        string     `json:"name" validate:"required"`
	Role        string     `json:"role" enums:"viewer,operator,admin" validate:"required"`
	Disabled    bool       `json:"disabled" validate:"required"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty" format:"date-time"`
	CreatedAt   time.Time  `json:"created_at" format:"date-time" validate:"required"`
	UpdatedAt   time.Time  `json:"updated_at" format:"date-time" validate:"required"`
} //@name User

func toUser(u store.User) User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, Role: u.Role, Disabled: u.DisabledAt != nil,
		LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// UserPage is a page of accounts.
type UserPage struct {
	Items      []User `json:"items" validate:"required"`
	NextCursor string `json:"next_cursor" validate:"required"` // empty on the last page
} //@name UserPage

// LoginRequest opens a browser session.
type LoginRequest struct {
	Email    string `json:"email" example:"ops@example.com" validate:"required"`
	Password string `json:"password" example:"correct horse battery staple" validate:"required"`
} //@name LoginRequest

// LoginResponse carries the CSRF token of the new session (also set as the rm_csrf
// cookie). The session itself travels only in the HttpOnly rm_session cookie.
type LoginResponse struct {
	User      User      `json:"user" validate:"required"`
	CSRFToken string    `json:"csrf_token" validate:"required"`
	ExpiresAt time.Time `json:"expires_at" format:"date-time" validate:"required"`
} //@name LoginResponse

// SetupRequest creates the first admin with the one-time setup token from the server log.
type SetupRequest struct {
	Token    string `json:"token" validate:"required"`
	Email    string `json:"email" validate:"required"`
	Name     string `json:"name,omitempty"`
	Password string `json:"password" validate:"required"`
} //@name SetupRequest

// Me is the authenticated principal.
type Me struct {
	User User `json:"user" validate:"required"`
	// The effective role: an API token's is the lower of its own and its owner's.
	Role      string `json:"role" enums:"viewer,operator,admin" validate:"required"`
	Via       string `json:"via" enums:"session,token" validate:"required"`
	SessionID string `json:"session_id,omitempty"`
	TokenID   string `json:"token_id,omitempty"`
} //@name Me

// PasswordChange changes the caller's own password; other sessions are signed out.
type PasswordChange struct {
	CurrentPassword string `json:"current_password" validate:"required"`
	NewPassword     string `json:"new_password" validate:"required"`
} //@name PasswordChange

// Session is one of the caller's browser sessions.
type Session struct {
	ID         string    `json:"id" format:"uuid" validate:"required"`
	Current    bool      `json:"current" validate:"required"`
	RemoteAddr string    `json:"remote_addr" validate:"required"`
	UserAgent  string    `json:"user_agent" validate:"required"`
	CreatedAt  time.Time `json:"created_at" format:"date-time" validate:"required"`
	LastSeenAt time.Time `json:"last_seen_at" format:"date-time" validate:"required"` // updated at most once a minute
	ExpiresAt  time.Time `json:"expires_at" format:"date-time" validate:"required"`
} //@name Session

// SessionList lists sessions (never more than a page: there are few).
type SessionList struct {
	Items []Session `json:"items" validate:"required"`
} //@name SessionList

// UserCreate creates an account.
type UserCreate struct {
	Email    string `json:"email" validate:"required"`
	Name     string `json:"name,omitempty"`
	Role     string `json:"role" enums:"viewer,operator,admin" validate:"required"`
	Password string `json:"password" validate:"required"`
} //@name UserCreate

// UserUpdate changes an account; absent fields stay. A new password signs the account
// out everywhere; disabling it does too.
type UserUpdate struct {
	Name     *string `json:"name,omitempty"`
	Role     *string `json:"role,omitempty" enums:"viewer,operator,admin"`
	Disabled *bool   `json:"disabled,omitempty"`
	Password *string `json:"password,omitempty"`
} //@name UserUpdate

// RevokedCount says how many things were revoked.
type RevokedCount struct {
	Revoked int64 `json:"revoked" validate:"required"`
} //@name RevokedCount

// Token states.
const (
	stateActive  = "active"
	stateExpired = "expired"
	stateRevoked = "revoked"
	stateUsedUp  = "used_up"
)

// APIToken describes an API token; its secret is shown only once, at creation.
type APIToken struct {
	ID           string     `json:"id" format:"uuid" validate:"required"`
	Name         string     `json:"name" validate:"required"`
	Role         string     `json:"role" enums:"viewer,operator,admin" validate:"required"`
	UserID       string     `json:"user_id" format:"uuid" validate:"required"`
	UserEmail    string     `json:"user_email" validate:"required"`
	State        string     `json:"state" enums:"active,expired,revoked" validate:"required"`
	CreatedAt    time.Time  `json:"created_at" format:"date-time" validate:"required"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty" format:"date-time"`
	LastUsedAt   *time.Time `json:"last_used_at,omitempty" format:"date-time"` // recorded at most once a minute
	LastUsedAddr string     `json:"last_used_addr,omitempty"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty" format:"date-time"`
} //@name APIToken

func toAPIToken(t store.APIToken, now time.Time) APIToken {
	st := stateActive
	switch {
	case t.RevokedAt != nil:
		st = stateRevoked
	case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
		st = stateExpired
	}
	return APIToken{ID: t.ID, Name: t.Name, Role: t.Role, UserID: t.UserID, UserEmail: t.UserEmail, State: st,
		CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, LastUsedAt: t.LastUsedAt, LastUsedAddr: t.LastUsedAddr, RevokedAt: t.RevokedAt}
}

// APITokenPage is a page of API tokens.
type APITokenPage struct {
	Items      []APIToken `json:"items" validate:"required"`
	NextCursor string     `json:"next_cursor" validate:"required"`
} //@name APITokenPage

// APITokenCreate creates an API token for the caller, with a role no higher than the
// caller's own and an optional expiry.
type APITokenCreate struct {
	Name      string     `json:"name" example:"ci-backup-check" validate:"required"`
	Role      string     `json:"role" enums:"viewer,operator,admin" validate:"required"`
	ExpiresAt *time.Time `json:"expires_at,omitempty" format:"date-time"`
} //@name APITokenCreate

// APITokenCreated is a new API token with its secret, shown this once.
type APITokenCreated struct {
	APIToken
	Token string `json:"token" example:"rmt_..." validate:"required"`
} //@name APITokenCreated

// EnrollmentToken describes an enrollment token; its secret is shown only once.
type EnrollmentToken struct {
	ID          string     `json:"id" format:"uuid" validate:"required"`
	Description string     `json:"description" validate:"required"`
	CreatedBy   string     `json:"created_by" validate:"required"`
	State       string     `json:"state" enums:"active,expired,revoked,used_up" validate:"required"`
	MaxUses     int        `json:"max_uses" validate:"required"`
	Uses        int        `json:"uses" validate:"required"`
	CreatedAt   time.Time  `json:"created_at" format:"date-time" validate:"required"`
	ExpiresAt   time.Time  `json:"expires_at" format:"date-time" validate:"required"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty" format:"date-time"`
} //@name EnrollmentToken

func toEnrollmentToken(t store.EnrollmentToken, now time.Time) EnrollmentToken {
	st := stateActive
	switch {
	case t.RevokedAt != nil:
		st = stateRevoked
	case !t.ExpiresAt.After(now):
		st = stateExpired
	case t.Uses >= t.MaxUses:
		st = stateUsedUp
	}
	return EnrollmentToken{ID: t.ID, Description: t.Description, CreatedBy: t.CreatedBy, State: st, MaxUses: t.MaxUses,
		Uses: t.Uses, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
}

// EnrollmentTokenPage is a page of enrollment tokens.
type EnrollmentTokenPage struct {
	Items      []EnrollmentToken `json:"items" validate:"required"`
	NextCursor string            `json:"next_cursor" validate:"required"`
} //@name EnrollmentTokenPage

// EnrollmentTokenCreate creates an enrollment token.
type EnrollmentTokenCreate struct {
	Description string `json:"description,omitempty"`
	// How long the token is valid (default 86400, at most 30 days).
	TTLSeconds int `json:"ttl_seconds,omitempty" example:"86400"`
	// How many hosts may enrol with it (default 1, at most 10000).
	MaxUses int `json:"max_uses,omitempty" example:"1"`
} //@name EnrollmentTokenCreate

// EnrollmentTokenCreated is a new enrollment token with its secret, shown this once.
type EnrollmentTokenCreated struct {
	EnrollmentToken
	Token string `json:"token" example:"rme_..." validate:"required"`
} //@name EnrollmentTokenCreated

// Host is an enrolled machine.
type Host struct {
	ID                     string            `json:"id" format:"uuid" validate:"required"`
	Name                   string            `json:"name" validate:"required"`
	Hostname               string            `json:"hostname" validate:"required"`
	Status                 string            `json:"status" enums:"online,offline,decommissioned" validate:"required"`
	OS                     string            `json:"os" validate:"required"`
	Arch                   string            `json:"arch" validate:"required"`
	AgentVersion           string            `json:"agent_version" validate:"required"`
	ResticVersion          string            `json:"restic_version" validate:"required"`
	ProtocolVersion        int               `json:"protocol_version" validate:"required"`
	Labels                 map[string]string `json:"labels" validate:"required"`
	ScheduleVersion        int64             `json:"schedule_version" validate:"required"`
	ScheduleAppliedVersion int64             `json:"schedule_applied_version" validate:"required"`
	LastSeenAt             *time.Time        `json:"last_seen_at,omitempty" format:"date-time"`
	DecommissionedAt       *time.Time        `json:"decommissioned_at,omitempty" format:"date-time"`
	CreatedAt              time.Time         `json:"created_at" format:"date-time" validate:"required"`
} //@name Host

func toHost(h store.Host, onlineSince time.Time) Host {
	labels := h.Labels
	if labels == nil {
		labels = map[string]string{}
	}
	return Host{ID: h.ID, Name: h.Name, Hostname: h.Hostname, Status: store.HostStatus(h, onlineSince), OS: h.OS, Arch: h.Arch,
		AgentVersion: h.AgentVersion, ResticVersion: h.ResticVersion, ProtocolVersion: h.ProtocolVersion, Labels: labels,
		ScheduleVersion: h.ScheduleVersion, ScheduleAppliedVersion: h.ScheduleAppliedVersion, LastSeenAt: h.LastSeenAt,
		DecommissionedAt: h.DecommissionedAt, CreatedAt: h.CreatedAt}
}

// HostPage is a page of hosts.
type HostPage struct {
	Items      []Host `json:"items" validate:"required"`
	NextCursor string `json:"next_cursor" validate:"required"`
} //@name HostPage

// HostSummary counts the fleet.
type HostSummary struct {
	Total          int64 `json:"total" validate:"required"` // hosts not decommissioned
	Online         int64 `json:"online" validate:"required"`
	Offline        int64 `json:"offline" validate:"required"`
	Decommissioned int64 `json:"decommissioned" validate:"required"`
} //@name HostSummary

// HostUpdate renames a host or replaces its labels; absent fields stay.
type HostUpdate struct {
	Name   *string            `json:"name,omitempty"`
	Labels *map[string]string `json:"labels,omitempty"`
} //@name HostUpdate

// Repository is a restic repository of a host. Secrets are write-only: only whether
// they are set is shown, and for the environment only the variable names.
type Repository struct {
	ID              string    `json:"id" format:"uuid" validate:"required"`
	HostID          string    `json:"host_id" format:"uuid" validate:"required"`
	Name            string    `json:"name" validate:"required"`
	URL             string    `json:"url" example:"s3:s3.amazonaws.com/bucket/host1" validate:"required"`
	RestUsername    string    `json:"rest_username,omitempty"`
	PasswordSet     bool      `json:"password_set" validate:"required"`
	RestPasswordSet bool      `json:"rest_password_set" validate:"required"`
	EnvKeys         []string  `json:"env_keys" validate:"required"`
	CreatedAt       time.Time `json:"created_at" format:"date-time" validate:"required"`
	UpdatedAt       time.Time `json:"updated_at" format:"date-time" validate:"required"`
} //@name Repository

// RepositoryList lists a host's repositories (a host has a handful).
type RepositoryList struct {
	Items []Repository `json:"items" validate:"required"`
} //@name RepositoryList

// RepositoryCreate adds a repository. The URL may not hold a password: use
// rest_username and rest_password.
type RepositoryCreate struct {
	Name         string            `json:"name" validate:"required"`
	URL          string            `json:"url" validate:"required"`
	Password     string            `json:"password" validate:"required"`
	RestUsername string            `json:"rest_username,omitempty"`
	RestPassword string            `json:"rest_password,omitempty"`
	Env          map[string]string `json:"env,omitempty"`
} //@name RepositoryCreate

// RepositoryUpdate changes a repository; absent fields stay. password replaces the
// password (it cannot be cleared); rest_password and env replace theirs, and an empty
// value clears them.
type RepositoryUpdate struct {
	Name         *string            `json:"name,omitempty"`
	URL          *string            `json:"url,omitempty"`
	Password     *string            `json:"password,omitempty"`
	RestUsername *string            `json:"rest_username,omitempty"`
	RestPassword *string            `json:"rest_password,omitempty"`
	Env          *map[string]string `json:"env,omitempty"`
} //@name RepositoryUpdate

// Schedule is one cron entry of a host, with its next fire times.
type Schedule struct {
	ID           string               `json:"id" format:"uuid" validate:"required"`
	HostID       string               `json:"host_id" format:"uuid" validate:"required"`
	RepositoryID string               `json:"repository_id" format:"uuid" validate:"required"`
	Name         string               `json:"name" validate:"required"`
	Kind         string               `json:"kind" enums:"backup,forget,prune,check,unlock" validate:"required"`
	Cron         string               `json:"cron" example:"0 3 * * *" validate:"required"`
	Timezone     string               `json:"timezone" example:"Europe/Berlin" validate:"required"`
	Paths        []string             `json:"paths" validate:"required"`
	Excludes     []string             `json:"excludes" validate:"required"`
	Tags         []string             `json:"tags" validate:"required"`
	Retention    *protocol.Retention  `json:"retention,omitempty"`
	Options      *protocol.JobOptions `json:"options,omitempty"`
	PreHook      string               `json:"pre_hook,omitempty"`
	PostHook     string               `json:"post_hook,omitempty"`
	Enabled      bool                 `json:"enabled" validate:"required"`
	Manual       bool                 `json:"manual" validate:"required"` // runs only when started by hand
	NextFires    []time.Time          `json:"next_fires" format:"date-time" validate:"required"`
	CreatedAt    time.Time            `json:"created_at" format:"date-time" validate:"required"`
	UpdatedAt    time.Time            `json:"updated_at" format:"date-time" validate:"required"`
} //@name Schedule

// ScheduleList lists a host's schedules.
type ScheduleList struct {
	Items []Schedule `json:"items" validate:"required"`
} //@name ScheduleList

// ScheduleInput creates or replaces a schedule. Cron takes 5 fields (or 6 with
// seconds first) or a descriptor such as @daily; forget needs at least one keep rule;
// paths must be absolute.
type ScheduleInput struct {
	RepositoryID string               `json:"repository_id" format:"uuid" validate:"required"`
	Name         string               `json:"name" validate:"required"`
	Kind         string               `json:"kind" enums:"backup,forget,prune,check,unlock" validate:"required"`
	Cron         string               `json:"cron" example:"0 3 * * *" validate:"required"`
	Timezone     string               `json:"timezone,omitempty" example:"UTC"`
	Paths        []string             `json:"paths,omitempty"`
	Excludes     []string             `json:"excludes,omitempty"`
	Tags         []string             `json:"tags,omitempty"`
	Retention    *protocol.Retention  `json:"retention,omitempty"`
	Options      *protocol.JobOptions `json:"options,omitempty"`
	PreHook      string               `json:"pre_hook,omitempty"`
	PostHook     string               `json:"post_hook,omitempty"`
	Enabled      *bool                `json:"enabled,omitempty"` // default true
	Manual       bool                 `json:"manual,omitempty"`
} //@name ScheduleInput

// CronPreview is the next fire times of a cron expression.
type CronPreview struct {
	Cron     string      `json:"cron" validate:"required"`
	Timezone string      `json:"timezone" validate:"required"`
	Next     []time.Time `json:"next" format:"date-time" validate:"required"`
} //@name CronPreview

// RunRequest starts a job now, outside any schedule.
type RunRequest struct {
	Kind         string               `json:"kind" enums:"init,backup,forget,prune,check,unlock,snapshots,stats" validate:"required"`
	RepositoryID string               `json:"repository_id" format:"uuid" validate:"required"`
	Paths        []string             `json:"paths,omitempty"`
	Excludes     []string             `json:"excludes,omitempty"`
	Tags         []string             `json:"tags,omitempty"`
	Retention    *protocol.Retention  `json:"retention,omitempty"`
	Options      *protocol.JobOptions `json:"options,omitempty"`
	PreHook      string               `json:"pre_hook,omitempty"`
	PostHook     string               `json:"post_hook,omitempty"`
} //@name RunRequest

// CancelRequest says why a job is cancelled (the body is optional).
type CancelRequest struct {
	Reason string `json:"reason,omitempty"`
} //@name CancelRequest

// JobSpec is what a job runs (never with the repository's secrets).
type JobSpec struct {
	RepositoryName string                `json:"repository_name,omitempty"`
	Paths          []string              `json:"paths,omitempty"`
	Excludes       []string              `json:"excludes,omitempty"`
	Tags           []string              `json:"tags,omitempty"`
	Retention      *protocol.Retention   `json:"retention,omitempty"`
	Options        *protocol.JobOptions  `json:"options,omitempty"`
	PreHook        string                `json:"pre_hook,omitempty"`
	PostHook       string                `json:"post_hook,omitempty"`
	Restore        *protocol.RestoreSpec `json:"restore,omitempty"` // kind restore (browse_*.go)
} //@name JobSpec

// Job is one run of restic on one host.
type Job struct {
	ID                string             `json:"id" format:"uuid" validate:"required"`
	HostID            string             `json:"host_id" format:"uuid" validate:"required"`
	HostName          string             `json:"host_name,omitempty"` // the host's display name, on GET /jobs and GET /jobs/{id}
	RepositoryID      string             `json:"repository_id,omitempty"`
	ScheduleID        string             `json:"schedule_id,omitempty"`
	Kind              string             `json:"kind" validate:"required"`
	Status            string             `json:"status" enums:"queued,running,succeeded,warning,failed,cancelled" validate:"required"`
	ActorType         string             `json:"actor_type" enums:"user,schedule,api" validate:"required"`
	ActorID           string             `json:"actor_id" validate:"required"`
	ScheduledFor      *time.Time         `json:"scheduled_for,omitempty" format:"date-time"`
	RanOffline        bool               `json:"ran_offline" validate:"required"`
	ExitCode          *int               `json:"exit_code,omitempty"`
	Error             string             `json:"error,omitempty"`
	Summary           json.RawMessage    `json:"summary,omitempty" swaggertype:"object"`
	Spec              JobSpec            `json:"spec" validate:"required"`
	LogLines          int64              `json:"log_lines" validate:"required"` // as reported by the agent at the end
	CancelRequestedAt *time.Time         `json:"cancel_requested_at,omitempty" format:"date-time"`
	CreatedAt         time.Time          `json:"created_at" format:"date-time" validate:"required"`
	StartedAt         *time.Time         `json:"started_at,omitempty" format:"date-time"`
	FinishedAt        *time.Time         `json:"finished_at,omitempty" format:"date-time"`
	Progress          *protocol.Progress `json:"progress,omitempty"` // latest, on GET /jobs/{id} only
} //@name Job

func toJob(j store.Job) Job {
	out := Job{ID: j.ID, HostID: j.HostID, Kind: j.Kind, Status: j.Status, ActorType: j.ActorType, ActorID: j.ActorID,
		ScheduledFor: j.ScheduledFor, RanOffline: j.RanOffline, ExitCode: j.ExitCode, Error: j.Error, LogLines: j.LogLinesReported,
		CancelRequestedAt: j.CancelRequestedAt, CreatedAt: j.CreatedAt, StartedAt: j.StartedAt, FinishedAt: j.FinishedAt,
		Spec: JobSpec{RepositoryName: j.Spec.Repository.Name, Paths: j.Spec.Paths, Excludes: j.Spec.Excludes, Tags: j.Spec.Tags,
			Retention: j.Spec.Retention, Options: j.Spec.Options, PreHook: j.Spec.PreHook, PostHook: j.Spec.PostHook,
			Restore: j.Spec.Restore}}
	if j.RepositoryID != nil {
		out.RepositoryID = *j.RepositoryID
	}
	if j.ScheduleID != nil {
		out.ScheduleID = *j.ScheduleID
	}
	out.Summary = presentJSON(j.Summary)
	return out
}

// JobPage is a page of jobs.
type JobPage struct {
	Items      []Job  `json:"items" validate:"required"`
	NextCursor string `json:"next_cursor" validate:"required"`
} //@name JobPage

// LogLine is one line of a job's log.
type LogLine struct {
	Seq    int64     `json:"seq" validate:"required"`
	At     time.Time `json:"at" format:"date-time" validate:"required"`
	Stream string    `json:"stream" enums:"stdout,stderr,agent" validate:"required"`
	Text   string    `json:"text" validate:"required"`
} //@name LogLine

// LogPage is a range of a job's log. NextCursor, when not empty, is the seq to pass as
// `after` for the next range.
type LogPage struct {
	Items      []LogLine `json:"items" validate:"required"`
	NextCursor string    `json:"next_cursor" validate:"required"`
} //@name LogPage

func toLogLines(ls []store.JobLog) []LogLine {
	out := make([]LogLine, len(ls))
	for i, l := range ls {
		out[i] = LogLine{Seq: l.Seq, At: l.At, Stream: l.Stream, Text: l.Text}
	}
	return out
}

// Snapshot is one restic snapshot as last reported by the host's agent.
type Snapshot struct {
	ID           string          `json:"id" validate:"required"`
	ShortID      string          `json:"short_id" validate:"required"`
	RepositoryID string          `json:"repository_id" format:"uuid" validate:"required"`
	Time         time.Time       `json:"time" format:"date-time" validate:"required"`
	Hostname     string          `json:"hostname" validate:"required"`
	Username     string          `json:"username,omitempty"`
	Paths        []string        `json:"paths" validate:"required"`
	Tags         []string        `json:"tags" validate:"required"`
	Parent       string          `json:"parent,omitempty"`
	Tree         string          `json:"tree,omitempty"`
	Summary      json.RawMessage `json:"summary,omitempty" swaggertype:"object"`
	ReportedAt   time.Time       `json:"reported_at" format:"date-time" validate:"required"`
} //@name Snapshot

func toSnapshot(s store.Snapshot) Snapshot {
	out := Snapshot{ID: s.SnapshotID, ShortID: s.ShortID, RepositoryID: s.RepositoryID, Time: s.Time, Hostname: s.Hostname,
		Username: s.Username, Paths: nonNil(s.Paths), Tags: nonNil(s.Tags), Parent: s.Parent, Tree: s.Tree, ReportedAt: s.ReportedAt}
	out.Summary = presentJSON(s.Summary)
	return out
}

// presentJSON returns raw when it holds a valid JSON value other than null, else nil,
// so that "summary" is left out rather than sent as null or garbage.
func presentJSON(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 || string(raw) == "null" || !json.Valid(raw) {
		return nil
	}
	return raw
}

// SnapshotPage is a page of snapshots, newest first.
type SnapshotPage struct {
	Items      []Snapshot `json:"items" validate:"required"`
	NextCursor string     `json:"next_cursor" validate:"required"`
} //@name SnapshotPage

// RepositoryStat is one sample of a repository's size history.
type RepositoryStat struct {
	At                    time.Time `json:"at" format:"date-time" validate:"required"`
	TotalSize             int64     `json:"total_size" validate:"required"`
	TotalUncompressedSize int64     `json:"total_uncompressed_size" validate:"required"`
	TotalFileCount        int64     `json:"total_file_count" validate:"required"`
	TotalBlobCount        int64     `json:"total_blob_count" validate:"required"`
	SnapshotsCount        int64     `json:"snapshots_count" validate:"required"`
	CompressionRatio      float64   `json:"compression_ratio" validate:"required"`
	Locked                bool      `json:"locked" validate:"required"`
	LockDescription       string    `json:"lock_description,omitempty"`
	RestoreSize           int64     `json:"restore_size" validate:"required"`
	RestoreSizeFileCount  int64     `json:"restore_size_file_count" validate:"required"`
} //@name RepositoryStat

// RepositoryStatList is a repository's size history, oldest first.
type RepositoryStatList struct {
	Items []RepositoryStat `json:"items" validate:"required"`
} //@name RepositoryStatList

// AuditEntry is one state-changing action.
type AuditEntry struct {
	ID         int64          `json:"id" validate:"required"`
	At         time.Time      `json:"at" format:"date-time" validate:"required"`
	ActorType  string         `json:"actor_type" enums:"user,token,system,anonymous" validate:"required"`
	ActorID    string         `json:"actor_id" validate:"required"`
	ActorName  string         `json:"actor_name" validate:"required"`
	Action     string         `json:"action" example:"host.rename" validate:"required"`
	TargetType string         `json:"target_type" validate:"required"`
	TargetID   string         `json:"target_id" validate:"required"`
	RemoteAddr string         `json:"remote_addr" validate:"required"`
	Details    map[string]any `json:"details,omitempty"`
} //@name AuditEntry

// AuditPage is a page of the audit log, newest first.
type AuditPage struct {
	Items      []AuditEntry `json:"items" validate:"required"`
	NextCursor string       `json:"next_cursor" validate:"required"`
} //@name AuditPage

// OK is the body of answers that carry nothing but success.
type OK struct {
	OK bool `json:"ok" validate:"required"`
} //@name OK

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return slices.Clone(v)
}
