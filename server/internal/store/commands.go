package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// PollState is what the long poll needs to know about a host without touching its
// commands: the newest command id, the earliest lease that will expire, and the
// desired versions.
type PollState struct {
	LastCommandID   int64
	LeaseDeadline   time.Time // zero when no delivered command awaits an ack
	ScheduleVersion int64
	ConfigVersion   int64
}

// PollState loads a host's poll state (used once per host per server process, and after
// a lost notification connection).
func (s *Store) PollState(ctx context.Context, hostID string) (PollState, error) {
	var h Host
	if err := s.db.WithContext(ctx).Select("id", "schedule_version", "config_version").Where("id = ?", hostID).Take(&h).Error; err != nil {
		return PollState{}, notFound(err)
	}
	st := PollState{ScheduleVersion: h.ScheduleVersion, ConfigVersion: h.ConfigVersion}
	var row struct {
		MaxID    *int64
		MinLease *string
	}
	if err := s.db.WithContext(ctx).Model(&Command{}).Select("MAX(id) AS max_id").Where("host_id = ?", hostID).Scan(&row).Error; err != nil {
		return PollState{}, fmt.Errorf("store: poll state: %w", err)
	}
	if row.MaxID != nil {
		st.LastCommandID = *row.MaxID
	}
	var leased Command
	err := s.db.WithContext(ctx).Select("lease_until").
		Where("host_id = ? AND acked_at IS NULL AND lease_until IS NOT NULL", hostID).
		Order("lease_until").Take(&leased).Error
	if err == nil && leased.LeaseUntil != nil {
		st.LeaseDeadline = *leased.LeaseUntil
	} else if err != nil && notFound(err) != ErrNotFound {
		return PollState{}, fmt.Errorf("store: poll state: %w", err)
	}
	return st, nil
}

// Delivery is the outcome of DeliverCommands.
type Delivery struct {
	Commands []protocol.Command
	// NextLease is the earliest lease among commands still unacknowledged after this
	// delivery, zero when there are none.
	NextLease time.Time
}

// DeliverCommands returns, in id order, the host's unacknowledged commands after the
// cursor and those whose lease expired, and leases them for the given duration.
func (s *Store) DeliverCommands(ctx context.Context, hostID string, cursor int64, lease time.Duration, limit int) (Delivery, error) {
	now := s.now()
	var out Delivery
	err := s.tx(ctx, func(tx *gorm.DB) error {
		var cmds []Command
		q := tx.Where("host_id = ? AND acked_at IS NULL AND (id > ? OR lease_until IS NULL OR lease_until <= ?)", hostID, cursor, now).
			Order("id").Limit(limit)
		if s.dialect == DialectPostgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		if err := q.Find(&cmds).Error; err != nil {
			return fmt.Errorf("store: pending commands: %w", err)
		}
		until := now.Add(lease)
		if len(cmds) > 0 {
			ids := make([]int64, len(cmds))
			for i, c := range cmds {
				ids[i] = c.ID
				wire := c.Payload
				wire.ID = c.ID
				out.Commands = append(out.Commands, wire)
			}
			if err := tx.Model(&Command{}).Where("id IN ?", ids).Updates(map[string]any{
				"delivered_at":   now,
				"lease_until":    until,
				"delivery_count": gorm.Expr("delivery_count + 1"),
			}).Error; err != nil {
				return fmt.Errorf("store: lease commands: %w", err)
			}
		}
		var next Command
		err := tx.Select("lease_until").Where("host_id = ? AND acked_at IS NULL AND lease_until IS NOT NULL", hostID).
			Order("lease_until").Take(&next).Error
		if err == nil && next.LeaseUntil != nil {
			out.NextLease = *next.LeaseUntil
		} else if err != nil && notFound(err) != ErrNotFound {
			return fmt.Errorf("store: next lease: %w", err)
		}
		return nil
	})
	return out, err
}

// AckCommand records the agent's answer to a command. Repeating it is harmless.
func (s *Store) AckCommand(ctx context.Context, hostID string, id int64, res protocol.CommandResult) error {
	now := s.now()
	r := s.db.WithContext(ctx).Model(&Command{}).
		Where("id = ? AND host_id = ? AND acked_at IS NULL", id, hostID).
		Updates(map[string]any{"acked_at": now, "ack_status": res.Status, "ack_reason": res.Reason})
	if r.Error != nil {
		return fmt.Errorf("store: ack command: %w", r.Error)
	}
	if r.RowsAffected == 1 {
		if res.Status == protocol.CommandRejected {
			return s.rejectCommandJob(ctx, hostID, id, res.Reason)
		}
		return nil
	}
	var n int64
	if err := s.db.WithContext(ctx).Model(&Command{}).Where("id = ? AND host_id = ?", id, hostID).Count(&n).Error; err != nil {
		return fmt.Errorf("store: ack command: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// rejectCommandJob fails the queued job of a rejected command.run so it does not stay
// queued forever.
func (s *Store) rejectCommandJob(ctx context.Context, hostID string, cmdID int64, reason string) error {
	var c Command
	if err := s.db.WithContext(ctx).Where("id = ? AND host_id = ?", cmdID, hostID).Take(&c).Error; err != nil {
		return notFound(err)
	}
	if c.Type == protocol.CommandBrowse {
		return s.FailBrowseRequest(ctx, c.JobID, BrowseErrRejected, "the agent rejected the request: "+reason) // browse_requests.go
	}
	if c.Type != protocol.CommandRun {
		return nil
	}
	now := s.now()
	err := s.db.WithContext(ctx).Model(&Job{}).Where("id = ? AND host_id = ? AND status = ?", c.JobID, hostID, protocol.JobQueued).
		Updates(map[string]any{"status": protocol.JobFailed, "error": "agent rejected the job: " + reason, "finished_at": now, "updated_at": now}).Error
	if err != nil {
		return fmt.Errorf("store: reject job: %w", err)
	}
	return nil
}

func insertCommand(tx *gorm.DB, hostID, typ, jobID string, payload protocol.Command, now time.Time) (Command, error) {
	payload.Type = typ
	payload.JobID = jobID
	payload.CreatedAt = now
	c := Command{HostID: hostID, Type: typ, JobID: jobID, Payload: payload, CreatedAt: now}
	if err := tx.Create(&c).Error; err != nil {
		return Command{}, fmt.Errorf("store: enqueue command: %w", err)
	}
	return c, nil
}
