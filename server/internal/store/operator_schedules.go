package store

import (
	"context"
	"fmt"
)

// Schedules lists a host's schedules in creation order.
func (s *Store) Schedules(ctx context.Context, hostID string) ([]Schedule, error) {
	var out []Schedule
	if err := s.db.WithContext(ctx).Where("host_id = ?", hostID).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: schedules: %w", err)
	}
	return out, nil
}
