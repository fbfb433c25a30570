package restic

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

func TestClassify(t *testing.T) {
	const locked014 = "unable to create lock in backend: repository is already locked by PID 8412 on vm by root (UID 0, GID 0)"
	tests := []struct {
		name       string
		kind       string
		o          outcome
		wantStatus string
		wantError  string // substring; "" = empty
	}{
		{"ok", protocol.KindBackup, outcome{}, protocol.JobSucceeded, ""},
		{"exit 3", protocol.KindBackup, outcome{exitCode: 3, errorCount: 2}, protocol.JobWarning, "could not be read (2 errors)"},
		{"0.14 wrong password", protocol.KindSnapshots, outcome{exitCode: 1, errLines: []string{"Fatal: wrong password or no key found"}},
			protocol.JobFailed, "wrong repository password"},
		{"0.18 wrong password", protocol.KindSnapshots, outcome{exitCode: 12, exitError: "Fatal: wrong password or no key found"},
			protocol.JobFailed, "wrong repository password"},
		{"0.14 no repo", protocol.KindBackup, outcome{exitCode: 1, errLines: []string{
			"Fatal: unable to open config file: stat /r/config: no such file or directory", "Is there a repository at the following location?", "/r"}},
			protocol.JobFailed, "no repository at rest:https://h/r (not initialised?)"},
		{"0.18 no repo", protocol.KindBackup, outcome{exitCode: 10}, protocol.JobFailed, "no repository at"},
		{"0.14 locked", protocol.KindCheck, outcome{exitCode: 1, errLines: []string{
			"using temporary cache in /tmp/x", locked014, "lock was created at 2026-11-26 06:29:30 (2.684899551s ago)", "storage ID 41864850"}},
			protocol.JobFailed, "repository is locked by host vm (pid 8412) since 2026-11-26 06:29:30"},
		{"0.18 locked exclusively", protocol.KindBackup, outcome{exitCode: 11, exitError: "unable to create lock in backend: repository is already locked exclusively by PID 77 on web-1 by root (UID 0, GID 0)\nlock was created at 2026-11-26 06:29:35 (2s ago)"},
			protocol.JobFailed, "locked by host web-1 (pid 77) since 2026-11-26 06:29:35 (exclusive lock)"},
		{"0.18 lock, no details", protocol.KindBackup, outcome{exitCode: 11}, protocol.JobFailed, "locked by another restic process"},
		{"init twice", protocol.KindInit, outcome{exitCode: 1, errLines: []string{"Fatal: create repository at /r failed: config file already exists"}},
			protocol.JobFailed, "a repository already exists at"},
		{"interrupted", protocol.KindBackup, outcome{exitCode: 130}, protocol.JobCancelled, "interrupted"},
		{"cancelled", protocol.KindBackup, outcome{exitCode: 1, cancelled: true, ctxErr: context.Canceled}, protocol.JobCancelled, "cancelled"},
		{"timed out", protocol.KindBackup, outcome{exitCode: -1, cancelled: true, ctxErr: context.DeadlineExceeded}, protocol.JobCancelled, "timed out"},
		{"other fatal", protocol.KindBackup, outcome{exitCode: 1, errLines: []string{"some noise", "Fatal: all target directories/files do not exist"}},
			protocol.JobFailed, "all target directories/files do not exist"},
		{"0.18 other fatal", protocol.KindForget, outcome{exitCode: 1, exitError: "Fatal: no policy was specified, no snapshots will be removed"},
			protocol.JobFailed, "no policy was specified"},
		{"exit 3 outside backup", protocol.KindCheck, outcome{exitCode: 3}, protocol.JobFailed, "exit code 3"},
		{"crash", protocol.KindBackup, outcome{exitCode: 2, errLines: []string{"panic: boom"}}, protocol.JobFailed, "restic crashed: panic: boom"},
		{"killed", protocol.KindBackup, outcome{exitCode: -1}, protocol.JobFailed, "restic was killed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, text := classify(tt.kind, "rest:https://user:secret@h/r", &tt.o)
			if status != tt.wantStatus {
				t.Errorf("status = %q, want %q", status, tt.wantStatus)
			}
			if (tt.wantError == "") != (text == "") || !strings.Contains(text, tt.wantError) {
				t.Errorf("error = %q, want %q", text, tt.wantError)
			}
			if strings.Contains(text, "secret") || strings.Contains(text, "exit status") {
				t.Errorf("error %q leaks a credential or Go's exec message", text)
			}
		})
	}
}

type recorder struct {
	mu       sync.Mutex
	progress []protocol.Progress
	progAt   []time.Time
	logs     []string
}

func (r *recorder) Progress(p protocol.Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.progress = append(r.progress, p)
	r.progAt = append(r.progAt, time.Now())
}

func (r *recorder) Log(stream, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, stream+": "+text)
}

func (r *recorder) snapshot() ([]protocol.Progress, []time.Time, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]protocol.Progress(nil), r.progress...), append([]time.Time(nil), r.progAt...), append([]string(nil), r.logs...)
}

func TestSinkThrottle(t *testing.T) {
	rec := &recorder{}
	const interval = 100 * time.Millisecond
	s := newSink(rec, interval, []string{"hunter2"})
	for i := 1; i <= 50; i++ { // 50 updates over ~250ms
		s.progress(protocol.Progress{BytesDone: int64(i)})
		time.Sleep(5 * time.Millisecond)
	}
	s.close()
	s.progress(protocol.Progress{BytesDone: 999}) // after close: dropped
	got, at, _ := rec.snapshot()
	if len(got) < 2 || len(got) > 5 {
		t.Fatalf("%d progress events for 50 updates over ~250ms at one per %s", len(got), interval)
	}
	for i := 1; i < len(at)-1; i++ { // the final flush may come sooner

		if d := at[i].Sub(at[i-1]); d < interval-5*time.Millisecond {
			t.Errorf("events %d and %d only %s apart", i-1, i, d)
		}
	}
	if last := got[len(got)-1].BytesDone; last != 50 {
		t.Errorf("last progress = %d, want the last update (50)", last)
	}

	s.log("stderr", "Fatal: the password hunter2 is wrong")
	if _, _, logs := rec.snapshot(); logs[0] != "stderr: Fatal: the password [redacted] is wrong" {
		t.Errorf("log = %q", logs[0])
	}
}
