package dispatch

import (
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// cronParser accepts standard 5-field crontab lines, an optional leading seconds field
// and descriptors such as @daily.
var cronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// NextFires returns the next n fire times of a cron expression in a time zone.
func NextFires(expr, tz string, from time.Time, n int) ([]time.Time, error) {
	loc, err := time.LoadLocation(orUTC(tz))
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q", tz)
	}
	sched, err := cronParser.Parse(expr)
	if err != nil {
		return nil, fmt.Errorf("cron: %w", err)
	}
	out := make([]time.Time, 0, n)
	t := from.In(loc)
	for range n {
		t = sched.Next(t)
		if t.IsZero() {
			break
		}
		out = append(out, t)
	}
	return out, nil
}

func orUTC(tz string) string {
	if tz == "" {
		return "UTC"
	}
	return tz
}

func fieldErr(field, format string, args ...any) *httpx.Error {
	return &httpx.Error{Status: http.StatusBadRequest, Code: protocol.CodeValidation,
		Message: field + ": " + fmt.Sprintf(format, args...), Details: map[string]string{"field": field}}
}

// ValidateSchedule checks a schedule before it is stored.
func ValidateSchedule(in store.ScheduleInput) error {
	if strings.TrimSpace(in.Name) == "" || len(in.Name) > 200 {
		return fieldErr("name", "required, at most 200 characters")
	}
	if !slices.Contains(protocol.ScheduleKinds, in.Kind) {
		return fieldErr("kind", "must be one of %s", strings.Join(protocol.ScheduleKinds, ", "))
	}
	if in.RepositoryID == "" {
		return fieldErr("repository_id", "required")
	}
	if _, err := NextFires(in.Cron, in.Timezone, time.Now(), 1); err != nil {
		if strings.HasPrefix(err.Error(), "unknown time zone") {
			return fieldErr("timezone", "%v", err)
		}
		return fieldErr("cron", "%v", err)
	}
	if err := validateJob(in.Kind, in.Paths, in.Excludes, in.Tags, in.Retention, in.Options); err != nil {
		return err
	}
	return validateHookNames(in.PreHook, in.PostHook)
}

// ValidateRun checks an ad-hoc run before it is queued.
func ValidateRun(in store.RunRequest) error {
	if !slices.Contains(protocol.JobKinds, in.Kind) {
		return fieldErr("kind", "must be one of %s", strings.Join(protocol.JobKinds, ", "))
	}
	if in.Kind == protocol.KindRestore {
		return fieldErr("kind", "a restore is started with POST /hosts/{id}/repositories/{rid}/snapshots/{sid}/restore")
	}
	if err := validateJob(in.Kind, in.Paths, in.Excludes, in.Tags, in.Retention, in.Options); err != nil {
		return err
	}
	return validateHookNames(in.PreHook, in.PostHook)
}

func validateJob(kind string, paths, excludes, tags []string, ret *protocol.Retention, opts *protocol.JobOptions) error {
	if kind == protocol.KindBackup && len(paths) == 0 {
		return fieldErr("paths", "a backup needs at least one path")
	}
	for _, p := range paths {
		if !isAbs(p) {
			return fieldErr("paths", "%q is not an absolute path", p)
		}
		if strings.ContainsRune(p, 0) {
			return fieldErr("paths", "paths may not contain NUL")
		}
	}
	for _, e := range excludes {
		if e == "" || strings.ContainsRune(e, 0) {
			return fieldErr("excludes", "empty or invalid pattern")
		}
	}
	for _, t := range tags {
		if t == "" || strings.ContainsAny(t, ", \x00") || strings.HasPrefix(t, "-") {
			return fieldErr("tags", "tag %q is empty, starts with '-' or contains a comma or space", t)
		}
	}
	if kind == protocol.KindForget && ret.IsEmpty() {
		return fieldErr("retention", "forget needs at least one keep rule")
	}
	if ret != nil {
		for _, n := range []int{ret.KeepLast, ret.KeepHourly, ret.KeepDaily, ret.KeepWeekly, ret.KeepMonthly, ret.KeepYearly} {
			if n < 0 {
				return fieldErr("retention", "keep counts may not be negative")
			}
		}
		if ret.KeepWithin != "" && !validRetentionDuration(ret.KeepWithin) {
			return fieldErr("retention.keep_within", "%q is not a duration like 7d, 2w3d, 1y6m", ret.KeepWithin)
		}
	}
	if opts != nil && opts.Host != "" && strings.HasPrefix(opts.Host, "-") {
		return fieldErr("options.host", "may not start with '-'")
	}
	return nil
}

// isAbs accepts POSIX absolute paths and Windows drive or UNC paths.
func isAbs(p string) bool {
	if path.IsAbs(p) {
		return true
	}
	if len(p) >= 3 && p[1] == ':' && (p[2] == '\\' || p[2] == '/') {
		c := p[0] | 0x20
		return c >= 'a' && c <= 'z'
	}
	return strings.HasPrefix(p, `\\`)
}

func validRetentionDuration(s string) bool {
	num := false
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			num = true
		case strings.ContainsRune("ymwdh", r) && num:
			num = false
		default:
			return false
		}
	}
	return !num && s != ""
}

func validateHookNames(names ...string) error {
	for _, n := range names {
		if n == "" {
			continue
		}
		if len(n) > 64 || strings.IndexFunc(n, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
		}) >= 0 {
			return fieldErr("hooks", "hook name %q must be letters, digits, '-', '_' or '.' (it names a hook in the agent's local config)", n)
		}
	}
	return nil
}

// ValidateRepository checks a repository before it is stored.
func ValidateRepository(in store.RepositoryInput) error {
	if strings.TrimSpace(in.Name) == "" || len(in.Name) > 200 {
		return fieldErr("name", "required, at most 200 characters")
	}
	if in.URL == "" || strings.HasPrefix(in.URL, "-") || strings.ContainsAny(in.URL, "\x00\n") {
		return fieldErr("url", "required; may not start with '-'")
	}
	if strings.HasPrefix(in.URL, "rclone:") {
		return fieldErr("url", "rclone repositories would let the server choose a program to run on the host; configure rclone locally")
	}
	if strings.HasPrefix(in.URL, "sftp:") {
		host := strings.TrimPrefix(strings.TrimPrefix(in.URL, "sftp:"), "//")
		if i := strings.LastIndex(host, "@"); i >= 0 {
			host = host[i+1:]
		}
		if strings.HasPrefix(host, "-") {
			return fieldErr("url", "an sftp host may not start with '-'")
		}
	}
	if in.Password == "" {
		return fieldErr("password", "required")
	}
	for k := range in.Env {
		if strings.Contains(strings.ToUpper(k), "COMMAND") || strings.HasPrefix(strings.ToUpper(k), "RESTIC_PASSWORD") {
			return fieldErr("env", "%s would let the server run programs or read files on the host", k)
		}
	}
	return nil
}
