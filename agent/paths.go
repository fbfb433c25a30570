package main

import (
	"fmt"
	"io"
	"runtime"

	"github.com/restic-manager/restic-manager/agent/internal/config"
)

func defaultPaths(getenv func(string) string) config.Paths {
	return config.DefaultPaths(runtime.GOOS, getenv)
}

func configPath(flagValue string, getenv func(string) string) string {
	return config.ResolvePath(flagValue, runtime.GOOS, getenv)
}

func printUsage(w io.Writer, getenv func(string) string) {
	fmt.Fprintf(w, usage, serviceUsage, configPath("", getenv))
}
