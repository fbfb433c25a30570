package restic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	// maxCollectBytes bounds the stdout kept for commands whose output is one JSON
	// document (snapshots, forget, stats).
	maxCollectBytes = 256 << 20
	// tailLines is how many text lines per stream are kept for classification and parsing.
	tailLines = 200
	// maxErrorsKept is how many JSON error messages are kept for the summary.
	maxErrorsKept = 100
)

// lineWriter splits what restic writes into lines and hands each to fn, cutting lines
// longer than max (the rest of such a line is dropped, and cut is true).
type lineWriter struct {
	max int
	fn  func(line []byte, cut bool)
	buf []byte
	cut bool
}

func (w *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.add(p)
			break
		}
		w.add(p[:i])
		w.emit()
		p = p[i+1:]
	}
	return n, nil
}

func (w *lineWriter) add(b []byte) {
	if room := w.max - len(w.buf); len(b) > room {
		b = b[:max(room, 0)]
		w.cut = true
	}
	w.buf = append(w.buf, b...)
}

func (w *lineWriter) emit() {
	w.fn(bytes.TrimSuffix(w.buf, []byte("\r")), w.cut)
	w.buf, w.cut = w.buf[:0], false
}

// Close hands over a last line that had no newline.
func (w *lineWriter) Close() error {
	if len(w.buf) > 0 || w.cut {
		w.emit()
	}
	return nil
}

// capWriter keeps up to max bytes and drops the rest (so restic never blocks on a pipe).
type capWriter struct {
	max  int
	buf  bytes.Buffer
	over bool
}

func (w *capWriter) Write(p []byte) (int, error) {
	if room := w.max - w.buf.Len(); len(p) > room {
		w.buf.Write(p[:max(room, 0)])
		w.over = true
		return len(p), nil
	}
	return w.buf.Write(p)
}

// invocation gathers the output of one restic process.
type invocation struct {
	sink        *sink
	start       time.Time
	mu          sync.Mutex
	firstStatus time.Time
	o           outcome
}

// line handles one line of stdout or stderr: status lines become progress, the others
// are logged, and summaries, errors and exit errors are kept for the result.
func (inv *invocation) line(stream string, b []byte, cut bool) {
	if cut {
		inv.sink.note("the next %s line was longer than %d bytes and is cut", stream, maxLineBytes)
	} else if m, ok := parseMessage(b); ok {
		inv.message(stream, m, b)
		return
	}
	text := cleanLine(string(b))
	if strings.TrimSpace(text) == "" {
		return // restic's blank separator lines say nothing in a job log
	}
	inv.mu.Lock()
	if stream == "stdout" {
		inv.o.outLines = appendTail(inv.o.outLines, text)
	} else {
		inv.o.errLines = appendTail(inv.o.errLines, text)
	}
	inv.mu.Unlock()
	inv.sink.log(stream, text)
}

func (inv *invocation) message(stream string, m message, raw []byte) {
	switch m.Type {
	case "status":
		if !m.isProgress() {
			return // 0.14/0.15 scan_finished quirk: not progress, and noise in the log
		}
		now := time.Now()
		inv.mu.Lock()
		if inv.firstStatus.IsZero() {
			inv.firstStatus = now
		}
		elapsed := now.Sub(inv.firstStatus)
		inv.mu.Unlock()
		inv.sink.progress(toProgress(m, now, elapsed))
		return
	case "summary":
		inv.mu.Lock()
		inv.o.summary = bytes.Clone(bytes.TrimSpace(raw))
		inv.mu.Unlock()
	case "error":
		text := m.errorText()
		inv.mu.Lock()
		inv.o.errorCount++
		if len(inv.o.errors) < maxErrorsKept {
			inv.o.errors = append(inv.o.errors, text)
		}
		inv.mu.Unlock()
		inv.sink.log(stream, text)
		return
	case "exit_error":
		inv.mu.Lock()
		inv.o.exitError = m.Message
		inv.mu.Unlock()
		for i, l := range strings.Split(strings.TrimSpace(m.Message), "\n") {
			if i == 0 {
				l = fmt.Sprintf("fatal (exit code %d): %s", m.Code, l)
			}
			inv.sink.log(stream, l)
		}
		return
	case "initialized":
		inv.mu.Lock()
		inv.o.initID = m.ID
		inv.mu.Unlock()
	}
	inv.sink.log(stream, string(raw))
}

// cleanLine makes a line of terminal output fit for a log: what a carriage return
// overwrote is dropped, escape sequences (restic's "\x1b[2K") and other control
// characters are removed, invalid UTF-8 is replaced.
func cleanLine(s string) string {
	if i := strings.LastIndexByte(s, '\r'); i >= 0 && i < len(s)-1 {
		s = s[i+1:]
	}
	isControl := func(c byte) bool { return c < 0x20 && c != '\t' || c == 0x7f }
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x80 && isControl(byte(r)) }) >= 0 {
		var b strings.Builder
		for i := 0; i < len(s); i++ {
			switch c := s[i]; {
			case c == 0x1b && i+1 < len(s) && s[i+1] == '[': // CSI: parameters, then a final byte
				i += 2
				for i < len(s) && (s[i] < 0x40 || s[i] > 0x7e) {
					i++
				}
			case isControl(c):
			default:
				b.WriteByte(c)
			}
		}
		s = b.String()
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func appendTail(lines []string, l string) []string {
	if len(lines) >= tailLines {
		lines = append(lines[:0], lines[1:]...)
	}
	return append(lines, l)
}

// restic runs one restic command to its end. With collect, stdout is kept whole in
// outcome.stdout instead of being read line by line (and is not logged). The error
// return is for a restic that could not be started.
func (j *job) restic(ctx context.Context, collect bool, args ...string) (*outcome, error) {
	return j.exec(ctx, execOpts{collect: collect}, args...)
}

// execOpts change how exec treats one restic process.
type execOpts struct {
	// collect keeps stdout whole in outcome.stdout (see restic).
	collect bool
	// stdout, when set, receives stdout raw (not logged, not parsed); a write error
	// makes restic's stdout fail, which stops it.
	stdout io.Writer
	// started is called with the process id once restic runs.
	started func(pid int)
}

// exec runs one restic command to its end (see restic).
func (j *job) exec(ctx context.Context, opts execOpts, args ...string) (*outcome, error) {
	collect := opts.collect
	argv := j.globalArgs()
	argv = append(argv, args...)
	j.sink.note("run: restic %s", quoteArgs(argv))
	j.r.logger.DebugContext(ctx, "running restic", "job_id", j.spec.JobID, "args", argv)

	inv := &invocation{sink: j.sink, start: time.Now()}
	stdoutLines := &lineWriter{max: maxLineBytes, fn: func(b []byte, cut bool) { inv.line("stdout", b, cut) }}
	stderrLines := &lineWriter{max: maxLineBytes, fn: func(b []byte, cut bool) { inv.line("stderr", b, cut) }}
	collected := &capWriter{max: maxCollectBytes}

	cmd := exec.CommandContext(ctx, j.binary, argv...)
	cmd.Env = j.env
	cmd.Dir = j.r.Dir
	switch {
	case opts.stdout != nil:
		cmd.Stdout = opts.stdout
	case collect:
		cmd.Stdout = collected
	default:
		cmd.Stdout = stdoutLines
	}
	cmd.Stderr = stderrLines
	grace := j.r.gracePeriod()
	configureCmd(cmd)
	cmd.Cancel = func() error {
		j.sink.note("cancel requested: interrupting restic (pid %d); it is killed if still running after %s", cmd.Process.Pid, grace)
		return interrupt(cmd.Process)
	}
	cmd.WaitDelay = grace

	runErr := cmd.Start()
	if runErr == nil {
		if opts.started != nil {
			opts.started(cmd.Process.Pid)
		}
		runErr = cmd.Wait()
	}
	_ = stdoutLines.Close()
	_ = stderrLines.Close()
	j.sink.flush()

	inv.mu.Lock()
	defer inv.mu.Unlock()
	o := inv.o
	o.ctxErr = ctx.Err()
	if cmd.ProcessState == nil { // never started
		if ctx.Err() != nil {
			o.cancelled, o.exitCode = true, -1
			return &o, nil
		}
		return nil, fmt.Errorf("start restic: %w", runErr)
	}
	o.exitCode = cmd.ProcessState.ExitCode()
	if runErr != nil && !errors.Is(runErr, exec.ErrWaitDelay) {
		var exitErr *exec.ExitError
		if !errors.As(runErr, &exitErr) && ctx.Err() == nil {
			j.sink.note("waiting for restic: %v", runErr)
		}
	}
	// An interrupted restic exits 130 (before 0.17) or 1 (0.17+), or is killed (-1); a
	// restic that finished its work despite the cancel keeps its own result.
	o.cancelled = ctx.Err() != nil && o.exitCode != 0 && o.exitCode != 3
	if o.cancelled && o.exitCode < 0 {
		j.sink.note("restic did not stop within %s of the interrupt and was killed: it may have left a lock (run unlock)", grace)
	}
	if collect {
		o.stdout = collected.buf.Bytes()
		if collected.over {
			j.sink.note("restic printed more than %d bytes; the rest was dropped", maxCollectBytes)
		}
		if o.exitCode != 0 { // no document to read: what restic printed may explain why
			for i, l := range strings.SplitN(string(o.stdout), "\n", tailLines+1) {
				if l = cleanLine(l); strings.TrimSpace(l) != "" && i < tailLines {
					j.sink.log("stdout", l)
				}
			}
		}
	}
	j.r.logger.DebugContext(ctx, "restic exited", "job_id", j.spec.JobID, "command", args[0],
		"exit_code", o.exitCode, "took", time.Since(inv.start))
	return &o, nil
}

// globalArgs are the flags every restic call gets.
func (j *job) globalArgs() []string {
	if j.r.CacheDir != "" {
		return []string{"--cache-dir=" + j.r.CacheDir}
	}
	return nil
}

// quoteArgs renders argv for the log, quoting what a reader could misread.
func quoteArgs(argv []string) string {
	out := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\"'\\") {
			a = strconv.Quote(a)
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
