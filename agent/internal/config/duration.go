package config

import (
	"fmt"
	"time"
)

// Duration is a time.Duration written as "90s", "5m" or "1h30m".
type Duration time.Duration

// MarshalText writes the duration in Go syntax.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// UnmarshalText parses Go duration syntax; a bare number is seconds.
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if s == "" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		var n int64
		if _, scanErr := fmt.Sscanf(s, "%d", &n); scanErr == nil && fmt.Sprint(n) == s {
			*d = Duration(time.Duration(n) * time.Second)
			return nil
		}
		return fmt.Errorf("duration %q: %w", s, err)
	}
	*d = Duration(v)
	return nil
}
