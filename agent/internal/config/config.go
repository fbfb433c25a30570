// Package config loads and saves the agent's local configuration file: where the
// server is, the host's credential, where restic and the state live, and the local
// hooks — the only programs besides restic the server can ever make the agent run.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"github.com/goccy/go-yaml"

	"github.com/restic-manager/restic-manager/agent/internal/fsutil"
)

// EnvConfigPath overrides the default config file path; a --config flag overrides it.
const EnvConfigPath = "RM_AGENT_CONFIG"

// DefaultHookTimeout applies to a hook that sets no timeout.
const DefaultHookTimeout = 10 * time.Minute

// Config is the content of agent.yaml.
type Config struct {
	// ServerURL is the server's base URL, e.g. https://backup.example.com.
	ServerURL string `yaml:"server_url" json:"server_url"`
	// HostID and Credential are what enrolment returned. The credential is secret.
	HostID     string `yaml:"host_id" json:"host_id"`
	Credential string `yaml:"credential" json:"credential"`
	// CAFile is an optional PEM bundle trusted in addition to the system roots.
	CAFile string `yaml:"ca_file,omitempty" json:"ca_file,omitempty"`
	// ResticBinary is the restic executable; "restic" is looked up in PATH.
	ResticBinary string `yaml:"restic_binary" json:"restic_binary"`
	// StateDir holds the spool, the schedule cache, job markers and the status file.
	StateDir string `yaml:"state_dir" json:"state_dir"`
	// LogLevel is debug, info, warn or error; the server's config may override it.
	LogLevel string `yaml:"log_level,omitempty" json:"log_level,omitempty"`
	// Hooks are the programs a job may run before and after restic, by name.
	Hooks map[string]Hook `yaml:"hooks,omitempty" json:"hooks,omitempty"`
}

// Hook is one local program. Command is an argv list, run without a shell.
type Hook struct {
	Command []string `yaml:"command" json:"command"`
	Timeout Duration `yaml:"timeout,omitempty" json:"timeout,omitempty"`
}

var hookName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// Validate checks what the service needs to run.
func (c *Config) Validate() error {
	var errs []error
	if c.ServerURL == "" {
		errs = append(errs, errors.New("server_url is empty"))
	} else if u, err := url.Parse(c.ServerURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		errs = append(errs, fmt.Errorf("server_url %q is not an http(s) URL", c.ServerURL))
	}
	if c.HostID == "" || c.Credential == "" {
		errs = append(errs, errors.New("host_id or credential is empty: run 'agent enroll' first"))
	}
	if c.StateDir == "" {
		errs = append(errs, errors.New("state_dir is empty"))
	}
	if c.ResticBinary == "" {
		errs = append(errs, errors.New("restic_binary is empty"))
	}
	switch strings.ToLower(c.LogLevel) {
	case "", "debug", "info", "warn", "warning", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level %q: want debug, info, warn or error", c.LogLevel))
	}
	for name, h := range c.Hooks {
		if !hookName.MatchString(name) {
			errs = append(errs, fmt.Errorf("hook name %q: use letters, digits, '.', '_' or '-'", name))
		}
		if len(h.Command) == 0 || h.Command[0] == "" {
			errs = append(errs, fmt.Errorf("hook %q: command is empty", name))
		} else if !filepath.IsAbs(h.Command[0]) {
			errs = append(errs, fmt.Errorf("hook %q: command %q must be an absolute path", name, h.Command[0]))
		}
		if h.Timeout < 0 {
			errs = append(errs, fmt.Errorf("hook %q: negative timeout", name))
		}
	}
	return errors.Join(errs...)
}

// HookTimeout is the hook's timeout, or DefaultHookTimeout.
func (h Hook) HookTimeout() time.Duration {
	if h.Timeout <= 0 {
		return DefaultHookTimeout
	}
	return time.Duration(h.Timeout)
}

// LogValue masks the credential wherever the config is logged.
func (c Config) LogValue() slog.Value {
	hooks := make([]string, 0, len(c.Hooks))
	for name := range c.Hooks {
		hooks = append(hooks, name)
	}
	return slog.GroupValue(
		slog.String("server_url", c.ServerURL),
		slog.String("host_id", c.HostID),
		slog.String("credential", mask(c.Credential)),
		slog.String("ca_file", c.CAFile),
		slog.String("restic_binary", c.ResticBinary),
		slog.String("state_dir", c.StateDir),
		slog.Any("hooks", hooks),
	)
}

func mask(s string) string {
	if s == "" {
		return ""
	}
	return "********"
}

// Load reads and parses the file at path. It does not validate it.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	var c Config
	if err := yaml.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("parse config %s: %w", path, err)
	}
	return &c, nil
}

// Save writes c to path with mode 0600, creating the folder (0700) if needed.
func Save(path string, c *Config) error {
	data, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	dir := filepath.Dir(path)
	if !Exists(dir) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create config folder: %w", err)
		}
		if runtime.GOOS == "windows" {
			// ProgramData is readable by every user: keep the credential to administrators.
			if err := fsutil.RestrictToAdmins(dir); err != nil {
				return fmt.Errorf("config folder: %w", err)
			}
		}
	}
	header := []byte("# restic-manager agent configuration. Contains the host credential: keep it mode 0600.\n")
	if err := fsutil.WriteFileAtomic(path, append(header, data...), 0o600); err != nil {
		return fmt.Errorf("write config: %w", err)
	}
	return nil
}

// Exists reports whether a config file is at path.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
