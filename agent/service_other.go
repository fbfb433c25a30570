//go:build !windows

package main

import "io"

const serviceUsage = ""

const startHint = "Start the service: systemctl enable --now restic-manager-agent"

// runService is a no-op outside Windows.
func runService([]string) (int, bool) { return 0, false }

// serviceCommand handles no extra commands outside Windows.
func serviceCommand([]string, func(string) string, io.Writer, io.Writer) (int, bool) { return 0, false }
