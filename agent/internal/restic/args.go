package restic

import (
	"strconv"
	"strings"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// The argv of each restic command. Values are always joined to their flag with '=' so
// that a value beginning with '-' cannot be read as a flag, and paths follow "--".
// Nothing secret is ever part of an argv.

func initArgs(feat features) []string {
	if feat.initJSON {
		return []string{"init", "--json"}
	}
	return []string{"init"} // 0.14 ignores --json for init and prints text
}

func backupArgs(spec protocol.RunSpec) []string {
	a := []string{"backup", "--json"}
	if spec.Options != nil && spec.Options.Host != "" {
		a = append(a, "--host="+spec.Options.Host)
	}
	for _, t := range spec.Tags {
		a = append(a, "--tag="+t)
	}
	for _, e := range spec.Excludes {
		a = append(a, "--exclude="+e)
	}
	a = append(a, "--")
	return append(a, spec.Paths...)
}

// forgetArgs applies the retention policy. spec.Tags, when set, limits forget to the
// snapshots carrying all of them; Options.Host to the snapshots of that host. Never
// --prune: prune runs as its own restic call (forget --prune mixes JSON and text).
func forgetArgs(spec protocol.RunSpec) []string {
	a := []string{"forget", "--json"}
	r := spec.Retention
	for _, k := range []struct {
		flag string
		n    int
	}{
		{"--keep-last", r.KeepLast}, {"--keep-hourly", r.KeepHourly}, {"--keep-daily", r.KeepDaily},
		{"--keep-weekly", r.KeepWeekly}, {"--keep-monthly", r.KeepMonthly}, {"--keep-yearly", r.KeepYearly},
	} {
		if k.n > 0 {
			a = append(a, k.flag+"="+strconv.Itoa(k.n))
		}
	}
	if r.KeepWithin != "" {
		a = append(a, "--keep-within="+r.KeepWithin)
	}
	for _, t := range r.KeepTags {
		a = append(a, "--keep-tag="+t)
	}
	if spec.Options != nil && spec.Options.Host != "" {
		a = append(a, "--host="+spec.Options.Host)
	}
	if len(spec.Tags) > 0 {
		a = append(a, "--tag="+strings.Join(spec.Tags, ","))
	}
	return a
}

func pruneArgs(opts protocol.JobOptions) []string {
	if opts.MaxUnused != "" {
		return []string{"prune", "--max-unused=" + opts.MaxUnused}
	}
	return []string{"prune"}
}

func checkArgs(feat features, opts protocol.JobOptions) []string {
	a := []string{"check"}
	if feat.checkJSON {
		a = append(a, "--json")
	}
	if opts.ReadDataSubset != "" {
		a = append(a, "--read-data-subset="+opts.ReadDataSubset)
	}
	return a
}

// unlockArgs removes stale locks only (never --remove-all): locks of a live restic stay.
func unlockArgs() []string { return []string{"unlock"} }

func snapshotsArgs(opts protocol.JobOptions) []string {
	a := []string{"snapshots", "--json", "--no-lock"}
	if opts.Host != "" {
		a = append(a, "--host="+opts.Host)
	}
	return a
}

func statsArgs(mode string) []string {
	return []string{"stats", "--json", "--no-lock", "--mode=" + mode}
}

func listLocksArgs() []string { return []string{"list", "locks", "--no-lock"} }

func catLockArgs(id string) []string { return []string{"cat", "lock", "--no-lock", id} }
