package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Cron is a parsed crontab in a time zone. It accepts the 5-field form
// (minute hour day-of-month month day-of-week), the 6-field form with leading seconds,
// and descriptors such as @daily or @every 1h. It implements gocron.Cron.
type Cron struct {
	expr  string
	loc   *time.Location
	sched cron.Schedule
}

// ParseCron parses expr in the named time zone ("" means the agent's local time).
func ParseCron(expr, timezone string) (*Cron, error) {
	expr = strings.TrimSpace(expr)
	if strings.HasPrefix(expr, "TZ=") || strings.HasPrefix(expr, "CRON_TZ=") {
		return nil, fmt.Errorf("cron %q: set the time zone in the schedule's timezone field, not in the expression", expr)
	}
	loc := time.Local
	if timezone != "" {
		l, err := time.LoadLocation(timezone)
		if err != nil {
			return nil, fmt.Errorf("timezone %q: %w", timezone, err)
		}
		loc = l
	}
	var (
		sched cron.Schedule
		err   error
	)
	fields := len(strings.Fields(expr))
	switch {
	case strings.HasPrefix(expr, "@"):
		sched, err = cron.ParseStandard(expr)
	case fields == 5:
		sched, err = cron.ParseStandard(expr)
	case fields == 6:
		p := cron.NewParser(cron.Second | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)
		sched, err = p.Parse(expr)
	default:
		return nil, fmt.Errorf("cron %q: want 5 fields (or 6 with seconds first), got %d", expr, fields)
	}
	if err != nil {
		return nil, fmt.Errorf("cron %q: %w", expr, err)
	}
	// robfig's SpecSchedule works in the location of the time passed to Next.
	c := &Cron{expr: expr, loc: loc, sched: sched}
	if c.Next(time.Now()).IsZero() {
		return nil, fmt.Errorf("cron %q never fires", expr)
	}
	return c, nil
}

// Next is the first tick strictly after t.
func (c *Cron) Next(t time.Time) time.Time {
	return c.sched.Next(t.In(c.loc))
}

// IsValid satisfies gocron.Cron; the expression was checked by ParseCron.
func (c *Cron) IsValid(_ string, _ *time.Location, now time.Time) error {
	if c.Next(now).IsZero() {
		return fmt.Errorf("cron %q never fires", c.expr)
	}
	return nil
}

// Latest returns the latest tick in (after, upTo], or false when there is none.
func (c *Cron) Latest(after, upTo time.Time) (time.Time, bool) {
	if !upTo.After(after) {
		return time.Time{}, false
	}
	for window := time.Minute; ; window *= 2 {
		from := upTo.Add(-window)
		exhausted := false
		if !from.After(after) {
			from, exhausted = after, true
		}
		t := c.Next(from)
		if !t.IsZero() && !t.After(upTo) {
			for {
				n := c.Next(t)
				if n.IsZero() || n.After(upTo) {
					return t, true
				}
				t = n
			}
		}
		if exhausted {
			return time.Time{}, false
		}
	}
}
