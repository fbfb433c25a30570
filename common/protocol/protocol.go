// Package protocol holds the wire types of the agent protocol: every request and
// response body that travels between an agent and the server under /api/v1/agent/.
//
// The contract, in short (docs/protocol.md has the whole of it):
//
//   - An agent enrols once with a one-time enrollment token and receives a per-host
//     credential. Every later request carries it as "Authorization: Bearer <credential>".
//   - The agent says Hello on start and on every reconnect, negotiating the protocol version.
//   - The agent long-polls GET /api/v1/agent/poll. The server holds the request until there
//     is news for this host or the hold ends. News is: commands after the agent's cursor (or
//     whose delivery lease expired without an acknowledgement), a schedule set newer than
//     the version the agent says it applied, an agent config newer than the one it applied.
//     Desired state is level-triggered: a lost response loses nothing.
//   - Commands are delivered at least once. The agent acknowledges each one with a
//     CommandResult and drops duplicates by command id.
//   - Job reports (start, progress, logs, finish) are idempotent: a repeated start by the
//     same host, a repeated log sequence number and a repeated finish all succeed without
//     a second record.
//
// This package imports neither the server nor the agent.
package protocol

import (
	"encoding/json"
	"time"
)

// Version is the newest protocol version this build speaks; MinVersion the oldest.
const (
	Version    = 1
	MinVersion = 1
)

// Command types delivered on the poll.
const (
	CommandRun    = "command.run"
	CommandCancel = "command.cancel"
)

// Job kinds.
const (
	KindInit      = "init"
	KindBackup    = "backup"
	KindForget    = "forget"
	KindPrune     = "prune"
	KindCheck     = "check"
	KindUnlock    = "unlock"
	KindSnapshots = "snapshots"
	KindStats     = "stats"
)

// JobKinds lists every job kind the agent can run.
var JobKinds = []string{KindInit, KindBackup, KindForget, KindPrune, KindCheck, KindUnlock, KindSnapshots, KindStats, KindRestore}

// ScheduleKinds lists the job kinds a schedule may have.
var ScheduleKinds = []string{KindBackup, KindForget, KindPrune, KindCheck, KindUnlock}

// Job statuses. Succeeded, Warning, Failed and Cancelled are terminal.
const (
	JobQueued    = "queued"
	JobRunning   = "running"
	JobSucceeded = "succeeded"
	JobWarning   = "warning" // restic exit 3: snapshot made, some files unreadable
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// IsTerminal reports whether a job status is final.
func IsTerminal(status string) bool {
	switch status {
	case JobSucceeded, JobWarning, JobFailed, JobCancelled:
		return true
	}
	return false
}

// Command results.
const (
	CommandAccepted = "accepted"
	CommandRejected = "rejected"
)

// Error is the body of every 4xx and 5xx answer.
type Error struct {
	Code    string `json:"code" example:"validation_failed"`
	Message string `json:"message" example:"cron: expected 5 fields"`
	Details any    `json:"details,omitempty"`
}

// Stable error codes.
const (
	CodeBadRequest       = "bad_request"
	CodeInvalidJSON      = "invalid_json"
	CodeBodyTooLarge     = "body_too_large"
	CodeValidation       = "validation_failed"
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeConflict         = "conflict"
	CodeJobFinished      = "job_finished"
	CodeProtocolTooOld   = "protocol_too_old"
	CodeProtocolTooNew   = "protocol_too_new"
	CodeEnrollmentToken  = "enrollment_token_invalid"
	CodeInternal         = "internal_error"
	CodeUnsupportedMedia = "unsupported_media_type"
	CodeUnavailable      = "unavailable" // 503 with Retry-After: try again later
)

// EnrollRequest exchanges a one-time enrollment token for a host credential.
// POST /api/v1/agent/enroll (no bearer credential).
type EnrollRequest struct {
	Token        string `json:"token" binding:"required"`
	Hostname     string `json:"hostname" binding:"required"`
	OS           string `json:"os"`
	Arch         string `json:"arch"`
	AgentVersion string `json:"agent_version"`
}

// EnrollResponse carries the host credential. It is shown exactly once; the server keeps
// only its hash.
type EnrollResponse struct {
	HostID          string `json:"host_id"`
	Credential      string `json:"credential"`
	ProtocolVersion int    `json:"protocol_version"`
}

// HelloRequest is sent on start and on every reconnect. POST /api/v1/agent/hello.
type HelloRequest struct {
	// ProtocolVersion is the newest version the agent speaks, MinProtocolVersion the oldest.
	ProtocolVersion    int    `json:"protocol_version"`
	MinProtocolVersion int    `json:"min_protocol_version"`
	Hostname           string `json:"hostname"`
	OS                 string `json:"os"`
	Arch               string `json:"arch"`
	AgentVersion       string `json:"agent_version"`
	ResticVersion      string `json:"restic_version"`
}

// Pacing is set by the server; the agent clamps it to sane bounds.
type Pacing struct {
	PollHoldSeconds         int `json:"poll_hold_seconds"`
	ProgressIntervalSeconds int `json:"progress_interval_seconds"`
	LogIntervalSeconds      int `json:"log_interval_seconds"`
}

// HelloResponse tells the agent which protocol version to speak and how to pace itself.
type HelloResponse struct {
	HostID          string    `json:"host_id"`
	ProtocolVersion int       `json:"protocol_version"`
	ServerVersion   string    `json:"server_version"`
	ServerTime      time.Time `json:"server_time"`
	Pacing          Pacing    `json:"pacing"`
}

// PollResponse answers GET /api/v1/agent/poll?cursor=C&wait=S&schedule_version=V&config_version=W.
// Commands are in id order. Cursor is the highest command id delivered so far; the agent
// sends it back on its next poll. ScheduleSet and Config are present only when newer than
// the versions the agent sent.
type PollResponse struct {
	Cursor      int64         `json:"cursor"`
	Commands    []Command     `json:"commands"`
	ScheduleSet *ScheduleSet  `json:"schedule_set,omitempty"`
	Config      *AgentConfig  `json:"config,omitempty"`
	Update      *UpdateNotice `json:"update,omitempty"`
	Pacing      Pacing        `json:"pacing"`
}

// Command is one queued instruction for the agent.
type Command struct {
	ID        int64       `json:"id"`
	Type      string      `json:"type" enums:"command.run,command.cancel,command.browse"`
	JobID     string      `json:"job_id"`
	CreatedAt time.Time   `json:"created_at"`
	Run       *RunSpec    `json:"run,omitempty"`
	Cancel    *CancelArg  `json:"cancel,omitempty"`
	Browse    *BrowseSpec `json:"browse,omitempty"` // command.browse (browse.go); JobID is its request id
}

// CancelArg says why a job is being cancelled.
type CancelArg struct {
	Reason string `json:"reason"`
}

// RunSpec is everything the agent needs to run one job.
type RunSpec struct {
	JobID        string       `json:"job_id"`
	Kind         string       `json:"kind"`
	ScheduleID   string       `json:"schedule_id,omitempty"`
	Repository   Repository   `json:"repository"`
	Paths        []string     `json:"paths,omitempty"`
	Excludes     []string     `json:"excludes,omitempty"`
	Tags         []string     `json:"tags,omitempty"`
	Retention    *Retention   `json:"retention,omitempty"`
	Options      *JobOptions  `json:"options,omitempty"`
	PreHook      string       `json:"pre_hook,omitempty"`
	PostHook     string       `json:"post_hook,omitempty"`
	ScheduledFor *time.Time   `json:"scheduled_for,omitempty"`
	Restore      *RestoreSpec `json:"restore,omitempty"` // KindRestore (browse.go)
}

// Repository is a restic repository as the agent needs it, secrets included: it is only
// ever sent to the authenticated agent of the host that owns it.
type Repository struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	URL          string            `json:"url"`
	Password     string            `json:"password"`
	RestUsername string            `json:"rest_username,omitempty"`
	RestPassword string            `json:"rest_password,omitempty"`
	Env          map[string]string `json:"env,omitempty"`
}

// Retention is a forget policy. At least one keep rule must be set.
type Retention struct {
	KeepLast    int      `json:"keep_last,omitempty"`
	KeepHourly  int      `json:"keep_hourly,omitempty"`
	KeepDaily   int      `json:"keep_daily,omitempty"`
	KeepWeekly  int      `json:"keep_weekly,omitempty"`
	KeepMonthly int      `json:"keep_monthly,omitempty"`
	KeepYearly  int      `json:"keep_yearly,omitempty"`
	KeepWithin  string   `json:"keep_within,omitempty"`
	KeepTags    []string `json:"keep_tags,omitempty"`
}

// IsEmpty reports whether the policy keeps nothing explicitly (restic would remove all).
func (r *Retention) IsEmpty() bool {
	return r == nil || (r.KeepLast == 0 && r.KeepHourly == 0 && r.KeepDaily == 0 && r.KeepWeekly == 0 &&
		r.KeepMonthly == 0 && r.KeepYearly == 0 && r.KeepWithin == "" && len(r.KeepTags) == 0)
}

// JobOptions are the per-kind knobs. None of them may make the agent run a program.
type JobOptions struct {
	ReadDataSubset string `json:"read_data_subset,omitempty"` // check
	Host           string `json:"host,omitempty"`             // backup --host
	Prune          bool   `json:"prune,omitempty"`            // forget, then prune as a separate run
	MaxUnused      string `json:"max_unused,omitempty"`       // prune
	CatchUp        *bool  `json:"catch_up,omitempty"`         // schedules: run a missed fire at start-up (default true)
}

// ScheduleSet is the desired schedule state of one host: the schedules and the
// repositories they target, under one version.
type ScheduleSet struct {
	Version      int64        `json:"version"`
	Schedules    []Schedule   `json:"schedules"`
	Repositories []Repository `json:"repositories"`
}

// Schedule is one local cron entry of the agent.
type Schedule struct {
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	Kind         string      `json:"kind"`
	RepositoryID string      `json:"repository_id"`
	Cron         string      `json:"cron"`
	Timezone     string      `json:"timezone"`
	Paths        []string    `json:"paths,omitempty"`
	Excludes     []string    `json:"excludes,omitempty"`
	Tags         []string    `json:"tags,omitempty"`
	Retention    *Retention  `json:"retention,omitempty"`
	Options      *JobOptions `json:"options,omitempty"`
	PreHook      string      `json:"pre_hook,omitempty"`
	PostHook     string      `json:"post_hook,omitempty"`
	Enabled      bool        `json:"enabled"`
	Manual       bool        `json:"manual"`
}

// AgentConfig is the server-side part of the agent's configuration.
type AgentConfig struct {
	Version                 int64  `json:"version"`
	LogLevel                string `json:"log_level,omitempty"`
	ProgressIntervalSeconds int    `json:"progress_interval_seconds,omitempty"`
	LogIntervalSeconds      int    `json:"log_interval_seconds,omitempty"`
}

// UpdateNotice is informational: the agent never updates itself.
type UpdateNotice struct {
	LatestVersion string `json:"latest_version"`
	PackageSource string `json:"package_source,omitempty"`
	Changelog     string `json:"changelog,omitempty"`
}

// CommandResult acknowledges a delivered command. POST /api/v1/agent/commands/{id}/result.
type CommandResult struct {
	Status string `json:"status" enums:"accepted,rejected"`
	Reason string `json:"reason,omitempty"`
}

// JobStart claims a job. POST /api/v1/agent/jobs/{id}/start. Repeating it is harmless.
type JobStart struct {
	StartedAt time.Time `json:"started_at"`
}

// JobState tells the agent what the server thinks of its job; every job report answers with it.
type JobState struct {
	JobID           string `json:"job_id"`
	Status          string `json:"status"`
	CancelRequested bool   `json:"cancel_requested"`
}

// Progress is the latest progress of a running job. POST /api/v1/agent/jobs/{id}/progress.
type Progress struct {
	At               time.Time `json:"at"`
	PercentDone      float64   `json:"percent_done"`
	FilesDone        int64     `json:"files_done"`
	TotalFiles       int64     `json:"total_files"`
	BytesDone        int64     `json:"bytes_done"`
	TotalBytes       int64     `json:"total_bytes"`
	SecondsElapsed   int64     `json:"seconds_elapsed"`
	SecondsRemaining int64     `json:"seconds_remaining"`
	BytesPerSecond   float64   `json:"bytes_per_second"`
	ErrorCount       int64     `json:"error_count"`
	CurrentFiles     []string  `json:"current_files,omitempty"`
}

// LogLine is one line of a job's log. Seq starts at 1 and is unique per job.
type LogLine struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	Stream string    `json:"stream" enums:"stdout,stderr,agent"`
	Text   string    `json:"text"`
}

// LogBatch carries log lines. POST /api/v1/agent/jobs/{id}/logs. Lines already stored
// (same job, same seq) are ignored, so a batch may be resent in whole or in part.
type LogBatch struct {
	Lines []LogLine `json:"lines"`
}

// LogBatchResult says how many lines were new.
type LogBatchResult struct {
	JobState
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

// JobFinish ends a job. POST /api/v1/agent/jobs/{id}/finish. The first finish wins;
// repeating it answers 200 with the recorded state.
type JobFinish struct {
	Status     string          `json:"status" enums:"succeeded,warning,failed,cancelled"`
	ExitCode   int             `json:"exit_code"`
	Error      string          `json:"error,omitempty"`
	Summary    json.RawMessage `json:"summary,omitempty" swaggertype:"object"`
	StartedAt  *time.Time      `json:"started_at,omitempty"`
	FinishedAt time.Time       `json:"finished_at"`
	LogLines   int64           `json:"log_lines"` // total lines the agent produced, so gaps can be told
}

// ScheduleFire turns a local cron tick into a job. POST /api/v1/agent/schedules/{id}/fire.
// It is idempotent on (schedule id, scheduled_for): a repeat returns the same job. JobID is
// generated by the agent; when a job already exists for the tick its id is returned instead.
// RanOffline marks a tick the agent already ran while the server was unreachable.
type ScheduleFire struct {
	JobID        string    `json:"job_id"`
	ScheduledFor time.Time `json:"scheduled_for"`
	RanOffline   bool      `json:"ran_offline,omitempty"`
}

// ScheduleFireResponse holds the command.run for the job (its JobID may differ from the
// one sent when the tick was already known).
type ScheduleFireResponse struct {
	Job     JobState `json:"job"`
	Command Command  `json:"command"`
	Created bool     `json:"created"`
}

// ScheduleAck records the schedule set version the agent applied. POST /api/v1/agent/schedules/ack.
type ScheduleAck struct {
	Version   int64     `json:"version"`
	AppliedAt time.Time `json:"applied_at"`
	Error     string    `json:"error,omitempty"`
}

// Snapshot is one restic snapshot as reported by the agent.
type Snapshot struct {
	ID       string          `json:"id"`
	ShortID  string          `json:"short_id"`
	Time     time.Time       `json:"time"`
	Hostname string          `json:"hostname"`
	Username string          `json:"username,omitempty"`
	Paths    []string        `json:"paths"`
	Tags     []string        `json:"tags,omitempty"`
	Parent   string          `json:"parent,omitempty"`
	Tree     string          `json:"tree,omitempty"`
	Summary  json.RawMessage `json:"summary,omitempty" swaggertype:"object"`
}

// SnapshotReport replaces the server's list of snapshots of one repository of this host.
// POST /api/v1/agent/repositories/{id}/snapshots.
type SnapshotReport struct {
	TakenAt   time.Time  `json:"taken_at"`
	Snapshots []Snapshot `json:"snapshots"`
}

// RepoStats is one sample of a repository's statistics, kept as history.
// POST /api/v1/agent/repositories/{id}/stats.
type RepoStats struct {
	At                   time.Time `json:"at"`
	TotalSize            int64     `json:"total_size"`
	TotalUncompressed    int64     `json:"total_uncompressed_size,omitempty"`
	TotalFileCount       int64     `json:"total_file_count"`
	TotalBlobCount       int64     `json:"total_blob_count,omitempty"`
	SnapshotsCount       int64     `json:"snapshots_count"`
	CompressionRatio     float64   `json:"compression_ratio,omitempty"`
	Locked               bool      `json:"locked"`
	LockDescription      string    `json:"lock_description,omitempty"`
	RestoreSize          int64     `json:"restore_size,omitempty"`
	RestoreSizeFileCount int64     `json:"restore_size_file_count,omitempty"`
}

// Empty is the body of answers that carry nothing but success.
type Empty struct {
	OK bool `json:"ok"`
}

// Paths of the agent API, relative to the server's base URL. {id} is a path parameter.
const (
	PathEnroll        = "/api/v1/agent/enroll"
	PathHello         = "/api/v1/agent/hello"
	PathPoll          = "/api/v1/agent/poll"
	PathCommandResult = "/api/v1/agent/commands/{id}/result"
	PathJobStart      = "/api/v1/agent/jobs/{id}/start"
	PathJobProgress   = "/api/v1/agent/jobs/{id}/progress"
	PathJobLogs       = "/api/v1/agent/jobs/{id}/logs"
	PathJobFinish     = "/api/v1/agent/jobs/{id}/finish"
	PathScheduleFire  = "/api/v1/agent/schedules/{id}/fire"
	PathScheduleAck   = "/api/v1/agent/schedules/ack"
	PathRepoSnapshots = "/api/v1/agent/repositories/{id}/snapshots"
	PathRepoStats     = "/api/v1/agent/repositories/{id}/stats"
)

// Poll query parameters.
const (
	QueryCursor          = "cursor"
	QueryWait            = "wait"
	QueryScheduleVersion = "schedule_version"
	QueryConfigVersion   = "config_version"
)
