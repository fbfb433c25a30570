package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/restic-manager/restic-manager/common/protocol"
)

func jsonValue(v map[string]any) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return string(b)
}

// eventKey names an event uniquely per target: the same event reaches a target once.
func eventKey(ev NotificationEvent) string {
	switch {
	case ev.Alert != nil && ev.Type == EventAlertEscalated:
		return "alert:" + ev.Alert.ID + ":escalated:" + ev.Alert.Severity
	case ev.Alert != nil:
		return "alert:" + ev.Alert.ID + ":" + ev.Type
	case ev.Job != nil:
		return "job:" + ev.Job.ID + ":" + ev.Job.Status
	}
	return ev.Type + ":" + ev.At.Format(time.RFC3339Nano)
}

// enqueueEvents queues one delivery per event and channel that an enabled rule routes it
// to. Rows that exist already (the same event noticed twice) are skipped.
func (s *Store) enqueueEvents(tx *gorm.DB, now time.Time, events []NotificationEvent) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	var rules []NotificationRule
	if err := tx.Where("enabled = ?", true).Order("created_at, id").Find(&rules).Error; err != nil {
		return 0, fmt.Errorf("store: notification rules: %w", err)
	}
	if len(rules) == 0 {
		return 0, nil
	}
	var channels []NotificationChannel
	if err := tx.Select("id", "name", "type", "enabled").Where("enabled = ?", true).Find(&channels).Error; err != nil {
		return 0, fmt.Errorf("store: notification channels: %w", err)
	}
	names := make(map[string]string, len(channels))
	for _, c := range channels {
		names[c.ID] = c.Name
	}
	var rows []NotificationDelivery
	for _, ev := range events {
		seen := map[string]bool{}
		for _, r := range rules {
			name, ok := names[r.ChannelID]
			if !ok || seen[r.ChannelID] || !r.Matches(ev) {
				continue
			}
			seen[r.ChannelID] = true
			rows = append(rows, newDelivery(TargetChannel, r.ChannelID, name, r.ID, ev, now))
		}
	}
	return insertDeliveries(tx, rows)
}

func newDelivery(targetType, targetID, targetName, ruleID string, ev NotificationEvent, now time.Time) NotificationDelivery {
	d := NotificationDelivery{TargetType: targetType, TargetID: targetID, TargetName: targetName, RuleID: ruleID,
		EventType: ev.Type, EventKey: eventKey(ev), Payload: ev, Status: DeliveryPending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	if ev.Host != nil {
		d.HostID = ev.Host.ID
	}
	if ev.Alert != nil {
		d.AlertID = ev.Alert.ID
	}
	if ev.Job != nil {
		d.JobID = ev.Job.ID
	}
	return d
}

func insertDeliveries(tx *gorm.DB, rows []NotificationDelivery) (int, error) {
	n := 0
	for chunk := range slices.Chunk(rows, 200) {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&chunk)
		if res.Error != nil {
			return 0, fmt.Errorf("store: queue notifications: %w", res.Error)
		}
		n += int(res.RowsAffected)
	}
	return n, nil
}

// enqueuePings queues the Healthchecks-style pings of jobs run by schedules that have a
// ping URL: /start when the job runs, the URL on success, /fail on failure.
func enqueuePings(tx *gorm.DB, now time.Time, jobs []JobChange) (int, error) {
	var ids []string
	for _, j := range jobs {
		if j.ScheduleID != "" && !slices.Contains(ids, j.ScheduleID) {
			ids = append(ids, j.ScheduleID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	configured := map[string]bool{}
	for chunk := range slices.Chunk(ids, 500) {
		var got []string
		if err := tx.Model(&SchedulePing{}).Where("schedule_id IN ?", chunk).Pluck("schedule_id", &got).Error; err != nil {
			return 0, fmt.Errorf("store: schedule pings: %w", err)
		}
		for _, id := range got {
			configured[id] = true
		}
	}
	var rows []NotificationDelivery
	for _, j := range jobs {
		if !configured[j.ScheduleID] {
			continue
		}
		path, phase := "", "finish"
		switch j.Status {
		case protocol.JobRunning:
			path, phase = "/start", "start"
		case protocol.JobFailed:
			path = "/fail"
		case protocol.JobSucceeded, protocol.JobWarning:
		default:
			continue
		}
		h, job := j.Host, j.EventJob
		ev := NotificationEvent{Type: EventPing, At: j.UpdatedAt, Host: &h, Job: &job, PingPath: path}
		d := newDelivery(TargetPing, j.ScheduleID, "", "", ev, now)
		d.EventKey = "ping:" + j.ID + ":" + phase
		rows = append(rows, d)
	}
	return insertDeliveries(tx, rows)
}

// ClaimDeliveries claims up to limit due deliveries for sending until now+lease: pending
// ones whose next attempt is due, and sending ones whose claim expired (a worker died).
// Each claim counts as an attempt. On PostgreSQL concurrent workers skip each other's
// rows (FOR UPDATE SKIP LOCKED), so a delivery is sent by one worker at a time.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, limit int, lease time.Duration) ([]NotificationDelivery, error) {
	now = now.UTC()
	lock := ""
	if s.dialect == DialectPostgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var rows []NotificationDelivery
	err := s.db.WithContext(ctx).Raw(`UPDATE notification_deliveries
		SET status = ?, attempts = attempts + 1, claimed_until = ?, updated_at = ?
		WHERE id IN (SELECT id FROM notification_deliveries
			WHERE (status = ? AND next_attempt_at <= ?) OR (status = ? AND claimed_until < ?)
			ORDER BY next_attempt_at, id LIMIT ?`+lock+`)
		RETURNING *`,
		DeliverySending, now.Add(lease), now, DeliveryPending, now, DeliverySending, now, limit).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	slices.SortFunc(rows, func(a, b NotificationDelivery) int { return int(a.ID - b.ID) })
	return rows, nil
}

// AttemptResult is the outcome of one try.
type AttemptResult struct {
	At         time.Time
	OK         bool
	StatusCode int
	Error      string
	Duration   time.Duration
	// Retry, for a failure: when to try again; zero gives up (status failed).
	Retry time.Time
}

// FinishAttempt records a try of a claimed delivery and moves it on: delivered, pending
// again (retry) or failed. A claim that expired and was taken by another worker is not
// overwritten (the attempt is still logged).
func (s *Store) FinishAttempt(ctx context.Context, d NotificationDelivery, r AttemptResult) (NotificationDelivery, error) {
	at := r.At.UTC()
	err := s.tx(ctx, func(tx *gorm.DB) error {
		att := NotificationAttempt{DeliveryID: d.ID, Attempt: d.Attempts, At: at, OK: r.OK, StatusCode: r.StatusCode,
			Error: truncate(r.Error, 2000), DurationMS: r.Duration.Milliseconds()}
		if err := tx.Create(&att).Error; err != nil {
			return fmt.Errorf("store: log attempt: %w", err)
		}
		updates := map[string]any{"claimed_until": nil, "updated_at": at}
		switch {
		case r.OK:
			updates["status"], updates["delivered_at"], updates["last_error"] = DeliveryDelivered, at, ""
		case r.Retry.IsZero():
			updates["status"], updates["last_error"] = DeliveryFailed, att.Error
		default:
			updates["status"], updates["last_error"], updates["next_attempt_at"] = DeliveryPending, att.Error, r.Retry.UTC()
		}
		res := tx.Model(&NotificationDelivery{}).Where("id = ? AND status = ? AND attempts = ?", d.ID, DeliverySending, d.Attempts).Updates(updates)
		if res.Error != nil {
			return fmt.Errorf("store: finish attempt: %w", res.Error)
		}
		return tx.Where("id = ?", d.ID).Take(&d).Error
	})
	return d, err
}

// CreateTestDelivery logs a "send test" to a channel as a delivery being sent now; the
// caller sends it and records the outcome with FinishAttempt (no retries).
func (s *Store) CreateTestDelivery(ctx context.Context, ch NotificationChannel, ev NotificationEvent, now time.Time) (NotificationDelivery, error) {
	now = now.UTC()
	d := newDelivery(TargetChannel, ch.ID, ch.Name, "", ev, now)
	d.EventKey = "test:" + strconv.FormatInt(now.UnixNano(), 10)
	d.Status, d.Attempts = DeliverySending, 1
	lease := now.Add(5 * time.Minute)
	d.ClaimedUntil = &lease
	if err := s.db.WithContext(ctx).Create(&d).Error; err != nil {
		return NotificationDelivery{}, fmt.Errorf("store: test delivery: %w", err)
	}
	return d, nil
}

// DeliveryFilter narrows the delivery log.
type DeliveryFilter struct {
	Status     string
	TargetType string
	TargetID   string
	EventType  string
	HostID     string
	AlertID    string
}

// ListDeliveries lists the delivery log, newest first.
func (s *Store) ListDeliveries(ctx context.Context, f DeliveryFilter, page PageRequest) ([]NotificationDelivery, string, error) {
	c, ok, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&NotificationDelivery{})
	for col, v := range map[string]string{"status": f.Status, "target_type": f.TargetType, "target_id": f.TargetID,
		"event_type": f.EventType, "host_id": f.HostID, "alert_id": f.AlertID} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	if ok {
		id, err := strconv.ParseInt(c.I, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("%w: cursor is not one this server issued", ErrInvalidArgument)
		}
		q = q.Where("id < ?", id)
	}
	limit := page.limit()
	var out []NotificationDelivery
	if err := q.Order("id DESC").Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, "", fmt.Errorf("store: list deliveries: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor("", strconv.FormatInt(out[limit-1].ID, 10))
	}
	return out, next, nil
}

// DeliveryByID loads a delivery with its attempts, oldest first.
func (s *Store) DeliveryByID(ctx context.Context, id int64) (NotificationDelivery, []NotificationAttempt, error) {
	var d NotificationDelivery
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&d).Error; err != nil {
		return NotificationDelivery{}, nil, notFound(err)
	}
	var atts []NotificationAttempt
	if err := s.db.WithContext(ctx).Where("delivery_id = ?", id).Order("id").Find(&atts).Error; err != nil {
		return NotificationDelivery{}, nil, fmt.Errorf("store: attempts: %w", err)
	}
	return d, atts, nil
}

// PruneDeliveries deletes finished deliveries (and their attempts) older than before.
func (s *Store) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Where("status IN ? AND updated_at < ?", []string{DeliveryDelivered, DeliveryFailed}, before.UTC()).
		Delete(&NotificationDelivery{})
	if res.Error != nil {
		return 0, fmt.Errorf("store: prune deliveries: %w", res.Error)
	}
	return res.RowsAffected, nil
}
