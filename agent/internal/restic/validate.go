package restic

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// ValidateSpec refuses a run spec that is invalid or that would let its sender run
// programs or read files on the host: unknown kinds, repository URLs of backends that
// start programs (rclone:) or pass a host beginning with '-' to ssh, environment
// variables that are not cloud credentials, an empty retention policy, malformed option
// values. It never looks at the filesystem or the network.
func ValidateSpec(spec protocol.RunSpec) error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	known := false
	for _, k := range protocol.JobKinds {
		known = known || k == spec.Kind
	}
	if !known {
		add("unknown job kind %q", spec.Kind)
	}
	if err := validateRepository(spec.Repository); err != nil {
		errs = append(errs, err)
	}
	opts := spec.Options
	if opts == nil {
		opts = &protocol.JobOptions{}
	}
	if opts.Host != "" {
		if err := checkText("options.host", opts.Host); err != nil {
			errs = append(errs, err)
		} else if strings.ContainsAny(opts.Host, " ,\t") {
			add("options.host %q: no spaces or commas", opts.Host)
		}
	}

	switch spec.Kind {
	case protocol.KindBackup:
		if len(spec.Paths) == 0 {
			add("backup: at least one path is required")
		}
		for i, p := range spec.Paths {
			if err := checkText(fmt.Sprintf("paths[%d]", i), p); err != nil {
				errs = append(errs, err)
			}
		}
		for i, e := range spec.Excludes {
			if err := checkText(fmt.Sprintf("excludes[%d]", i), e); err != nil {
				errs = append(errs, err)
			}
		}
		for i, t := range spec.Tags {
			if err := checkTag(fmt.Sprintf("tags[%d]", i), t); err != nil {
				errs = append(errs, err)
			}
		}
	case protocol.KindForget:
		if err := validateRetention(spec.Retention); err != nil {
			errs = append(errs, err)
		}
		for i, t := range spec.Tags {
			if err := checkTag(fmt.Sprintf("tags[%d]", i), t); err != nil {
				errs = append(errs, err)
			}
		}
		if opts.Prune && opts.MaxUnused != "" && !maxUnusedRE.MatchString(opts.MaxUnused) {
			add("options.max_unused %q: want a percentage (5%%), a size (500M, 2G) or \"unlimited\"", opts.MaxUnused)
		}
	case protocol.KindPrune:
		if opts.MaxUnused != "" && !maxUnusedRE.MatchString(opts.MaxUnused) {
			add("options.max_unused %q: want a percentage (5%%), a size (500M, 2G) or \"unlimited\"", opts.MaxUnused)
		}
	case protocol.KindRestore:
		if err := validateRestore(spec.Restore); err != nil {
			errs = append(errs, err)
		}
	case protocol.KindCheck:
		if opts.ReadDataSubset != "" {
			if err := validateReadDataSubset(opts.ReadDataSubset); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

var (
	maxUnusedRE  = regexp.MustCompile(`^(unlimited|\d+(\.\d+)?%|\d+[kKmMgGtT]?)$`)
	subsetSizeRE = regexp.MustCompile(`^\d+[kKmMgGtT]?$`)
	durationRE   = regexp.MustCompile(`^(\d+[ymdh])+$`)
)

// checkText refuses empty values and control characters (a NUL cannot be passed at all,
// a newline would forge log lines).
func checkText(field, s string) error {
	if s == "" {
		return fmt.Errorf("%s: empty", field)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("%s %q: control characters are not allowed", field, s)
		}
	}
	return nil
}

func checkTag(field, t string) error {
	if err := checkText(field, t); err != nil {
		return err
	}
	if strings.Contains(t, ",") {
		return fmt.Errorf("%s %q: a tag cannot contain ','", field, t)
	}
	return nil
}

func validateRetention(r *protocol.Retention) error {
	if r.IsEmpty() {
		return errors.New("forget: the retention policy is empty; refusing to run forget without a keep rule (it would remove every snapshot)")
	}
	for name, n := range map[string]int{
		"keep_last": r.KeepLast, "keep_hourly": r.KeepHourly, "keep_daily": r.KeepDaily,
		"keep_weekly": r.KeepWeekly, "keep_monthly": r.KeepMonthly, "keep_yearly": r.KeepYearly,
	} {
		if n < 0 {
			return fmt.Errorf("forget: retention.%s is negative (%d)", name, n)
		}
	}
	if r.KeepWithin != "" && !durationRE.MatchString(r.KeepWithin) {
		return fmt.Errorf("forget: retention.keep_within %q: want a duration such as 1y5m7d2h", r.KeepWithin)
	}
	for i, t := range r.KeepTags {
		if err := checkText(fmt.Sprintf("retention.keep_tags[%d]", i), t); err != nil {
			return err
		}
	}
	return nil
}

// validateReadDataSubset accepts what restic's --read-data-subset accepts: "n/t" with
// 1 <= n <= t, "x%" or "x.y%" with 0 < x <= 100, or a size such as "500M".
func validateReadDataSubset(s string) error {
	bad := fmt.Errorf("options.read_data_subset %q: want \"n/t\" (1/5), a percentage (10%%) or a size (500M)", s)
	switch {
	case strings.HasSuffix(s, "%"):
		f, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
		if err != nil || f <= 0 || f > 100 || strings.ContainsAny(s, "+-eE") {
			return bad
		}
	case strings.Contains(s, "/"):
		a, b, _ := strings.Cut(s, "/")
		n, err1 := strconv.Atoi(a)
		t, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || n < 1 || t < 1 || n > t || strings.ContainsAny(s, "+-") {
			return bad
		}
	default:
		if !subsetSizeRE.MatchString(s) {
			return bad
		}
	}
	return nil
}

func validateRepository(repo protocol.Repository) error {
	var errs []error
	if err := validateRepoURL(repo.URL); err != nil {
		errs = append(errs, err)
	}
	if repo.Password == "" {
		errs = append(errs, errors.New("repository.password: empty"))
	} else if strings.ContainsRune(repo.Password, 0) {
		errs = append(errs, errors.New("repository.password: contains a NUL byte"))
	}
	if repo.RestUsername != "" || repo.RestPassword != "" {
		if !strings.HasPrefix(repo.URL, "rest:") {
			errs = append(errs, errors.New("repository: REST credentials are set but the URL is not a rest: URL"))
		}
		if strings.ContainsRune(repo.RestUsername+repo.RestPassword, 0) {
			errs = append(errs, errors.New("repository: REST credentials contain a NUL byte"))
		}
	}
	for name, value := range repo.Env {
		if err := allowedRepoEnv(name); err != nil {
			errs = append(errs, fmt.Errorf("repository.env: %w", err))
		} else if strings.ContainsRune(value, 0) {
			errs = append(errs, fmt.Errorf("repository.env: %s contains a NUL byte", name))
		}
	}
	return errors.Join(errs...)
}

// validateRepoURL accepts the backends restic knows, except rclone (it runs a program),
// and refuses sftp hosts or users that ssh would read as options.
func validateRepoURL(u string) error {
	if err := checkText("repository.url", u); err != nil {
		return err
	}
	if strings.HasPrefix(u, "-") {
		return fmt.Errorf("repository.url %q: must not start with '-'", displayURL(u))
	}
	scheme, rest, hasScheme := strings.Cut(u, ":")
	if !hasScheme || isWindowsDrive(u) || strings.ContainsAny(scheme, `/\`) {
		scheme, rest = "", u
	}
	switch scheme {
	case "rclone":
		return errors.New("repository.url: the rclone backend is refused: it runs a program on the host")
	case "sftp":
		return validateSFTP(rest)
	case "rest":
		p, err := url.Parse(rest)
		if err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
			return fmt.Errorf("repository.url %q: want rest:http(s)://host[:port]/path", displayURL(u))
		}
	case "s3", "b2", "azure", "gs", "swift":
		if rest == "" {
			return fmt.Errorf("repository.url %q: incomplete", u)
		}
	case "local":
		if !isAbsPath(rest) {
			return fmt.Errorf("repository.url %q: a local repository needs an absolute path", u)
		}
	case "":
		if !isAbsPath(u) {
			return fmt.Errorf("repository.url %q: not an absolute path nor a known backend (local:, sftp:, rest:, s3:, b2:, azure:, gs:, swift:)", u)
		}
	default:
		return fmt.Errorf("repository.url %q: unknown backend %q", displayURL(u), scheme)
	}
	return nil
}

// validateSFTP checks "user@host:/path" and "//user@host:port/path" (what follows "sftp:").
func validateSFTP(rest string) error {
	var user, host string
	if strings.HasPrefix(rest, "//") {
		p, err := url.Parse("sftp:" + rest)
		if err != nil {
			return fmt.Errorf("repository.url: bad sftp URL: %w", err)
		}
		host = p.Hostname()
		if p.User != nil {
			user = p.User.Username()
		}
	} else {
		hostPart := rest
		if at := strings.Index(hostPart, "@"); at >= 0 && !strings.Contains(hostPart[:at], ":") {
			user, hostPart = hostPart[:at], hostPart[at+1:]
		}
		if strings.HasPrefix(hostPart, "[") {
			end := strings.Index(hostPart, "]")
			if end < 0 {
				return errors.New("repository.url: bad sftp IPv6 host")
			}
			host = hostPart[1:end]
		} else {
			host, _, _ = strings.Cut(hostPart, ":")
		}
	}
	switch {
	case host == "":
		return errors.New("repository.url: sftp URL without a host")
	case strings.HasPrefix(host, "-") || strings.HasPrefix(user, "-"):
		return errors.New("repository.url: an sftp host or user must not start with '-' (ssh would read it as an option)")
	case strings.ContainsAny(host+user, " \t"):
		return errors.New("repository.url: an sftp host or user must not contain spaces")
	}
	return nil
}

func isWindowsDrive(p string) bool {
	return len(p) >= 3 && (p[0] >= 'A' && p[0] <= 'Z' || p[0] >= 'a' && p[0] <= 'z') && p[1] == ':' && (p[2] == '\\' || p[2] == '/')
}

// isAbsPath accepts absolute paths of either OS: the server validates specs for agents
// on any platform.
func isAbsPath(p string) bool {
	return strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\\`) || isWindowsDrive(p)
}
