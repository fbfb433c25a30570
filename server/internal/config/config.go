// Package config loads the server's configuration once, from flags with environment
// fallbacks (RM_*), into a typed struct. Secrets are masked when it is printed.
package config

import (
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is the server configuration.
type Config struct {
	Listen          string
	DataDir         string
	DatabaseURL     string
	SecretKey       string // base64; empty: generated into DataDir/server.key
	TLSCert         string
	TLSKey          string
	TrustedProxies  []string
	PublicURL       string
	LogFormat       string
	LogLevel        string
	PollHold        time.Duration
	CommandLease    time.Duration
	LastSeenFlush   time.Duration
	ShutdownTimeout time.Duration
	// AdminEmail and AdminPassword create the first admin account when none exists;
	// without them the server logs a one-time setup token instead.
	AdminEmail    string
	AdminPassword string
	AddrFile      string

	RecommendedAgentVersion string
	AgentPackageSource      string
	AgentChangelog          string

	// Fleet health (docs/monitoring.md). HealthInterval 0 turns evaluation off.
	HealthInterval    time.Duration
	OfflineAfter      time.Duration
	ObjectiveSlack    time.Duration
	DefaultObjective  time.Duration
	MinResticVersion  string
	NotifyMaxAttempts int
	// Metrics serves /metrics; with MetricsToken it needs "Authorization: Bearer <token>".
	Metrics      bool
	MetricsToken string

	// Browsing and downloads (docs/restore.md): how long an operator request waits for
	// the agent, the size limit of one download and how long its bytes are kept.
	BrowseWait        time.Duration
	DownloadMaxBytes  int64
	DownloadRetention time.Duration

	// PprofListen, when set, serves Go's runtime profiles (/debug/pprof/) on this
	// loopback address, apart from the API listener. Off by default.
	PprofListen string
}

// SQLitePath is where the embedded database lives.
func (c Config) SQLitePath() string { return filepath.Join(c.DataDir, "restic-manager.db") }

// KeyPath is where the generated server key lives.
func (c Config) KeyPath() string { return filepath.Join(c.DataDir, "server.key") }

// String prints the configuration with secrets masked.
func (c Config) String() string {
	db := "embedded SQLite at " + c.SQLitePath()
	if c.DatabaseURL != "" {
		if u, err := url.Parse(c.DatabaseURL); err == nil {
			db = u.Redacted()
		} else {
			db = "(unparseable URL)"
		}
	}
	return fmt.Sprintf("listen=%s data_dir=%s database=%s tls=%t poll_hold=%s lease=%s secret_key=%s admin_email=%s admin_password=%s health_interval=%s metrics=%t metrics_token=%s",
		c.Listen, c.DataDir, db, c.TLSCert != "", c.PollHold, c.CommandLease, mask(c.SecretKey), c.AdminEmail, mask(c.AdminPassword),
		c.HealthInterval, c.Metrics, mask(c.MetricsToken))
}

func mask(s string) string {
	if s == "" {
		return "(unset)"
	}
	return "(set)"
}

// Load parses args with environment fallbacks. getenv is os.Getenv in production.
func Load(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	envDur := func(name string, def time.Duration) time.Duration {
		if v := getenv(name); v != "" {
			if d, err := time.ParseDuration(v); err == nil {
				return d
			}
		}
		return def
	}
	envInt := func(name string, def int) int {
		if v := getenv(name); v != "" {
			if n, err := strconv.Atoi(v); err == nil {
				return n
			}
		}
		return def
	}
	fs.StringVar(&c.Listen, "listen", env("RM_LISTEN", "127.0.0.1:8080"), "address to listen on (RM_LISTEN)")
	fs.StringVar(&c.DataDir, "data-dir", env("RM_DATA_DIR", "./data"), "directory for the embedded database and the server key (RM_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env("RM_DATABASE_URL", ""), "PostgreSQL URL; empty selects the embedded SQLite (RM_DATABASE_URL)")
	fs.StringVar(&c.SecretKey, "secret-key", env("RM_SECRET_KEY", ""), "base64 32-byte key sealing secrets at rest; empty: generated into the data dir (RM_SECRET_KEY)")
	fs.StringVar(&c.TLSCert, "tls-cert", env("RM_TLS_CERT", ""), "TLS certificate file; serve HTTPS when set with -tls-key (RM_TLS_CERT)")
	fs.StringVar(&c.TLSKey, "tls-key", env("RM_TLS_KEY", ""), "TLS key file (RM_TLS_KEY)")
	proxies := fs.String("trusted-proxies", env("RM_TRUSTED_PROXIES", ""), "comma-separated addresses or CIDRs of TLS-terminating proxies (RM_TRUSTED_PROXIES)")
	fs.StringVar(&c.PublicURL, "public-url", env("RM_PUBLIC_URL", ""), "URL agents and browsers use to reach this server (RM_PUBLIC_URL)")
	fs.StringVar(&c.LogFormat, "log-format", env("RM_LOG_FORMAT", "text"), "text or json (RM_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", env("RM_LOG_LEVEL", "info"), "debug, info, warn, error (RM_LOG_LEVEL)")
	fs.DurationVar(&c.PollHold, "poll-hold", envDur("RM_POLL_HOLD", 50*time.Second), "how long an idle agent poll is held; agents ask for this plus 5 s, which must stay below any proxy's idle timeout (RM_POLL_HOLD)")
	fs.DurationVar(&c.CommandLease, "command-lease", envDur("RM_COMMAND_LEASE", time.Minute), "redeliver an unacknowledged command after this (RM_COMMAND_LEASE)")
	fs.DurationVar(&c.LastSeenFlush, "last-seen-flush", envDur("RM_LAST_SEEN_FLUSH", 10*time.Second), "how often last-seen times are written (RM_LAST_SEEN_FLUSH)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", envDur("RM_SHUTDOWN_TIMEOUT", 10*time.Second), "grace period on SIGTERM (RM_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&c.AdminEmail, "admin-email", env("RM_ADMIN_EMAIL", ""), "email of the first admin, created at start when no account exists (RM_ADMIN_EMAIL)")
	fs.StringVar(&c.AdminPassword, "admin-password", env("RM_ADMIN_PASSWORD", ""), "password of that first admin (RM_ADMIN_PASSWORD; prefer the environment to the command line); without both, a one-time setup token is logged")
	fs.StringVar(&c.AddrFile, "addr-file", env("RM_ADDR_FILE", ""), "write the bound listen address to this file (for scripts using port 0)")
	fs.StringVar(&c.RecommendedAgentVersion, "recommended-agent-version", env("RM_RECOMMENDED_AGENT_VERSION", ""), "agents older than this get an update notice (RM_RECOMMENDED_AGENT_VERSION)")
	fs.StringVar(&c.AgentPackageSource, "agent-package-source", env("RM_AGENT_PACKAGE_SOURCE", ""), "where operators get the agent package, shown in update notices")
	fs.StringVar(&c.AgentChangelog, "agent-changelog", env("RM_AGENT_CHANGELOG", ""), "changelog text or URL shown in update notices")
	fs.DurationVar(&c.HealthInterval, "health-interval", envDur("RM_HEALTH_INTERVAL", time.Minute), "how often backup objectives and alert conditions are evaluated; 0 turns evaluation off (RM_HEALTH_INTERVAL)")
	fs.DurationVar(&c.OfflineAfter, "offline-after", envDur("RM_OFFLINE_AFTER", 15*time.Minute), "an agent not seen for this long gets an agent_offline alert (RM_OFFLINE_AFTER)")
	fs.DurationVar(&c.ObjectiveSlack, "objective-slack", envDur("RM_OBJECTIVE_SLACK", time.Hour), "derived backup objective: twice the schedule's interval plus this (RM_OBJECTIVE_SLACK)")
	fs.DurationVar(&c.DefaultObjective, "default-objective", envDur("RM_DEFAULT_OBJECTIVE", 0), "objective of hosts without a backup schedule or override; 0: not judged (RM_DEFAULT_OBJECTIVE)")
	fs.StringVar(&c.MinResticVersion, "min-restic-version", env("RM_MIN_RESTIC_VERSION", ""), "hosts with an older restic get a restic_outdated alert, e.g. 0.16.0 (RM_MIN_RESTIC_VERSION)")
	fs.IntVar(&c.NotifyMaxAttempts, "notify-max-attempts", envInt("RM_NOTIFY_MAX_ATTEMPTS", 8), "attempts per notification before it fails for good (RM_NOTIFY_MAX_ATTEMPTS)")
	fs.BoolVar(&c.Metrics, "metrics", env("RM_METRICS", "true") != "false", "serve Prometheus metrics at /metrics (RM_METRICS)")
	fs.StringVar(&c.MetricsToken, "metrics-token", env("RM_METRICS_TOKEN", ""), "bearer token /metrics requires; empty: open (RM_METRICS_TOKEN)")
	fs.DurationVar(&c.BrowseWait, "browse-wait", envDur("RM_BROWSE_WAIT", 25*time.Second), "how long a browse request waits for the agent before answering 202 (RM_BROWSE_WAIT)")
	defMaxBytes := int64(4 << 30)
	if v, err := strconv.ParseInt(getenv("RM_DOWNLOAD_MAX_BYTES"), 10, 64); err == nil {
		defMaxBytes = v
	}
	fs.Int64Var(&c.DownloadMaxBytes, "download-max-bytes", defMaxBytes, "size limit of one download; its bytes pass through the database (RM_DOWNLOAD_MAX_BYTES)")
	fs.DurationVar(&c.DownloadRetention, "download-retention", envDur("RM_DOWNLOAD_RETENTION", time.Hour), "how long a download's bytes are kept for the browser to fetch or resume (RM_DOWNLOAD_RETENTION)")
	fs.StringVar(&c.PprofListen, "pprof-listen", env("RM_PPROF_LISTEN", ""), "serve Go runtime profiles (/debug/pprof/) on this loopback address, e.g. 127.0.0.1:6060; empty: off (RM_PPROF_LISTEN)")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("config: unexpected arguments %q", fs.Args())
	}
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return Config{}, fmt.Errorf("config: -tls-cert and -tls-key go together")
	}
	if c.PollHold < 0 || c.PollHold > 4*time.Minute {
		return Config{}, fmt.Errorf("config: -poll-hold must be between 0 and 4m, got %s", c.PollHold)
	}
	if c.CommandLease < time.Second {
		return Config{}, fmt.Errorf("config: -command-lease must be at least 1s")
	}
	if c.LastSeenFlush < 100*time.Millisecond {
		return Config{}, fmt.Errorf("config: -last-seen-flush must be at least 100ms")
	}
	if c.HealthInterval < 0 || (c.HealthInterval > 0 && c.HealthInterval < time.Second) {
		return Config{}, fmt.Errorf("config: -health-interval must be 0 (off) or at least 1s")
	}
	if c.BrowseWait < 0 || c.BrowseWait > time.Minute {
		return Config{}, fmt.Errorf("config: -browse-wait must be between 0 and 1m")
	}
	if c.DownloadMaxBytes < 1 || c.DownloadRetention < time.Minute {
		return Config{}, fmt.Errorf("config: -download-max-bytes must be positive and -download-retention at least 1m")
	}
	if c.NotifyMaxAttempts < 1 || c.NotifyMaxAttempts > 100 {
		return Config{}, fmt.Errorf("config: -notify-max-attempts must be between 1 and 100")
	}
	if c.PprofListen != "" && !isLoopback(c.PprofListen) {
		return Config{}, fmt.Errorf("config: -pprof-listen must be a loopback address (127.0.0.1:PORT, [::1]:PORT or localhost:PORT), got %q", c.PprofListen)
	}
	return c, nil
}

// isLoopback tells whether addr (host:port) names a loopback host.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
