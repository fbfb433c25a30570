package restic

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// result turns an outcome into a Result with a classified status and error.
func (j *job) result(o *outcome) Result {
	status, text := classify(j.spec.Kind, j.spec.Repository.URL, o)
	return Result{Status: status, ExitCode: o.exitCode, Error: text}
}

// failParse reports restic output the runner could not read as a failed job.
func failParse(res Result, err error) Result {
	res.Status = protocol.JobFailed
	res.Error = fmt.Sprintf("could not read restic's output: %v", err)
	return res
}

// document returns the JSON document (the line starting with open, '[' or '{') of a
// collected stdout and logs any other line restic printed there.
func (j *job) document(o *outcome, open byte) []byte {
	var doc []byte
	for _, line := range bytes.Split(o.stdout, []byte("\n")) {
		trimmed := bytes.TrimSpace(line)
		switch {
		case len(trimmed) == 0:
		case doc == nil && trimmed[0] == open:
			doc = trimmed
		default:
			j.sink.log("stdout", cleanLine(string(trimmed)))
		}
	}
	return doc
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("restic: marshal summary: %v", err)) // only plain structs and maps
	}
	return b
}

// initRepo creates the repository. Summary: {"id": "<repository id>"} (0.14 prints a
// 10-hex prefix of the id, 0.15+ the whole id).
func (j *job) initRepo(ctx context.Context) (Result, error) {
	o, err := j.restic(ctx, false, initArgs(j.feat)...)
	if err != nil {
		return Result{}, err
	}
	res := j.result(o)
	if res.Status == protocol.JobSucceeded {
		id := o.initID
		for _, l := range o.outLines {
			if m := initTextRE.FindStringSubmatch(l); id == "" && m != nil {
				id = m[1]
			}
		}
		res.Summary = mustJSON(map[string]string{"id": id})
	}
	return res, nil
}

// backup runs one backup. Summary: restic's summary line as printed (0.14's
// snapshot_id is the 8-hex short id, 0.15+ the full id), also for exit 3.
func (j *job) backup(ctx context.Context) (Result, error) {
	o, err := j.restic(ctx, false, backupArgs(j.spec)...)
	if err != nil {
		return Result{}, err
	}
	res := j.result(o)
	res.Summary = o.summary
	return res, nil
}

// forget applies the retention policy, then prunes in a separate restic call when
// Options.Prune is set. Summary: forgetSummary, with "prune" holding prune's summary.
func (j *job) forget(ctx context.Context) (Result, error) {
	o, err := j.restic(ctx, true, forgetArgs(j.spec)...)
	if err != nil {
		return Result{}, err
	}
	res := j.result(o)
	if res.Status != protocol.JobSucceeded {
		return res, nil
	}
	sum, err := parseForget(j.document(o, '['))
	if err != nil {
		return failParse(res, err), nil
	}
	if sum.Removed > 0 {
		j.sink.note("forget: %d snapshots kept, %d removed: %s", sum.Kept, sum.Removed, strings.Join(shortIDs(sum.RemovedIDs), " "))
	} else {
		j.sink.note("forget: %d snapshots kept, none removed", sum.Kept)
	}
	res.Summary = mustJSON(sum)
	if !j.options().Prune {
		return res, nil
	}

	pruneRes, err := j.prune(ctx)
	if err != nil {
		return Result{}, err
	}
	sum.Prune = pruneRes.Summary
	res.Summary = mustJSON(sum)
	res.ExitCode = pruneRes.ExitCode
	if pruneRes.Status != protocol.JobSucceeded {
		res.Status = pruneRes.Status
		res.Error = fmt.Sprintf("forget removed %d snapshots, then prune did not complete: %s", sum.Removed, pruneRes.Error)
	}
	return res, nil
}

func shortIDs(ids []string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id[:min(8, len(id))]
	}
	return out
}

// prune removes unreferenced data. Summary: {"stats": {"to_repack": "…", "this_removes":
// "…", "total_prune": "…", "remaining": "…", …}} from prune's text output.
func (j *job) prune(ctx context.Context) (Result, error) {
	o, err := j.restic(ctx, false, pruneArgs(j.options())...)
	if err != nil {
		return Result{}, err
	}
	res := j.result(o)
	if res.Status == protocol.JobSucceeded {
		res.Summary = mustJSON(map[string]any{"stats": parsePruneStats(o.outLines)})
	}
	return res, nil
}

// checkSummary is the Summary of a check run, the same for every restic version.
type checkSummary struct {
	NumErrors          int      `json:"num_errors"`
	Errors             []string `json:"errors"`
	BrokenPacks        []string `json:"broken_packs,omitempty"`
	SuggestRepairIndex bool     `json:"suggest_repair_index"`
	SuggestPrune       bool     `json:"suggest_prune"`
	ReadDataSubset     string   `json:"read_data_subset,omitempty"`
}

// check verifies the repository (optionally reading a subset of the data). Summary:
// checkSummary, when check ran (not when it could not open or lock the repository).
func (j *job) check(ctx context.Context) (Result, error) {
	opts := j.options()
	o, err := j.restic(ctx, false, checkArgs(j.feat, opts)...)
	if err != nil {
		return Result{}, err
	}
	res := j.result(o)
	foundErrors := strings.Contains(o.diagnostic(), "repository contains errors")
	if res.Status != protocol.JobSucceeded && !foundErrors {
		return res, nil
	}
	sum := checkSummary{Errors: []string{}, ReadDataSubset: opts.ReadDataSubset}
	if j.feat.checkJSON && len(o.summary) > 0 {
		if err := json.Unmarshal(o.summary, &sum); err != nil {
			return failParse(res, err), nil
		}
		sum.Errors = append(sum.Errors, o.errors...)
	} else {
		// Before 0.18 check prints text: errors on stderr ("error for tree …:" with
		// indented details, "Pack ID does not match …"), advice on stdout.
		for _, l := range o.errLines {
			if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "Fatal:") {
				continue
			}
			sum.Errors = append(sum.Errors, l)
			if l[0] != ' ' && l[0] != '\t' {
				sum.NumErrors++
			}
		}
		all := strings.Join(append(o.outLines, o.errLines...), "\n")
		sum.SuggestPrune = strings.Contains(all, "restic prune")
		sum.SuggestRepairIndex = strings.Contains(all, "rebuild-index") || strings.Contains(all, "repair index")
	}
	res.Summary = mustJSON(sum)
	if foundErrors {
		res.Error = fmt.Sprintf("check found %d errors in the repository", max(sum.NumErrors, 1))
	}
	return res, nil
}

// unlock removes stale locks: locks older than 30 minutes, or whose process is gone on
// this host. Summary: {"removed_locks": N} (null when restic does not say, as in 0.14).
func (j *job) unlock(ctx context.Context) (Result, error) {
	o, err := j.restic(ctx, false, unlockArgs()...)
	if err != nil {
		return Result{}, err
	}
	res := j.result(o)
	if res.Status == protocol.JobSucceeded {
		var removed *int
		for _, l := range append(o.outLines, o.errLines...) {
			if m := unlockRE.FindStringSubmatch(l); m != nil && m[1] != "" {
				n, _ := strconv.Atoi(strings.TrimSpace(m[1]))
				removed = &n
			}
		}
		res.Summary = mustJSON(map[string]*int{"removed_locks": removed})
	}
	return res, nil
}

// snapshots lists the snapshots (of Options.Host only, when set). Summary: {"count": N}.
func (j *job) snapshots(ctx context.Context) (Result, error) {
	o, err := j.restic(ctx, true, snapshotsArgs(j.options())...)
	if err != nil {
		return Result{}, err
	}
	res := j.result(o)
	if res.Status != protocol.JobSucceeded {
		return res, nil
	}
	snaps, err := parseSnapshots(j.document(o, '['))
	if err != nil {
		return failParse(res, err), nil
	}
	j.sink.note("snapshots: %d", len(snaps))
	res.Snapshots = snaps
	res.Summary = mustJSON(map[string]int{"count": len(snaps)})
	return res, nil
}

// maxLocksDescribed bounds the `cat lock` calls of a stats run.
const maxLocksDescribed = 3

// stats samples the repository: stats raw-data (size on disk; compression from 0.15),
// stats restore-size, and the locks present. Summary: {"raw_data": …, "restore_size": …,
// "locks": N} with restic's two JSON documents.
func (j *job) stats(ctx context.Context) (Result, error) {
	raw, err := j.restic(ctx, true, statsArgs("raw-data")...)
	if err != nil {
		return Result{}, err
	}
	res := j.result(raw)
	if res.Status != protocol.JobSucceeded {
		return res, nil
	}
	rawDoc := j.document(raw, '{')
	rawStats, err := parseStats(rawDoc)
	if err != nil {
		return failParse(res, err), nil
	}
	rs, err := j.restic(ctx, true, statsArgs("restore-size")...)
	if err != nil {
		return Result{}, err
	}
	if res = j.result(rs); res.Status != protocol.JobSucceeded {
		return res, nil
	}
	restoreDoc := j.document(rs, '{')
	restoreStats, err := parseStats(restoreDoc)
	if err != nil {
		return failParse(res, err), nil
	}

	st := &protocol.RepoStats{
		At:                   time.Now().UTC(),
		TotalSize:            rawStats.TotalSize,
		TotalUncompressed:    rawStats.TotalUncompressedSize,
		TotalFileCount:       restoreStats.TotalFileCount,
		TotalBlobCount:       rawStats.TotalBlobCount,
		SnapshotsCount:       rawStats.SnapshotsCount,
		CompressionRatio:     rawStats.CompressionRatio,
		RestoreSize:          restoreStats.TotalSize,
		RestoreSizeFileCount: restoreStats.TotalFileCount,
	}
	locks, err := j.locks(ctx)
	if err != nil {
		j.sink.note("stats: locks not listed: %v", err)
	} else if len(locks) > 0 {
		st.Locked = true
		st.LockDescription = describeLocks(locks)
		j.sink.note("stats: repository is locked: %s", st.LockDescription)
	}
	res.Stats = st
	res.Summary = mustJSON(map[string]any{
		"raw_data":     json.RawMessage(rawDoc),
		"restore_size": json.RawMessage(restoreDoc),
		"locks":        len(locks),
	})
	return res, nil
}

// lockInfo is one lock of the repository; Lock is nil when its content was not read.
type lockInfo struct {
	ID   string
	Lock *lockJSON
}

// locks lists the repository's locks and reads the first few of them.
func (j *job) locks(ctx context.Context) ([]lockInfo, error) {
	o, err := j.restic(ctx, true, listLocksArgs()...)
	if err != nil {
		return nil, err
	}
	if status, text := classify(protocol.KindStats, j.spec.Repository.URL, o); status != protocol.JobSucceeded {
		return nil, fmt.Errorf("list locks: %s", text)
	}
	var infos []lockInfo
	for i, id := range parseLockIDs(strings.Split(string(o.stdout), "\n")) {
		info := lockInfo{ID: id}
		if i < maxLocksDescribed {
			if c, err := j.restic(ctx, true, catLockArgs(id)...); err == nil && c.exitCode == 0 {
				var l lockJSON
				if json.Unmarshal(c.stdout, &l) == nil {
					info.Lock = &l
				}
			}
		}
		infos = append(infos, info)
	}
	return infos, nil
}

func describeLocks(locks []lockInfo) string {
	parts := []string{fmt.Sprintf("%d lock(s)", len(locks))}
	for _, l := range locks {
		if l.Lock != nil {
			parts = append(parts, l.Lock.describe())
		}
	}
	return strings.Join(parts, "; ")
}
