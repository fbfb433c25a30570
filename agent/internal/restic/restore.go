package restic

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// restoreArgs builds `restic restore`: values joined to their flags, the snapshot after
// "--". restic writes only below the target.
func restoreArgs(feat features, r protocol.RestoreSpec) []string {
	a := []string{"restore"}
	if feat.restoreJSON {
		a = append(a, "--json")
	}
	a = append(a, "--target="+r.Target)
	for _, p := range r.Includes {
		a = append(a, "--include="+p)
	}
	for _, p := range r.Excludes {
		a = append(a, "--exclude="+p)
	}
	if feat.overwrite && r.Overwrite != "" {
		a = append(a, "--overwrite="+r.Overwrite)
	}
	return append(a, "--", r.Snapshot)
}

// restore restores files of a snapshot below Restore.Target ("/" is the original
// location). restic 0.16+ reports progress (restore --json); before that restore prints
// no progress, so the runner estimates it: the totals come from a listing of what is
// restored, the bytes done from what restic has written so far (/proc/PID/io on Linux).
// Summary: restic's summary line (0.16+), or {"total_files", "total_bytes",
// "estimated": true}.
func (j *job) restore(ctx context.Context) (Result, error) {
	rs := *j.spec.Restore
	if !j.feat.overwrite && rs.Overwrite != "" && rs.Overwrite != protocol.OverwriteAlways {
		return Result{Status: protocol.JobFailed, ExitCode: -1,
			Error: fmt.Sprintf("overwrite %q needs restic 0.17 or newer; restic on this host always overwrites (choose \"always\")", rs.Overwrite)}, nil
	}
	what := "everything"
	if len(rs.Includes) > 0 {
		what = strings.Join(rs.Includes, ", ")
	}
	j.sink.note("restore: %s of snapshot %s to %s (overwrite: %s)", what, short(rs.Snapshot), rs.Target, orDefault(rs.Overwrite, protocol.OverwriteAlways))
	args := restoreArgs(j.feat, rs)
	if j.feat.restoreJSON {
		o, err := j.restic(ctx, false, args...)
		if err != nil {
			return Result{}, err
		}
		res := j.result(o)
		res.Summary = o.summary
		if res.Status == protocol.JobSucceeded {
			// A quick restore prints no status line: the summary makes the last progress.
			var m message
			if len(o.summary) > 0 && json.Unmarshal(o.summary, &m) == nil {
				j.sink.progress(protocol.Progress{At: time.Now().UTC(), PercentDone: 1, FilesDone: m.FilesRestored,
					TotalFiles: m.TotalFiles, BytesDone: m.BytesRestored, TotalBytes: m.TotalBytes, SecondsElapsed: m.SecondsElapsed})
			}
		}
		return res, nil
	}

	files, size, err := j.restoreTotals(ctx, rs)
	if err != nil {
		j.sink.note("restore: progress will not be estimated: %v", err)
	} else {
		j.sink.note("restore: %d files, %d bytes to restore (progress is estimated: this restic prints none)", files, size)
	}
	est := &restoreEstimate{sink: j.sink, files: files, bytes: size, interval: j.r.ProgressInterval}
	o, err := j.exec(ctx, execOpts{started: est.start}, args...)
	if err != nil {
		return Result{}, err
	}
	est.stop(o.exitCode == 0 && !o.cancelled)
	res := j.result(o)
	res.Summary = mustJSON(map[string]any{"total_files": files, "total_bytes": size, "estimated": true})
	return res, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// restoreTotals counts the files and bytes a restore will write: the subtrees of the
// includes that are plain paths, or the whole snapshot (excludes are not subtracted: it
// is an estimate).
func (j *job) restoreTotals(ctx context.Context, rs protocol.RestoreSpec) (files, size int64, err error) {
	var paths []string
	for _, p := range rs.Includes {
		if strings.ContainsAny(p, "*?[") || !strings.HasPrefix(p, "/") {
			paths = nil // a pattern: count everything
			break
		}
		paths = append(paths, p)
	}
	b := &browser{j: j, spec: protocol.BrowseSpec{Snapshot: rs.Snapshot}}
	o, err := b.lsNodes(ctx, true, func(n nodeJSON) error {
		if n.Type == "file" {
			files++
			size += n.Size
		}
		return nil
	}, paths...)
	if err != nil {
		return 0, 0, err
	}
	if o.exitCode != 0 {
		return 0, 0, fmt.Errorf("ls exited with %d", o.exitCode)
	}
	return files, size, nil
}

// restoreEstimate turns what a restoring restic has written into progress.
type restoreEstimate struct {
	sink         *sink
	files, bytes int64
	interval     time.Duration

	mu      sync.Mutex
	started time.Time
	done    chan struct{}
	wg      sync.WaitGroup
}

func (e *restoreEstimate) start(pid int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.started = time.Now()
	e.done = make(chan struct{})
	interval := e.interval
	if interval <= 0 {
		interval = DefaultProgressInterval
	}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-e.done:
				return
			case <-t.C:
			}
			written, ok := writtenBytes(pid)
			if !ok {
				continue
			}
			e.sink.progress(e.progress(min(written, e.bytes), false))
		}
	}()
}

func (e *restoreEstimate) progress(done int64, finished bool) protocol.Progress {
	now := time.Now()
	elapsed := now.Sub(e.started)
	p := protocol.Progress{At: now.UTC(), BytesDone: done, TotalBytes: e.bytes, TotalFiles: e.files,
		SecondsElapsed: int64(elapsed.Seconds())}
	if e.bytes > 0 {
		p.PercentDone = min(float64(done)/float64(e.bytes), 0.99)
	}
	if secs := elapsed.Seconds(); secs > 0 {
		p.BytesPerSecond = float64(done) / secs
		if p.BytesPerSecond > 0 {
			p.SecondsRemaining = int64(float64(e.bytes-done) / p.BytesPerSecond)
		}
	}
	if finished {
		p.PercentDone, p.BytesDone, p.FilesDone, p.SecondsRemaining = 1, e.bytes, e.files, 0
	}
	return p
}

// stop ends the estimate; a successful restore reports 100 %.
func (e *restoreEstimate) stop(ok bool) {
	e.mu.Lock()
	if e.done != nil {
		close(e.done)
	}
	started := !e.started.IsZero()
	e.mu.Unlock()
	e.wg.Wait()
	if ok && started {
		e.sink.progress(e.progress(e.bytes, true))
	}
}

// writtenBytes reads how many bytes a process has written (wchar of /proc/PID/io):
// Linux only.
func writtenBytes(pid int) (int64, bool) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/io")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "wchar:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
