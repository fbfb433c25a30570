package store

import (
	"encoding/json"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// Host is one machine with an enrolled agent.
type Host struct {
	ID                     string `gorm:"primaryKey"`
	Name                   string
	Hostname               string
	OS                     string `gorm:"column:os"`
	Arch                   string
	AgentVersion           string
	ResticVersion          string
	ProtocolVersion        int
	Labels                 map[string]string `gorm:"serializer:json"`
	ScheduleVersion        int64
	ScheduleAppliedVersion int64
	ScheduleAppliedAt      *time.Time
	ConfigVersion          int64
	Config                 protocol.AgentConfig `gorm:"serializer:json"`
	LastSeenAt             *time.Time
	LastHelloAt            *time.Time
	DecommissionedAt       *time.Time
	CreatedAt              time.Time
	UpdatedAt              time.Time
}

// AgentCredential is the hash of a host's bearer credential.
type AgentCredential struct {
	ID        int64 `gorm:"primaryKey"`
	HostID    string
	TokenHash string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// EnrollmentToken allows a limited number of enrolments until it expires.
type EnrollmentToken struct {
	ID          string `gorm:"primaryKey"`
	TokenHash   string
	Description string
	CreatedBy   string
	ExpiresAt   time.Time
	MaxUses     int
	Uses        int
	RevokedAt   *time.Time
	CreatedAt   time.Time
}

// Repository is a restic repository of one host. Secrets are sealed by the server key.
type Repository struct {
	ID              string `gorm:"primaryKey"`
	HostID          string
	Name            string
	URL             string `gorm:"column:url"`
	PasswordEnc     string
	RestUsername    string
	RestPasswordEnc string
	EnvEnc          string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Schedule is one cron entry of a host, run locally by its agent.
type Schedule struct {
	ID           string `gorm:"primaryKey"`
	HostID       string
	RepositoryID string
	Name         string
	Kind         string
	Cron         string
	Timezone     string
	Paths        []string             `gorm:"serializer:json"`
	Excludes     []string             `gorm:"serializer:json"`
	Tags         []string             `gorm:"serializer:json"`
	Retention    *protocol.Retention  `gorm:"serializer:json"`
	Options      *protocol.JobOptions `gorm:"serializer:json"`
	PreHook      string
	PostHook     string
	Enabled      bool
	Manual       bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// ScheduleAck records that an agent applied a schedule set version.
type ScheduleAck struct {
	ID         int64 `gorm:"primaryKey"`
	HostID     string
	Version    int64
	AppliedAt  time.Time
	Error      string
	ReceivedAt time.Time
}

// Actor types of a job.
const (
	ActorUser     = "user"
	ActorSchedule = "schedule"
	ActorAPI      = "api"
)

// Job is one run of restic on one host.
type Job struct {
	ID                string `gorm:"primaryKey"`
	HostID            string
	RepositoryID      *string
	ScheduleID        *string
	Kind              string
	ActorType         string
	ActorID           string
	ScheduledFor      *time.Time
	RanOffline        bool
	Status            string
	ExitCode          *int
	Error             string
	Summary           json.RawMessage  `gorm:"serializer:json"`
	Spec              protocol.RunSpec `gorm:"serializer:json"`
	LogLinesReported  int64
	CancelRequestedAt *time.Time
	CreatedAt         time.Time
	StartedAt         *time.Time
	FinishedAt        *time.Time
	UpdatedAt         time.Time
}

// Command is one queued instruction for a host's agent.
type Command struct {
	ID            int64 `gorm:"primaryKey"`
	HostID        string
	Type          string
	JobID         string
	Payload       protocol.Command `gorm:"serializer:json"`
	CreatedAt     time.Time
	DeliveredAt   *time.Time
	LeaseUntil    *time.Time
	DeliveryCount int
	AckedAt       *time.Time
	AckStatus     string
	AckReason     string
}

// JobLog is one line of a job's log.
type JobLog struct {
	JobID  string `gorm:"primaryKey"`
	Seq    int64  `gorm:"primaryKey"`
	At     time.Time
	Stream string
	Text   string
}

// JobProgress is the latest progress of a job.
type JobProgress struct {
	JobID     string `gorm:"primaryKey"`
	At        time.Time
	Data      protocol.Progress `gorm:"serializer:json"`
	UpdatedAt time.Time
}

// TableName keeps the singular table name of the migration.
func (JobProgress) TableName() string { return "job_progress" }

// Snapshot is the server's projection of one restic snapshot.
type Snapshot struct {
	RepositoryID string `gorm:"primaryKey"`
	SnapshotID   string `gorm:"primaryKey"`
	HostID       string
	ShortID      string
	Time         time.Time
	Hostname     string
	Username     string
	Paths        []string `gorm:"serializer:json"`
	Tags         []string `gorm:"serializer:json"`
	Parent       string
	Tree         string
	Summary      json.RawMessage `gorm:"serializer:json"`
	ReportedAt   time.Time
}

// RepositoryStat is one sample of a repository's size history.
type RepositoryStat struct {
	ID                    int64 `gorm:"primaryKey"`
	RepositoryID          string
	HostID                string
	At                    time.Time
	TotalSize             int64
	TotalUncompressedSize int64
	TotalFileCount        int64
	TotalBlobCount        int64
	SnapshotsCount        int64
	CompressionRatio      float64
	Locked                bool
	LockDescription       string
	RestoreSize           int64
	RestoreSizeFileCount  int64
}
