package restic

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"path"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// BrowseOutput receives what a browse operation produces. Browse calls it from one
// goroutine at a time; an error it returns stops restic and fails the operation.
type BrowseOutput interface {
	// Dir receives a part of a directory (ls, index), in restic's order.
	Dir(part protocol.BrowseDirPart) error
	// Start says what a dump sends (a file's bytes, or a directory's archive); Write
	// receives the bytes.
	Start(st protocol.DownloadStart) error
	io.Writer
}

// ErrTooLarge is what a dump's writer returns past BrowseSpec.MaxBytes.
var ErrTooLarge = errors.New("the download is larger than the server's limit")

// Browse runs one browse operation (ls, index, find, diff, dump) with --no-lock: it only
// reads the repository, never blocks a backup and is never blocked by one. Its outcome is
// the finish report; the error return is for setup problems only (invalid spec, no
// restic binary). Cancelling ctx interrupts restic.
func (r *Runner) Browse(ctx context.Context, spec protocol.BrowseSpec, out BrowseOutput) (protocol.BrowseFinish, error) {
	if err := ValidateBrowseSpec(spec); err != nil {
		return protocol.BrowseFinish{}, fmt.Errorf("restic: invalid browse spec: %w", err)
	}
	if ctx.Err() != nil {
		return protocol.BrowseFinish{Status: protocol.BrowseCancelled, ExitCode: -1, Error: "cancelled before restic started"}, nil
	}
	v, bin, err := r.probe(ctx)
	if err != nil {
		return protocol.BrowseFinish{}, fmt.Errorf("restic: %w", err)
	}
	ev := &browseLog{}
	j := r.newJob(protocol.RunSpec{JobID: spec.RequestID, Kind: "browse " + spec.Kind, Repository: spec.Repository}, v, bin, ev)
	defer j.sink.close()
	b := &browser{j: j, spec: spec, out: out}
	if b.spec.ChunkEntries <= 0 {
		b.spec.ChunkEntries = defaultChunkSize
	}
	if b.spec.MaxResults <= 0 {
		b.spec.MaxResults = defaultMaxResult
	}
	started := time.Now()
	var fin protocol.BrowseFinish
	switch spec.Kind {
	case protocol.BrowseLs:
		fin, err = b.ls(ctx)
	case protocol.BrowseIndex:
		fin, err = b.index(ctx)
	case protocol.BrowseFind:
		fin, err = b.find(ctx)
	case protocol.BrowseDiff:
		fin, err = b.diff(ctx)
	case protocol.BrowseDump:
		fin, err = b.dump(ctx)
	}
	if err != nil {
		return protocol.BrowseFinish{}, fmt.Errorf("restic %s: %w", spec.Kind, err)
	}
	fin.Error = j.sink.redact(fin.Error)
	if fin.Status == protocol.BrowseFailed && fin.ErrorCode == "" {
		fin.ErrorCode = protocol.BrowseErrRestic
	}
	r.logger.LogAttrs(ctx, slog.LevelInfo, "restic browse finished",
		slog.String("request_id", spec.RequestID), slog.String("kind", spec.Kind),
		slog.String("status", fin.Status), slog.String("error", fin.Error),
		slog.Duration("took", time.Since(started)), slog.String("log", ev.tail()))
	return fin, nil
}

// browseLog keeps the last lines of a browse operation's log for the agent's own log.
type browseLog struct{ lines []string }

func (l *browseLog) Progress(protocol.Progress) {}
func (l *browseLog) Log(stream, text string)    { l.lines = appendTail(l.lines, stream+": "+text) }
func (l *browseLog) tail() string {
	n := len(l.lines)
	if n > 6 {
		n = 6
	}
	return fmt.Sprint(l.lines[len(l.lines)-n:])
}

type browser struct {
	j    *job
	spec protocol.BrowseSpec
	out  BrowseOutput
}

// fail turns a restic outcome into a finish report.
func (b *browser) fail(o *outcome) protocol.BrowseFinish {
	res := b.j.result(o)
	fin := protocol.BrowseFinish{Status: protocol.BrowseFailed, ExitCode: res.ExitCode, Error: res.Error}
	switch res.Status {
	case protocol.JobCancelled:
		fin.Status = protocol.BrowseCancelled
	case protocol.JobSucceeded:
		fin.Status = protocol.BrowseSucceeded
	}
	return fin
}

// nodeJSON is one line of `ls --json` (struct_type "node"; the first line is the
// snapshot) and one match of `find --json`.
type nodeJSON struct {
	StructType  string    `json:"struct_type"`
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Path        string    `json:"path"`
	UID         uint32    `json:"uid"`
	GID         uint32    `json:"gid"`
	Size        int64     `json:"size"`
	Mode        uint32    `json:"mode"`
	Permissions string    `json:"permissions"`
	MTime       time.Time `json:"mtime"`
}

func (n nodeJSON) entry() protocol.BrowseEntry {
	name := n.Name
	if name == "" {
		name = path.Base(n.Path)
	}
	e := protocol.BrowseEntry{Name: name, Type: n.Type, Mode: n.Mode, Permissions: n.Permissions,
		MTime: n.MTime.UTC(), UID: n.UID, GID: n.GID}
	if n.Type == "file" {
		e.Size = n.Size
	}
	return e
}

// lsNodes runs `ls --json` and hands every node to fn as it streams. Lines that are not
// nodes (the snapshot line, text) are skipped.
func (b *browser) lsNodes(ctx context.Context, recursive bool, fn func(n nodeJSON) error, paths ...string) (*outcome, error) {
	args := []string{"ls", "--json", "--no-lock"}
	if recursive {
		args = append(args, "--recursive")
	}
	args = append(args, "--", b.spec.Snapshot)
	args = append(args, paths...)
	return b.stream(ctx, args, func(r io.Reader) error {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), maxLineBytes)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 || line[0] != '{' {
				continue
			}
			var n nodeJSON
			if err := json.Unmarshal(line, &n); err != nil {
				return fmt.Errorf("parse ls --json: %w", err)
			}
			if n.StructType != "node" {
				continue
			}
			if err := fn(n); err != nil {
				return err
			}
		}
		return sc.Err()
	})
}

// stream runs restic with its stdout read by consume as it comes. A consume error stops
// restic (its stdout is closed) and is returned as the second value; what consume left
// unread is drained.
func (b *browser) stream(ctx context.Context, args []string, consume func(r io.Reader) error) (*outcome, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pr, pw := io.Pipe()
	errc := make(chan error, 1)
	go func() {
		err := consume(pr)
		if err != nil {
			cancel()
			pr.CloseWithError(err)
		} else {
			_, _ = io.Copy(io.Discard, pr)
		}
		errc <- err
	}()
	o, err := b.j.exec(ctx, execOpts{stdout: pw}, args...)
	pw.Close()
	consumeErr := <-errc
	if err != nil {
		return nil, err
	}
	if consumeErr != nil {
		return o, consumeErr
	}
	return o, nil
}

// dirBuilder cuts one directory's entries into parts of ChunkEntries.
type dirBuilder struct {
	path    string
	offset  int64
	entries []protocol.BrowseEntry
}

func (b *browser) add(d *dirBuilder, e protocol.BrowseEntry, sent *protocol.BrowseFinish) error {
	d.entries = append(d.entries, e)
	sent.Entries++
	if len(d.entries) >= b.spec.ChunkEntries {
		part := protocol.BrowseDirPart{Path: d.path, Offset: d.offset, Entries: d.entries}
		d.offset += int64(len(d.entries))
		d.entries = nil
		return b.out.Dir(part)
	}
	return nil
}

func (b *browser) complete(d *dirBuilder, sent *protocol.BrowseFinish) error {
	part := protocol.BrowseDirPart{Path: d.path, Offset: d.offset, Entries: d.entries, Last: true,
		Total: d.offset + int64(len(d.entries))}
	if part.Entries == nil {
		part.Entries = []protocol.BrowseEntry{}
	}
	sent.Dirs++
	return b.out.Dir(part)
}

// ls lists one directory: its direct children, in parts. A path that is not in the
// snapshot fails with not_found, a path that is no directory with not_directory.
func (b *browser) ls(ctx context.Context) (protocol.BrowseFinish, error) {
	dir := b.spec.Path
	d := &dirBuilder{path: dir}
	var fin protocol.BrowseFinish
	selfType := ""
	if dir == "/" {
		selfType = "dir"
	}
	o, err := b.lsNodes(ctx, false, func(n nodeJSON) error {
		switch {
		case n.Path == dir:
			selfType = n.Type
		case path.Dir(n.Path) == dir:
			return b.add(d, n.entry(), &fin)
		}
		return nil
	}, dir)
	if o == nil {
		return fin, err
	}
	if err != nil {
		return b.outputFailed(ctx, o, err), nil
	}
	if o.exitCode != 0 || o.cancelled {
		return b.fail(o), nil
	}
	switch selfType {
	case "":
		return protocol.BrowseFinish{Status: protocol.BrowseFailed, ErrorCode: protocol.BrowseErrNotFound,
			Error: fmt.Sprintf("%s is not in snapshot %s", dir, short(b.spec.Snapshot))}, nil
	case "dir":
	default:
		return protocol.BrowseFinish{Status: protocol.BrowseFailed, ErrorCode: protocol.BrowseErrNotDir,
			Error: fmt.Sprintf("%s is a %s, not a directory", dir, selfType)}, nil
	}
	if err := b.complete(d, &fin); err != nil {
		return b.outputFailed(ctx, o, err), nil
	}
	fin.Status = protocol.BrowseSucceeded
	return fin, nil
}

// index lists the whole tree (ls --recursive streams it depth first: a directory's node
// comes just before its children) and sends every directory, the root "/" included, so
// that the server can browse and search the snapshot without running restic again.
func (b *browser) index(ctx context.Context) (protocol.BrowseFinish, error) {
	var fin protocol.BrowseFinish
	stack := []*dirBuilder{{path: "/"}}
	o, err := b.lsNodes(ctx, true, func(n nodeJSON) error {
		parent := path.Dir(n.Path)
		for len(stack) > 0 && stack[len(stack)-1].path != parent {
			if err := b.complete(stack[len(stack)-1], &fin); err != nil {
				return err
			}
			stack = stack[:len(stack)-1]
		}
		if len(stack) == 0 {
			return fmt.Errorf("ls --recursive: %s came after its directory was complete", n.Path)
		}
		if err := b.add(stack[len(stack)-1], n.entry(), &fin); err != nil {
			return err
		}
		if n.Type == "dir" {
			stack = append(stack, &dirBuilder{path: n.Path})
		}
		return nil
	})
	if o == nil {
		return fin, err
	}
	if err != nil {
		return b.outputFailed(ctx, o, err), nil
	}
	if o.exitCode != 0 || o.cancelled {
		return b.fail(o), nil
	}
	for i := len(stack) - 1; i >= 0; i-- {
		if err := b.complete(stack[i], &fin); err != nil {
			return b.outputFailed(ctx, o, err), nil
		}
	}
	fin.Status = protocol.BrowseSucceeded
	return fin, nil
}

// outputFailed reports a failure to read restic's output or to hand it on (or the
// cancellation of the operation, which makes both fail).
func (b *browser) outputFailed(ctx context.Context, o *outcome, err error) protocol.BrowseFinish {
	if ctx.Err() != nil {
		return protocol.BrowseFinish{Status: protocol.BrowseCancelled, ExitCode: o.exitCode, Error: "cancelled: restic was interrupted"}
	}
	fin := protocol.BrowseFinish{Status: protocol.BrowseFailed, ExitCode: o.exitCode, Error: err.Error()}
	if errors.Is(err, ErrTooLarge) {
		fin.ErrorCode = protocol.BrowseErrTooLarge
	}
	return fin
}

// find runs `find --json` over one snapshot or all of them. restic prints one JSON array
// of {matches, hits, snapshot}; it is decoded as it streams and at most MaxResults
// matches are kept.
func (b *browser) find(ctx context.Context) (protocol.BrowseFinish, error) {
	args := []string{"find", "--json", "--no-lock"}
	if b.spec.Snapshot != "" {
		args = append(args, "--snapshot="+b.spec.Snapshot)
	}
	args = append(args, "--")
	args = append(args, b.spec.Patterns...)
	res := &protocol.FindResult{Matches: []protocol.BrowseMatch{}}
	o, err := b.stream(ctx, args, func(r io.Reader) error { return decodeFind(r, b.spec.MaxResults, res) })
	if o == nil {
		return protocol.BrowseFinish{}, err
	}
	if err != nil {
		return b.outputFailed(ctx, o, err), nil
	}
	if o.exitCode != 0 || o.cancelled {
		return b.fail(o), nil
	}
	return protocol.BrowseFinish{Status: protocol.BrowseSucceeded, Find: res}, nil
}

// decodeFind reads find's array: [{"matches":[node…],"hits":N,"snapshot":"id"}, …].
func decodeFind(r io.Reader, max int, res *protocol.FindResult) error {
	br := bufio.NewReader(r)
	// Text lines restic may print before the document are skipped.
	for {
		c, err := br.Peek(1)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if c[0] == '[' {
			break
		}
		if _, err := br.ReadBytes('\n'); err != nil {
			return nil
		}
	}
	dec := json.NewDecoder(br)
	expect := func(want json.Delim) error {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("parse find --json: %w", err)
		}
		if d, ok := t.(json.Delim); !ok || d != want {
			return fmt.Errorf("parse find --json: want %q, got %v", want, t)
		}
		return nil
	}
	if err := expect('['); err != nil {
		return err
	}
	for dec.More() {
		if err := expect('{'); err != nil {
			return err
		}
		var snap string
		var matches []protocol.BrowseMatch
		hits := 0
		for dec.More() {
			t, err := dec.Token()
			if err != nil {
				return fmt.Errorf("parse find --json: %w", err)
			}
			switch t {
			case "matches":
				if err := expect('['); err != nil {
					return err
				}
				for dec.More() {
					var n nodeJSON
					if err := dec.Decode(&n); err != nil {
						return fmt.Errorf("parse find --json: %w", err)
					}
					hits++
					if len(res.Matches)+len(matches) < max {
						matches = append(matches, protocol.BrowseMatch{Path: n.Path, BrowseEntry: n.entry()})
					}
				}
				if err := expect(']'); err != nil {
					return err
				}
			case "snapshot":
				if err := dec.Decode(&snap); err != nil {
					return fmt.Errorf("parse find --json: %w", err)
				}
			default:
				var skip json.RawMessage
				if err := dec.Decode(&skip); err != nil {
					return fmt.Errorf("parse find --json: %w", err)
				}
			}
		}
		if err := expect('}'); err != nil {
			return err
		}
		for i := range matches {
			matches[i].Snapshot = snap
		}
		res.Matches = append(res.Matches, matches...)
		res.Total += int64(hits)
		if hits > 0 {
			res.Snapshots++
		}
	}
	res.Truncated = res.Total > int64(len(res.Matches))
	return expect(']')
}

// diff runs `diff --json A B`: change lines, then one statistics line.
func (b *browser) diff(ctx context.Context) (protocol.BrowseFinish, error) {
	res := &protocol.DiffResult{Changes: []protocol.DiffChange{}}
	args := []string{"diff", "--json", "--no-lock", "--", b.spec.Snapshot, b.spec.Snapshot2}
	o, err := b.stream(ctx, args, func(r io.Reader) error {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), maxLineBytes)
		for sc.Scan() {
			line := bytes.TrimSpace(sc.Bytes())
			if len(line) == 0 || line[0] != '{' {
				continue
			}
			var m struct {
				Type     string `json:"message_type"`
				Path     string `json:"path"`
				Modifier string `json:"modifier"`
			}
			if err := json.Unmarshal(line, &m); err != nil {
				return fmt.Errorf("parse diff --json: %w", err)
			}
			switch m.Type {
			case "change":
				res.Total++
				if len(res.Changes) < b.spec.MaxResults {
					res.Changes = append(res.Changes, protocol.DiffChange{Path: m.Path, Modifier: m.Modifier})
				}
			case "statistics":
				res.Stats = bytes.Clone(line)
			}
		}
		return sc.Err()
	})
	if o == nil {
		return protocol.BrowseFinish{}, err
	}
	if err != nil {
		return b.outputFailed(ctx, o, err), nil
	}
	if o.exitCode != 0 || o.cancelled {
		return b.fail(o), nil
	}
	res.Truncated = res.Total > int64(len(res.Changes))
	return protocol.BrowseFinish{Status: protocol.BrowseSucceeded, Diff: res}, nil
}

// dump sends a file's bytes, or a directory as a tar (zip) archive. It first lists the
// path to learn what it is (and a file's size, checked against MaxBytes before any byte
// is sent), then streams `restic dump` to the output, counting and hashing.
func (b *browser) dump(ctx context.Context) (protocol.BrowseFinish, error) {
	p := b.spec.Path
	var self *nodeJSON
	if p == "/" {
		self = &nodeJSON{Type: "dir", Path: "/"}
	} else {
		o, err := b.lsNodes(ctx, false, func(n nodeJSON) error {
			if n.Path == p && self == nil {
				self = &n
			}
			return nil
		}, p)
		if o == nil {
			return protocol.BrowseFinish{}, err
		}
		if err != nil {
			return b.outputFailed(ctx, o, err), nil
		}
		if o.exitCode != 0 || o.cancelled {
			return b.fail(o), nil
		}
	}
	switch {
	case self == nil:
		return protocol.BrowseFinish{Status: protocol.BrowseFailed, ErrorCode: protocol.BrowseErrNotFound,
			Error: fmt.Sprintf("%s is not in snapshot %s", p, short(b.spec.Snapshot))}, nil
	case self.Type != "file" && self.Type != "dir":
		return protocol.BrowseFinish{Status: protocol.BrowseFailed, ErrorCode: protocol.BrowseErrNotFound,
			Error: fmt.Sprintf("%s is a %s: only files and directories can be downloaded", p, self.Type)}, nil
	case self.Type == "file" && b.spec.MaxBytes > 0 && self.Size > b.spec.MaxBytes:
		return protocol.BrowseFinish{Status: protocol.BrowseFailed, ErrorCode: protocol.BrowseErrTooLarge,
			Error: fmt.Sprintf("%s has %d bytes, more than the limit of %d", p, self.Size, b.spec.MaxBytes)}, nil
	}
	st := protocol.DownloadStart{Type: self.Type}
	if self.Type == "file" {
		st.Size = self.Size
	}
	if err := b.out.Start(st); err != nil {
		return protocol.BrowseFinish{Status: protocol.BrowseFailed, ExitCode: -1, Error: err.Error()}, nil
	}
	args := []string{"dump", "--no-lock"}
	if self.Type == "dir" && b.spec.Archive == protocol.ArchiveZip {
		args = append(args, "--archive=zip")
	}
	args = append(args, "--", b.spec.Snapshot, p)
	cw := &countingWriter{w: b.out, h: sha256.New(), max: b.spec.MaxBytes}
	o, err := b.j.exec(ctx, execOpts{stdout: cw}, args...)
	if err != nil {
		return protocol.BrowseFinish{}, err
	}
	if cw.err != nil {
		return b.outputFailed(ctx, o, cw.err), nil
	}
	if o.exitCode != 0 || o.cancelled {
		return b.fail(o), nil
	}
	return protocol.BrowseFinish{Status: protocol.BrowseSucceeded, Size: cw.n, SHA256: hex.EncodeToString(cw.h.Sum(nil))}, nil
}

// countingWriter counts, hashes and limits what restic dumps.
type countingWriter struct {
	w   io.Writer
	h   hash.Hash
	n   int64
	max int64
	err error
}

func (c *countingWriter) Write(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.max > 0 && c.n+int64(len(p)) > c.max {
		c.err = ErrTooLarge
		return 0, c.err
	}
	n, err := c.w.Write(p)
	_, _ = c.h.Write(p[:n])
	c.n += int64(n)
	if err != nil {
		c.err = err
	}
	return n, err
}

func short(id string) string { return id[:min(8, len(id))] }
