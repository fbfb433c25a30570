package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"
)

// ChannelInput creates or replaces a notification channel. Config is the channel's
// settings as JSON (sealed before it is stored); Summary what may be shown of them.
type ChannelInput struct {
	Name    string
	Type    string
	Config  []byte
	Summary string
	Enabled bool
}

// CreateChannel adds a notification channel.
func (s *Store) CreateChannel(ctx context.Context, in ChannelInput) (NotificationChannel, error) {
	now := s.now()
	ch := NotificationChannel{ID: uuid.NewString(), CreatedAt: now}
	if err := s.applyChannel(&ch, in, now); err != nil {
		return NotificationChannel{}, err
	}
	if err := s.db.WithContext(ctx).Create(&ch).Error; err != nil {
		if isUniqueViolation(err) {
			return NotificationChannel{}, fmt.Errorf("%w: a channel named %q exists", ErrConflict, in.Name)
		}
		return NotificationChannel{}, fmt.Errorf("store: create channel: %w", err)
	}
	return ch, nil
}

func (s *Store) applyChannel(ch *NotificationChannel, in ChannelInput, now time.Time) error {
	enc, err := s.box.Seal(string(in.Config))
	if err != nil {
		return err
	}
	ch.Name, ch.Type, ch.ConfigEnc, ch.Summary, ch.Enabled, ch.UpdatedAt = in.Name, in.Type, enc, in.Summary, in.Enabled, now
	return nil
}

// UpdateChannel replaces a channel's settings (its type cannot change).
func (s *Store) UpdateChannel(ctx context.Context, id string, in ChannelInput) (NotificationChannel, error) {
	var ch NotificationChannel
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&ch).Error; err != nil {
			return notFound(err)
		}
		if in.Type != ch.Type {
			return fmt.Errorf("%w: a channel's type cannot change", ErrInvalidArgument)
		}
		if err := s.applyChannel(&ch, in, s.now()); err != nil {
			return err
		}
		if err := tx.Save(&ch).Error; err != nil {
			if isUniqueViolation(err) {
				return fmt.Errorf("%w: a channel named %q exists", ErrConflict, in.Name)
			}
			return fmt.Errorf("store: update channel: %w", err)
		}
		return nil
	})
	return ch, err
}

// DeleteChannel removes a channel and its rules. Its delivery log stays.
func (s *Store) DeleteChannel(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("channel_id = ?", id).Delete(&NotificationRule{}).Error; err != nil {
			return fmt.Errorf("store: delete rules: %w", err)
		}
		res := tx.Where("id = ?", id).Delete(&NotificationChannel{})
		if res.Error != nil {
			return fmt.Errorf("store: delete channel: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// Channel loads a channel.
func (s *Store) Channel(ctx context.Context, id string) (NotificationChannel, error) {
	var ch NotificationChannel
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&ch).Error; err != nil {
		return NotificationChannel{}, notFound(err)
	}
	return ch, nil
}

// Channels lists every channel by name (there are few).
func (s *Store) Channels(ctx context.Context) ([]NotificationChannel, error) {
	var out []NotificationChannel
	if err := s.db.WithContext(ctx).Order("name, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: channels: %w", err)
	}
	return out, nil
}

// OpenChannelConfig returns a channel's settings as JSON.
func (s *Store) OpenChannelConfig(ch NotificationChannel) ([]byte, error) {
	raw, err := s.box.Open(ch.ConfigEnc)
	if err != nil {
		return nil, fmt.Errorf("store: channel %s config: %w", ch.ID, err)
	}
	return []byte(raw), nil
}

// RuleInput creates or replaces a routing rule.
type RuleInput struct {
	Name        string
	ChannelID   string
	Events      []string
	Conditions  []string
	MinSeverity string
	JobKinds    []string
	HostIDs     []string
	Labels      map[string]string
	Enabled     bool
}

func applyRule(r *NotificationRule, in RuleInput, now time.Time) {
	r.Name, r.ChannelID, r.MinSeverity, r.Enabled, r.UpdatedAt = in.Name, in.ChannelID, in.MinSeverity, in.Enabled, now
	r.Events, r.Conditions, r.JobKinds, r.HostIDs = nonNil(in.Events), nonNil(in.Conditions), nonNil(in.JobKinds), nonNil(in.HostIDs)
	r.Labels = in.Labels
	if r.Labels == nil {
		r.Labels = map[string]string{}
	}
}

// CreateRule adds a routing rule to an existing channel.
func (s *Store) CreateRule(ctx context.Context, in RuleInput) (NotificationRule, error) {
	now := s.now()
	r := NotificationRule{ID: uuid.NewString(), CreatedAt: now}
	applyRule(&r, in, now)
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := requireChannel(tx, in.ChannelID); err != nil {
			return err
		}
		if err := tx.Create(&r).Error; err != nil {
			return fmt.Errorf("store: create rule: %w", err)
		}
		return nil
	})
	return r, err
}

// UpdateRule replaces a rule.
func (s *Store) UpdateRule(ctx context.Context, id string, in RuleInput) (NotificationRule, error) {
	var r NotificationRule
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&r).Error; err != nil {
			return notFound(err)
		}
		if err := requireChannel(tx, in.ChannelID); err != nil {
			return err
		}
		applyRule(&r, in, s.now())
		if err := tx.Save(&r).Error; err != nil {
			return fmt.Errorf("store: update rule: %w", err)
		}
		return nil
	})
	return r, err
}

func requireChannel(tx *gorm.DB, id string) error {
	var n int64
	if err := tx.Model(&NotificationChannel{}).Where("id = ?", id).Count(&n).Error; err != nil {
		return fmt.Errorf("store: channel lookup: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("%w: channel_id: no such channel", ErrInvalidArgument)
	}
	return nil
}

// DeleteRule removes a rule.
func (s *Store) DeleteRule(ctx context.Context, id string) error {
	res := s.db.WithContext(ctx).Where("id = ?", id).Delete(&NotificationRule{})
	if res.Error != nil {
		return fmt.Errorf("store: delete rule: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// Rule loads a rule.
func (s *Store) Rule(ctx context.Context, id string) (NotificationRule, error) {
	var r NotificationRule
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return NotificationRule{}, notFound(err)
	}
	return r, nil
}

// Rules lists every rule, oldest first (there are few).
func (s *Store) Rules(ctx context.Context) ([]NotificationRule, error) {
	var out []NotificationRule
	if err := s.db.WithContext(ctx).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: rules: %w", err)
	}
	return out, nil
}

// SetSchedulePing sets a schedule's ping URL (sealed); urlHost is what may be shown.
func (s *Store) SetSchedulePing(ctx context.Context, hostID, scheduleID, url, urlHost string) (SchedulePing, error) {
	now := s.now()
	enc, err := s.box.Seal(url)
	if err != nil {
		return SchedulePing{}, err
	}
	var p SchedulePing
	err = s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Schedule{}).Where("id = ? AND host_id = ?", scheduleID, hostID).Count(&n).Error; err != nil {
			return fmt.Errorf("store: schedule lookup: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		err := tx.Where("schedule_id = ?", scheduleID).Take(&p).Error
		switch notFound(err) {
		case nil:
			p.URLEnc, p.URLHost, p.UpdatedAt = enc, urlHost, now
			return tx.Save(&p).Error
		case ErrNotFound:
			p = SchedulePing{ScheduleID: scheduleID, HostID: hostID, URLEnc: enc, URLHost: urlHost, CreatedAt: now, UpdatedAt: now}
			return tx.Create(&p).Error
		}
		return fmt.Errorf("store: schedule ping: %w", err)
	})
	return p, err
}

// SchedulePingOf loads a schedule's ping.
func (s *Store) SchedulePingOf(ctx context.Context, hostID, scheduleID string) (SchedulePing, error) {
	var p SchedulePing
	if err := s.db.WithContext(ctx).Where("schedule_id = ? AND host_id = ?", scheduleID, hostID).Take(&p).Error; err != nil {
		return SchedulePing{}, notFound(err)
	}
	return p, nil
}

// PingURL opens the ping URL of a schedule (ErrNotFound when it has none).
func (s *Store) PingURL(ctx context.Context, scheduleID string) (string, error) {
	var p SchedulePing
	if err := s.db.WithContext(ctx).Where("schedule_id = ?", scheduleID).Take(&p).Error; err != nil {
		return "", notFound(err)
	}
	u, err := s.box.Open(p.URLEnc)
	if err != nil {
		return "", fmt.Errorf("store: ping url: %w", err)
	}
	return u, nil
}

// DeleteSchedulePing removes a schedule's ping URL.
func (s *Store) DeleteSchedulePing(ctx context.Context, hostID, scheduleID string) error {
	res := s.db.WithContext(ctx).Where("schedule_id = ? AND host_id = ?", scheduleID, hostID).Delete(&SchedulePing{})
	if res.Error != nil {
		return fmt.Errorf("store: delete ping: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}
