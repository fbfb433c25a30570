package config

import (
	"path/filepath"
)

// Paths are the platform defaults.
type Paths struct {
	Config   string
	StateDir string
	Restic   string
	LogFile  string // used only when running as a Windows service
}

// DefaultPaths returns the defaults for goos; getenv reads the environment.
func DefaultPaths(goos string, getenv func(string) string) Paths {
	if goos == "windows" {
		base := getenv("ProgramData")
		if base == "" {
			base = `C:\ProgramData`
		}
		dir := filepath.Join(base, "restic-manager")
		return Paths{
			Config:   filepath.Join(dir, "agent.yaml"),
			StateDir: filepath.Join(dir, "state"),
			Restic:   "restic.exe",
			LogFile:  filepath.Join(dir, "agent.log"),
		}
	}
	return Paths{
		Config:   "/etc/restic-manager/agent.yaml",
		StateDir: "/var/lib/restic-manager-agent",
		Restic:   "/usr/bin/restic",
	}
}

// ResolvePath picks the config path: the flag, else $RM_AGENT_CONFIG, else the default.
func ResolvePath(flagValue string, goos string, getenv func(string) string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := getenv(EnvConfigPath); v != "" {
		return v
	}
	return DefaultPaths(goos, getenv).Config
}
