package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/restic-manager/restic-manager/agent/internal/config"
	"github.com/restic-manager/restic-manager/agent/internal/state"
)

// staleAfter is how old a status file may be before the service is presumed down.
const staleAfter = 30 * time.Second

func cmdStatus(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgFlag := fs.String("config", "", "config file (default "+configPath("", getenv)+")")
	asJSON := fs.Bool("json", false, "print the status file as JSON")
	if err := fs.Parse(args); err != nil {
		return exitUsage
	}
	path := configPath(*cfgFlag, getenv)
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintf(stderr, "agent status: %v\n", err)
		return exitConfig
	}
	st, ok, err := state.ReadStatus(cfg.StateDir)
	if err != nil {
		fmt.Fprintf(stderr, "agent status: %v\n", err)
		return exitError
	}
	if !ok {
		fmt.Fprintf(stdout, "The agent has not run yet (no status file in %s).\n", cfg.StateDir)
		return 3
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(st)
		return exitOK
	}
	now := time.Now()
	printStatus(stdout, st, now)
	// Like an init script's status: 0 while the service runs, 3 when it does not.
	running := st.State == state.StateOnline || st.State == state.StateOffline ||
		st.State == state.StateConnecting || st.State == state.StateStarting
	if !running || now.Sub(st.UpdatedAt) > staleAfter {
		return 3
	}
	return exitOK
}

func ago(now, t time.Time) string {
	d := now.Sub(t).Round(time.Second)
	if d < 0 {
		d = 0
	}
	return d.String() + " ago"
}

func printStatus(w io.Writer, st *state.Status, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	stateText := st.State
	if st.State != state.StateStopped && now.Sub(st.UpdatedAt) > staleAfter {
		stateText = fmt.Sprintf("not running? (last status %s, was %s)", ago(now, st.UpdatedAt), st.State)
	}
	fmt.Fprintf(tw, "State:\t%s\n", stateText)
	fmt.Fprintf(tw, "Agent:\t%s (pid %d, started %s)\n", st.AgentVersion, st.PID, st.StartedAt.Local().Format(time.DateTime))
	fmt.Fprintf(tw, "Server:\t%s (host %s)\n", st.ServerURL, st.HostID)
	if st.LastContact != nil {
		fmt.Fprintf(tw, "Last contact:\t%s (%s)\n", st.LastContact.Local().Format(time.DateTime), ago(now, *st.LastContact))
	} else {
		fmt.Fprintf(tw, "Last contact:\tnever\n")
	}
	if st.LastError != "" && st.LastErrorAt != nil {
		fmt.Fprintf(tw, "Last error:\t%s (%s)\n", st.LastError, ago(now, *st.LastErrorAt))
	}
	if st.ResticVersion != "" {
		fmt.Fprintf(tw, "Restic:\t%s\n", st.ResticVersion)
	}
	fmt.Fprintf(tw, "Spool:\t%d report(s) waiting (%d bytes)\n", st.SpoolEntries, st.SpoolBytes)
	if len(st.Running) == 0 {
		fmt.Fprintf(tw, "Running:\tnothing\n")
	}
	for _, j := range st.Running {
		line := fmt.Sprintf("%s of %s (job %s)", j.Kind, j.Repository, j.JobID)
		if j.StartedAt != nil {
			line += ", started " + ago(now, *j.StartedAt)
		}
		if j.LastProgress != nil {
			line += fmt.Sprintf(", %.0f%% done", j.PercentDone*100)
		}
		if j.Offline {
			line += ", offline run"
		}
		fmt.Fprintf(tw, "Running:\t%s\n", line)
	}
	for _, j := range st.Queued {
		fmt.Fprintf(tw, "Queued:\t%s of %s (job %s), since %s\n", j.Kind, j.Repository, j.JobID, ago(now, j.QueuedAt))
	}
	fmt.Fprintf(tw, "Schedules:\tset version %d, %d active\n", st.ScheduleVersion, len(st.Schedules))
	_ = tw.Flush()
	if len(st.Schedules) > 0 {
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tKIND\tCRON\tNEXT RUN\tLAST FIRE")
		for _, s := range st.Schedules {
			next, last := "-", "-"
			if s.NextRun != nil {
				next = s.NextRun.Local().Format(time.DateTime)
			}
			if s.LastFire != nil {
				last = s.LastFire.Local().Format(time.DateTime)
			}
			cron := s.Cron
			if s.Timezone != "" {
				cron += " (" + s.Timezone + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", strings.TrimSpace(s.Name), s.Kind, cron, next, last)
		}
		_ = tw.Flush()
	}
}
