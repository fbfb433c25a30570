package config

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "agent.yaml")
	in := &Config{
		ServerURL:    "https://backup.example.com",
		HostID:       "h1",
		Credential:   "secret-credential",
		ResticBinary: "/usr/bin/restic",
		StateDir:     "/var/lib/x",
		Hooks: map[string]Hook{
			"dump-db": {Command: []string{"/usr/local/bin/dump", "--all"}, Timeout: Duration(90 * time.Second)},
		},
	}
	if err := Save(path, in); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Fatalf("mode %v, want 0600", st.Mode().Perm())
		}
	}
	out, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if out.Credential != in.Credential || out.Hooks["dump-db"].HookTimeout() != 90*time.Second ||
		strings.Join(out.Hooks["dump-db"].Command, " ") != "/usr/local/bin/dump --all" {
		t.Fatalf("round trip: %+v", out)
	}
	if err := out.Validate(); err != nil {
		t.Fatalf("validate: %v", err)
	}
}

func TestLoadHandWritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.yaml")
	text := `server_url: https://s
host_id: h
credential: c
restic_binary: /usr/bin/restic
state_dir: /tmp/s
hooks:
  a:
    command: [/bin/true]
  b:
    command: ["/bin/sleep", "1"]
    timeout: 30
`
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hooks["a"].HookTimeout() != DefaultHookTimeout || c.Hooks["b"].HookTimeout() != 30*time.Second {
		t.Fatalf("timeouts: %+v", c.Hooks)
	}
}

func TestValidate(t *testing.T) {
	base := func() Config {
		return Config{ServerURL: "https://s", HostID: "h", Credential: "c", ResticBinary: "restic", StateDir: "/s"}
	}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"ok", func(*Config) {}, ""},
		{"no url", func(c *Config) { c.ServerURL = "" }, "server_url is empty"},
		{"bad scheme", func(c *Config) { c.ServerURL = "ftp://x" }, "not an http(s) URL"},
		{"not enrolled", func(c *Config) { c.Credential = "" }, "agent enroll"},
		{"relative hook", func(c *Config) { c.Hooks = map[string]Hook{"x": {Command: []string{"sh"}}} }, "absolute path"},
		{"empty hook", func(c *Config) { c.Hooks = map[string]Hook{"x": {}} }, "command is empty"},
		{"bad hook name", func(c *Config) { c.Hooks = map[string]Hook{"../x": {Command: []string{"/bin/true"}}} }, "hook name"},
		{"bad level", func(c *Config) { c.LogLevel = "loud" }, "log_level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.mutate(&c)
			err := c.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLogValueMasksCredential(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("config", "config", Config{Credential: "very-secret"})
	if strings.Contains(buf.String(), "very-secret") {
		t.Fatalf("credential logged: %s", buf.String())
	}
}

func TestResolvePath(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if got := ResolvePath("", "linux", getenv); got != "/etc/restic-manager/agent.yaml" {
		t.Fatalf("default: %s", got)
	}
	env[EnvConfigPath] = "/x/agent.yaml"
	if got := ResolvePath("", "linux", getenv); got != "/x/agent.yaml" {
		t.Fatalf("env: %s", got)
	}
	if got := ResolvePath("/flag.yaml", "linux", getenv); got != "/flag.yaml" {
		t.Fatalf("flag: %s", got)
	}
	env = map[string]string{"ProgramData": `D:\PD`}
	if got := DefaultPaths("windows", getenv).Config; !strings.Contains(got, "restic-manager") || !strings.HasSuffix(got, "agent.yaml") {
		t.Fatalf("windows: %s", got)
	}
}
