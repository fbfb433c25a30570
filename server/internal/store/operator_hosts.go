package store

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// Host statuses as the operator sees them.
const (
	HostOnline         = "online"
	HostOffline        = "offline"
	HostDecommissioned = "decommissioned"
)

// Host list sort keys.
const (
	HostSortName     = "name"
	HostSortHostname = "hostname"
	HostSortLastSeen = "last_seen"
	HostSortCreated  = "created_at"
)

// HostSorts lists the accepted sort keys.
var HostSorts = []string{HostSortName, HostSortHostname, HostSortLastSeen, HostSortCreated}

// HostFilter narrows and orders a host listing.
type HostFilter struct {
	// Search matches a substring of the name or hostname (any case), or the exact id.
	Search string
	// Labels must all match: key → value.
	Labels map[string]string
	// LabelKeys must all be present, whatever their value.
	LabelKeys []string
	// Status is online, offline, decommissioned or "all"; empty lists every host that
	// is not decommissioned.
	Status string
	// OnlineSince separates online from offline: a host seen at or after it is online.
	OnlineSince time.Time
	Sort        string // one of HostSorts; default name
	Desc        bool
}

// HostStatus tells a host's status at a time.
func HostStatus(h Host, onlineSince time.Time) string {
	switch {
	case h.DecommissionedAt != nil:
		return HostDecommissioned
	case h.LastSeenAt != nil && !h.LastSeenAt.Before(onlineSince):
		return HostOnline
	}
	return HostOffline
}

func (s *Store) hostFilter(q *gorm.DB, f HostFilter) (*gorm.DB, error) {
	switch f.Status {
	case "":
		q = q.Where("decommissioned_at IS NULL")
	case "all":
	case HostDecommissioned:
		q = q.Where("decommissioned_at IS NOT NULL")
	case HostOnline:
		q = q.Where("decommissioned_at IS NULL AND last_seen_at >= ?", f.OnlineSince.UTC())
	case HostOffline:
		q = q.Where("decommissioned_at IS NULL AND (last_seen_at IS NULL OR last_seen_at < ?)", f.OnlineSince.UTC())
	default:
		return nil, fmt.Errorf("%w: status must be online, offline, decommissioned or all", ErrInvalidArgument)
	}
	if f.Search != "" {
		pat := "%" + escapeLike(strings.ToLower(f.Search)) + "%"
		q = q.Where(`(LOWER(name) LIKE ? ESCAPE '\' OR LOWER(hostname) LIKE ? ESCAPE '\' OR id = ?)`, pat, pat, f.Search)
	}
	keys := make([]string, 0, len(f.Labels))
	for k := range f.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if s.dialect == DialectPostgres {
		if len(f.Labels) > 0 {
			doc, err := json.Marshal(f.Labels)
			if err != nil {
				return nil, fmt.Errorf("store: labels: %w", err)
			}
			q = q.Where("labels @> ?::jsonb", string(doc))
		}
		for _, k := range f.LabelKeys {
			q = q.Where("labels ->> ? IS NOT NULL", k)
		}
		return q, nil
	}
	for _, k := range keys {
		q = q.Where("json_extract(labels, ?) = ?", jsonPath(k), f.Labels[k])
	}
	for _, k := range f.LabelKeys {
		q = q.Where("json_type(labels, ?) IS NOT NULL", jsonPath(k))
	}
	return q, nil
}

func jsonPath(key string) string {
	return `$."` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(key) + `"`
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// ListHosts lists hosts with a filter, keyset-paginated on (sort key, id).
func (s *Store) ListHosts(ctx context.Context, f HostFilter, page PageRequest) ([]Host, string, error) {
	c, hasCursor, err := decodeCursor(page.Cursor)
	if err != nil {
		return nil, "", err
	}
	q, err := s.hostFilter(s.db.WithContext(ctx).Model(&Host{}), f)
	if err != nil {
		return nil, "", err
	}
	var (
		col string
		key func(Host) string
		val any
	)
	switch f.Sort {
	case "", HostSortName:
		col, key = "name", func(h Host) string { return h.Name }
		val = c.V
	case HostSortHostname:
		col, key = "hostname", func(h Host) string { return h.Hostname }
		val = c.V
	case HostSortCreated:
		col, key = "created_at", func(h Host) string { return timeKey(h.CreatedAt) }
	case HostSortLastSeen:
		// Hosts never seen sort as seen at the epoch.
		col = "COALESCE(last_seen_at, ?)"
		key = func(h Host) string {
			if h.LastSeenAt == nil {
				return timeKey(epoch)
			}
			return timeKey(*h.LastSeenAt)
		}
	default:
		return nil, "", fmt.Errorf("%w: sort must be one of %s", ErrInvalidArgument, strings.Join(HostSorts, ", "))
	}
	if hasCursor && val == nil {
		t, err := cursorTime(c)
		if err != nil {
			return nil, "", err
		}
		val = t
	}
	dir, cmp := "ASC", ">"
	if f.Desc {
		dir, cmp = "DESC", "<"
	}
	colArgs := []any{}
	if strings.Contains(col, "?") {
		colArgs = append(colArgs, epoch)
	}
	if hasCursor {
		args := append(append([]any{}, colArgs...), val, c.I)
		q = q.Where("("+col+", id) "+cmp+" (?, ?)", args...)
	}
	limit := page.limit()
	var out []Host
	order := clause.OrderBy{Expression: clause.Expr{SQL: col + " " + dir + ", id " + dir, Vars: colArgs}}
	if err := q.Order(order).Limit(limit + 1).Find(&out).Error; err != nil {
		return nil, "", fmt.Errorf("store: list hosts: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = encodeCursor(key(last), last.ID)
	}
	return out, next, nil
}

// HostCounts summarises the fleet.
type HostCounts struct {
	Total          int64 // not decommissioned
	Online         int64
	Offline        int64
	Decommissioned int64
}

// CountHosts counts hosts by status.
func (s *Store) CountHosts(ctx context.Context, onlineSince time.Time) (HostCounts, error) {
	var row struct {
		Total          int64
		Online         int64
		Decommissioned int64
	}
	err := s.db.WithContext(ctx).Model(&Host{}).Select(
		`COALESCE(SUM(CASE WHEN decommissioned_at IS NULL THEN 1 ELSE 0 END), 0) AS total,
		 COALESCE(SUM(CASE WHEN decommissioned_at IS NULL AND last_seen_at >= ? THEN 1 ELSE 0 END), 0) AS online,
		 COALESCE(SUM(CASE WHEN decommissioned_at IS NOT NULL THEN 1 ELSE 0 END), 0) AS decommissioned`, onlineSince.UTC()).
		Scan(&row).Error
	if err != nil {
		return HostCounts{}, fmt.Errorf("store: count hosts: %w", err)
	}
	return HostCounts{Total: row.Total, Online: row.Online, Offline: row.Total - row.Online, Decommissioned: row.Decommissioned}, nil
}

// RenameHost sets a host's display name.
func (s *Store) RenameHost(ctx context.Context, id, name string) (Host, error) {
	if strings.TrimSpace(name) == "" {
		return Host{}, fmt.Errorf("%w: name is required", ErrInvalidArgument)
	}
	res := s.db.WithContext(ctx).Model(&Host{}).Where("id = ?", id).Updates(map[string]any{"name": name, "updated_at": s.now()})
	if res.Error != nil {
		return Host{}, fmt.Errorf("store: rename host: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return Host{}, ErrNotFound
	}
	return s.Host(ctx, id)
}

// SetHostLabels replaces a host's labels.
func (s *Store) SetHostLabels(ctx context.Context, id string, labels map[string]string) (Host, error) {
	var h Host
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&h).Error; err != nil {
			return notFound(err)
		}
		if labels == nil {
			labels = map[string]string{}
		}
		h.Labels = labels
		h.UpdatedAt = s.now()
		if err := tx.Model(&h).Select("labels", "updated_at").Updates(&h).Error; err != nil {
			return fmt.Errorf("store: set labels: %w", err)
		}
		return nil
	})
	return h, err
}

// DecommissionHost retires a host: its credentials are revoked (the agent is refused
// from now on) and its unfinished jobs are cancelled. Repeating it is harmless. The
// caller must tell every server process to forget the host's cached credentials.
func (s *Store) DecommissionHost(ctx context.Context, id string) (Host, error) {
	var h Host
	err := s.tx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Take(&h).Error; err != nil {
			return notFound(err)
		}
		now := s.now()
		if h.DecommissionedAt == nil {
			h.DecommissionedAt = &now
			h.UpdatedAt = now
			if err := tx.Model(&Host{}).Where("id = ?", id).
				Updates(map[string]any{"decommissioned_at": now, "updated_at": now}).Error; err != nil {
				return fmt.Errorf("store: decommission: %w", err)
			}
		}
		if err := tx.Model(&AgentCredential{}).Where("host_id = ? AND revoked_at IS NULL", id).
			Update("revoked_at", now).Error; err != nil {
			return fmt.Errorf("store: revoke credentials: %w", err)
		}
		err := tx.Model(&Job{}).Where("host_id = ? AND status IN ?", id, []string{protocol.JobQueued, protocol.JobRunning}).
			Updates(map[string]any{"status": protocol.JobCancelled, "error": "host decommissioned", "finished_at": now,
				"cancel_requested_at": gorm.Expr("COALESCE(cancel_requested_at, ?)", now), "updated_at": now}).Error
		if err != nil {
			return fmt.Errorf("store: cancel jobs of decommissioned host: %w", err)
		}
		return nil
	})
	return h, err
}
