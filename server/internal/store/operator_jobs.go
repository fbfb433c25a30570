package store

import (
	"context"
	"fmt"
	"time"
)

// JobFilter narrows a job listing; zero fields match everything.
type JobFilter struct {
	HostID       string
	Kind         string
	Statuses     []string
	ScheduleID   string
	RepositoryID string
	// Since and Until bound the creation time: Since <= created_at < Until.
	Since time.Time
	Until time.Time
}

// ListJobs lists jobs newest first, keyset-paginated on (created_at, id).
func (s *Store) ListJobs(ctx context.Context, f JobFilter, page PageRequest) ([]Job, string, error) {
	c, ok, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q := s.db.WithContext(ctx).Model(&Job{})
	if f.HostID != "" {
		q = q.Where("host_id = ?", f.HostID)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if len(f.Statuses) > 0 {
		q = q.Where("status IN ?", f.Statuses)
	}
	if f.ScheduleID != "" {
		q = q.Where("schedule_id = ?", f.ScheduleID)
	}
	if f.RepositoryID != "" {
		q = q.Where("repository_id = ?", f.RepositoryID)
	}
	if !f.Since.IsZero() {
		q = q.Where("created_at >= ?", f.Since.UTC())
	}
	if !f.Until.IsZero() {
		q = q.Where("created_at < ?", f.Until.UTC())
	}
	if ok {
		t, err := cursorTime(c)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("(created_at, id) < (?, ?)", t, c.I)
	}
	limit := page.limit()
	var out []Job
	if err := q.Order("created_at DESC, id DESC").Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, "", fmt.Errorf("store: list jobs: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = encodeCursor(timeKey(out[limit-1].CreatedAt), out[limit-1].ID)
	}
	return out, next, nil
}

// JobByID loads a job of any host.
func (s *Store) JobByID(ctx context.Context, id string) (Job, error) {
	var j Job
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&j).Error; err != nil {
		return Job{}, notFound(err)
	}
	return j, nil
}

// LogRange returns a job's lines with after < seq <= until (until 0: no upper bound),
// in order, at most limit.
func (s *Store) LogRange(ctx context.Context, jobID string, after, until int64, limit int) ([]JobLog, error) {
	q := s.db.WithContext(ctx).Where("job_id = ? AND seq > ?", jobID, after)
	if until > 0 {
		q = q.Where("seq <= ?", until)
	}
	var out []JobLog
	if err := q.Order("seq").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: logs: %w", err)
	}
	return out, nil
}
