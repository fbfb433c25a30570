// Package config loads the server's configuration once, from flags with environment
// fallbacks (RM_*), into a typed struct. Secrets are masked when it is printed.
package config

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
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
	return fmt.Sprintf("listen=%s data_dir=%s database=%s tls=%t poll_hold=%s lease=%s secret_key=%s admin_email=%s admin_password=%s",
		c.Listen, c.DataDir, db, c.TLSCert != "", c.PollHold, c.CommandLease, mask(c.SecretKey), c.AdminEmail, mask(c.AdminPassword))
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
	fs.DurationVar(&c.PollHold, "poll-hold", envDur("RM_POLL_HOLD", 25*time.Second), "how long an idle agent poll is held (RM_POLL_HOLD)")
	fs.DurationVar(&c.CommandLease, "command-lease", envDur("RM_COMMAND_LEASE", time.Minute), "redeliver an unacknowledged command after this (RM_COMMAND_LEASE)")
	fs.DurationVar(&c.LastSeenFlush, "last-seen-flush", envDur("RM_LAST_SEEN_FLUSH", 10*time.Second), "how often last-seen times are written (RM_LAST_SEEN_FLUSH)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", envDur("RM_SHUTDOWN_TIMEOUT", 10*time.Second), "grace period on SIGTERM (RM_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&c.AdminEmail, "admin-email", env("RM_ADMIN_EMAIL", ""), "email of the first admin, created at start when no account exists (RM_ADMIN_EMAIL)")
	fs.StringVar(&c.AdminPassword, "admin-password", env("RM_ADMIN_PASSWORD", ""), "password of that first admin (RM_ADMIN_PASSWORD; prefer the environment to the command line); without both, a one-time setup token is logged")
	fs.StringVar(&c.AddrFile, "addr-file", env("RM_ADDR_FILE", ""), "write the bound listen address to this file (for scripts using port 0)")
	fs.StringVar(&c.RecommendedAgentVersion, "recommended-agent-version", env("RM_RECOMMENDED_AGENT_VERSION", ""), "agents older than this get an update notice (RM_RECOMMENDED_AGENT_VERSION)")
	fs.StringVar(&c.AgentPackageSource, "agent-package-source", env("RM_AGENT_PACKAGE_SOURCE", ""), "where operators get the agent package, shown in update notices")
	fs.StringVar(&c.AgentChangelog, "agent-changelog", env("RM_AGENT_CHANGELOG", ""), "changelog text or URL shown in update notices")
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
	return c, nil
}
