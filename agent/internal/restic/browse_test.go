package restic

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// browseOut collects what Browse produces.
type browseOut struct {
	mu      sync.Mutex
	parts   []protocol.BrowseDirPart
	start   *protocol.DownloadStart
	data    bytes.Buffer
	failDir error
}

func (o *browseOut) Dir(p protocol.BrowseDirPart) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.parts = append(o.parts, p)
	return o.failDir
}

func (o *browseOut) Start(st protocol.DownloadStart) error { o.start = &st; return nil }
func (o *browseOut) Write(p []byte) (int, error)           { return o.data.Write(p) }

// dirs reassembles the parts per directory and checks their offsets and totals.
func (o *browseOut) dirs(t *testing.T) map[string][]protocol.BrowseEntry {
	t.Helper()
	out := map[string][]protocol.BrowseEntry{}
	done := map[string]bool{}
	for _, p := range o.parts {
		if done[p.Path] {
			t.Fatalf("part of %s after its last part", p.Path)
		}
		if int64(len(out[p.Path])) != p.Offset {
			t.Fatalf("part of %s at offset %d, have %d entries", p.Path, p.Offset, len(out[p.Path]))
		}
		out[p.Path] = append(out[p.Path], p.Entries...)
		if p.Last {
			done[p.Path] = true
			if p.Total != int64(len(out[p.Path])) {
				t.Fatalf("%s: total %d, %d entries", p.Path, p.Total, len(out[p.Path]))
			}
		}
	}
	for d := range out {
		if !done[d] {
			t.Fatalf("%s never completed", d)
		}
	}
	return out
}

func names(es []protocol.BrowseEntry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Name)
	}
	return out
}

func (h *harness) browse(spec protocol.BrowseSpec, out *browseOut) protocol.BrowseFinish {
	h.t.Helper()
	spec.Repository = protocol.Repository{ID: "r", URL: spec.Repository.URL, Password: h.password}
	if spec.RequestID == "" {
		spec.RequestID = "req-" + spec.Kind
	}
	fin, err := h.runner.Browse(context.Background(), spec, out)
	if err != nil {
		h.t.Fatalf("Browse(%s): %v", spec.Kind, err)
	}
	if strings.Contains(fin.Error, h.password) {
		h.t.Error("password in a browse error")
	}
	return fin
}

func (h *harness) snapshotIDs(repo string) []string {
	h.t.Helper()
	res, _ := h.mustRun(h.spec(protocol.KindSnapshots, repo), protocol.JobSucceeded)
	var ids []string
	for _, s := range res.Snapshots {
		ids = append(ids, s.ID)
	}
	return ids
}

// TestBrowseRealRestic: ls, index, find, diff, dump and restore with the real restic
// 0.14 and 0.18.
func TestBrowseRealRestic(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the real restic")
	}
	if runtime.GOOS == "windows" {
		t.Skip("the real-restic tests use a shell wrapper and Linux paths")
	}
	for _, b := range resticBinaries(t) {
		t.Run(b.name, func(t *testing.T) {
			if b.path == "" {
				t.Skip(b.missing)
			}
			t.Parallel()
			testBrowse(t, b)
		})
	}
}

func testBrowse(t *testing.T, b resticBinary) {
	// A small tree of its own: nested dirs, a directory of 2500 entries (three parts of
	// 1000), a file named like a flag.
	root := t.TempDir()
	data := filepath.Join(root, "data")
	for _, d := range []string{"a/b/c", "many", "-x"} {
		if err := os.MkdirAll(filepath.Join(data, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(rel, content string) {
		if err := os.WriteFile(filepath.Join(data, rel), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/top.txt", "top")
	write("a/b/mid.txt", "middle")
	write("a/b/c/deep.txt", strings.Repeat("deep ", 1000))
	write("-x/--help", "not a flag")
	for i := range 2500 {
		write(fmt.Sprintf("many/m%04d", i), "")
	}
	h := newHarness(t, b.path, testTree{root: root})
	repo := h.initRepo()
	backup := h.spec(protocol.KindBackup, repo)
	backup.Paths = []string{data}
	h.mustRun(backup, protocol.JobSucceeded)
	write("a/b/mid.txt", "changed")
	write("a/new.txt", "new")
	if err := os.Remove(filepath.Join(data, "a/top.txt")); err != nil {
		t.Fatal(err)
	}
	h.mustRun(backup, protocol.JobSucceeded)
	ids := h.snapshotIDs(repo)
	if len(ids) != 2 {
		t.Fatalf("snapshots %v", ids)
	}
	first, second := ids[0], ids[1]
	base := protocol.BrowseSpec{Repository: protocol.Repository{URL: repo}, Snapshot: second}

	t.Run("ls", func(t *testing.T) {
		out := &browseOut{}
		spec := base
		spec.Kind, spec.Path = protocol.BrowseLs, filepath.Join(data, "a")
		fin := h.browse(spec, out)
		if fin.Status != protocol.BrowseSucceeded || fin.Dirs != 1 || fin.Entries != 2 {
			t.Fatalf("ls: %+v", fin)
		}
		got := out.dirs(t)[spec.Path]
		if !slices.Equal(names(got), []string{"b", "new.txt"}) {
			t.Fatalf("ls a: %v", names(got))
		}
		// The root lists the first path component; a big directory comes in parts.
		out = &browseOut{}
		spec.Path = "/"
		if fin := h.browse(spec, out); fin.Status != protocol.BrowseSucceeded || len(out.dirs(t)["/"]) != 1 {
			t.Fatalf("ls /: %+v %v", fin, out.dirs(t))
		}
		out = &browseOut{}
		spec.Path = filepath.Join(data, "many")
		if fin := h.browse(spec, out); fin.Status != protocol.BrowseSucceeded || len(out.parts) != 3 || len(out.dirs(t)[spec.Path]) != 2500 {
			t.Fatalf("ls many: %+v, %d parts", fin, len(out.parts))
		}
		// A directory whose name looks like a flag.
		out = &browseOut{}
		spec.Path = filepath.Join(data, "-x")
		if fin := h.browse(spec, out); fin.Status != protocol.BrowseSucceeded || !slices.Equal(names(out.dirs(t)[spec.Path]), []string{"--help"}) {
			t.Fatalf("ls -x: %+v %v", fin, out.dirs(t))
		}
		for p, code := range map[string]string{filepath.Join(data, "nope"): protocol.BrowseErrNotFound, filepath.Join(data, "a/new.txt"): protocol.BrowseErrNotDir} {
			spec.Path = p
			if fin := h.browse(spec, &browseOut{}); fin.Status != protocol.BrowseFailed || fin.ErrorCode != code {
				t.Errorf("ls %s: %+v, want %s", p, fin, code)
			}
		}
		// A failing output stops restic and fails the operation.
		spec.Path = filepath.Join(data, "many")
		if fin := h.browse(spec, &browseOut{failDir: errors.New("server gone")}); fin.Status != protocol.BrowseFailed || !strings.Contains(fin.Error, "server gone") {
			t.Errorf("failing output: %+v", fin)
		}
	})

	t.Run("index", func(t *testing.T) {
		out := &browseOut{}
		spec := base
		spec.Kind = protocol.BrowseIndex
		fin := h.browse(spec, out)
		dirs := out.dirs(t)
		if fin.Status != protocol.BrowseSucceeded || fin.Dirs != int64(len(dirs)) {
			t.Fatalf("index: %+v, %d dirs", fin, len(dirs))
		}
		if !slices.Equal(names(dirs[filepath.Join(data, "a/b/c")]), []string{"deep.txt"}) || len(dirs[filepath.Join(data, "many")]) != 2500 {
			t.Fatalf("index dirs: %v", slices.Sorted(func(yield func(string) bool) {
				for d := range dirs {
					if !yield(d) {
						return
					}
				}
			}))
		}
		if _, ok := dirs["/"]; !ok {
			t.Fatal("index: no root")
		}
		for _, e := range dirs[filepath.Join(data, "a/b/c")] {
			if e.Size != 5000 || e.Type != "file" || e.MTime.IsZero() {
				t.Errorf("deep.txt entry %+v", e)
			}
		}
	})

	t.Run("find", func(t *testing.T) {
		spec := protocol.BrowseSpec{Kind: protocol.BrowseFind, Repository: base.Repository, Patterns: []string{"*.txt"}}
		fin := h.browse(spec, &browseOut{})
		if fin.Status != protocol.BrowseSucceeded || fin.Find == nil || fin.Find.Snapshots != 2 {
			t.Fatalf("find: %+v", fin)
		}
		spec.Snapshot, spec.MaxResults = first, 2
		fin = h.browse(spec, &browseOut{})
		if fin.Find.Total != 3 || len(fin.Find.Matches) != 2 || !fin.Find.Truncated || fin.Find.Matches[0].Snapshot != first {
			t.Fatalf("find in one snapshot: %+v", fin.Find)
		}
		spec.Patterns = []string{"--help"}
		if fin = h.browse(spec, &browseOut{}); fin.Find.Total != 1 || fin.Find.Matches[0].Path != filepath.Join(data, "-x/--help") {
			t.Fatalf("find --help: %+v", fin.Find)
		}
	})

	t.Run("diff", func(t *testing.T) {
		spec := base
		spec.Kind, spec.Snapshot, spec.Snapshot2 = protocol.BrowseDiff, first, second
		fin := h.browse(spec, &browseOut{})
		if fin.Status != protocol.BrowseSucceeded || fin.Diff == nil {
			t.Fatalf("diff: %+v", fin)
		}
		got := map[string]string{}
		for _, c := range fin.Diff.Changes {
			got[c.Path] = c.Modifier
		}
		want := map[string]string{filepath.Join(data, "a/b/mid.txt"): "M", filepath.Join(data, "a/new.txt"): "+", filepath.Join(data, "a/top.txt"): "-"}
		for p, m := range want {
			if got[p] != m {
				t.Errorf("diff %s: %q, want %q (all: %v)", p, got[p], m, got)
			}
		}
		var st struct {
			ChangedFiles int `json:"changed_files"`
		}
		if err := json.Unmarshal(fin.Diff.Stats, &st); err != nil || st.ChangedFiles != 1 {
			t.Errorf("diff stats %s: %v", fin.Diff.Stats, err)
		}
	})

	t.Run("dump", func(t *testing.T) {
		out := &browseOut{}
		spec := base
		spec.Kind, spec.Path = protocol.BrowseDump, filepath.Join(data, "a/b/c/deep.txt")
		fin := h.browse(spec, out)
		sum := sha256.Sum256([]byte(strings.Repeat("deep ", 1000)))
		if fin.Status != protocol.BrowseSucceeded || fin.Size != 5000 || fin.SHA256 != hex.EncodeToString(sum[:]) ||
			out.start == nil || out.start.Type != "file" || out.start.Size != 5000 || out.data.Len() != 5000 {
			t.Fatalf("dump file: %+v start %+v", fin, out.start)
		}
		out = &browseOut{}
		spec.Path = filepath.Join(data, "a")
		if fin = h.browse(spec, out); fin.Status != protocol.BrowseSucceeded || out.start.Type != "dir" {
			t.Fatalf("dump dir: %+v", fin)
		}
		tr := tar.NewReader(&out.data)
		var files []string
		for {
			hd, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, hd.Name)
		}
		if !slices.ContainsFunc(files, func(n string) bool { return strings.HasSuffix(n, "a/b/c/deep.txt") }) {
			t.Fatalf("tar: %v", files)
		}
		spec.MaxBytes = 100
		if fin = h.browse(spec, &browseOut{}); fin.Status != protocol.BrowseFailed || fin.ErrorCode != protocol.BrowseErrTooLarge {
			t.Fatalf("dump over the limit: %+v", fin)
		}
		spec.Path = filepath.Join(data, "a/b/c/deep.txt")
		if fin = h.browse(spec, &browseOut{}); fin.Status != protocol.BrowseFailed || fin.ErrorCode != protocol.BrowseErrTooLarge {
			t.Fatalf("dump of a file over the limit: %+v", fin)
		}
		spec.Path, spec.MaxBytes = filepath.Join(data, "zzz"), 0
		if fin = h.browse(spec, &browseOut{}); fin.ErrorCode != protocol.BrowseErrNotFound {
			t.Fatalf("dump of nothing: %+v", fin)
		}
	})

	t.Run("restore", func(t *testing.T) {
		target := t.TempDir()
		spec := h.spec(protocol.KindRestore, repo)
		spec.Restore = &protocol.RestoreSpec{Snapshot: second, Target: target, Includes: []string{filepath.Join(data, "a")}}
		res, ev := h.mustRun(spec, protocol.JobSucceeded)
		got, err := os.ReadFile(filepath.Join(target, data, "a/b/c/deep.txt"))
		if err != nil || string(got) != strings.Repeat("deep ", 1000) {
			t.Fatalf("restored file: %v", err)
		}
		if _, err := os.Stat(filepath.Join(target, data, "many")); !os.IsNotExist(err) {
			t.Fatalf("restored more than included: %v", err)
		}
		ev.mu.Lock()
		progress := slices.Clone(ev.progress)
		ev.mu.Unlock()
		if len(progress) == 0 || progress[len(progress)-1].PercentDone != 1 {
			t.Errorf("restore progress %+v\n%s", progress, ev.text())
		}
		if len(res.Summary) == 0 {
			t.Errorf("restore summary empty")
		}
		spec.Restore.Overwrite = protocol.OverwriteNever
		v, _ := h.runner.Version(context.Background())
		if v.AtLeast(0, 17, 0) {
			h.mustRun(spec, protocol.JobSucceeded)
		} else if res, _ := h.mustRun(spec, protocol.JobFailed); !strings.Contains(res.Error, "0.17") {
			t.Errorf("overwrite=never on old restic: %q", res.Error)
		}
		spec.Restore = &protocol.RestoreSpec{Snapshot: second, Target: "relative"}
		if _, err := h.runner.Run(context.Background(), spec, nil); err == nil {
			t.Error("a relative target was accepted")
		}
	})
}

func TestValidateBrowseSpec(t *testing.T) {
	repo := protocol.Repository{URL: "/srv/repo", Password: "pw"}
	snap := strings.Repeat("ab", 32)
	ok := []protocol.BrowseSpec{
		{RequestID: "r", Kind: protocol.BrowseLs, Repository: repo, Snapshot: snap, Path: "/"},
		{RequestID: "r", Kind: protocol.BrowseLs, Repository: repo, Snapshot: snap[:8], Path: "/-rf"},
		{RequestID: "r", Kind: protocol.BrowseFind, Repository: repo, Patterns: []string{"*.txt"}},
		{RequestID: "r", Kind: protocol.BrowseDiff, Repository: repo, Snapshot: snap, Snapshot2: snap[:8]},
		{RequestID: "r", Kind: protocol.BrowseDump, Repository: repo, Snapshot: snap, Path: "/a", Archive: "zip"},
	}
	for _, s := range ok {
		if err := ValidateBrowseSpec(s); err != nil {
			t.Errorf("%+v: %v", s, err)
		}
	}
	bad := []protocol.BrowseSpec{
		{RequestID: "r", Kind: "rm", Repository: repo, Snapshot: snap, Path: "/"},
		{RequestID: "r", Kind: protocol.BrowseLs, Repository: repo, Snapshot: "latest", Path: "/"},
		{RequestID: "r", Kind: protocol.BrowseLs, Repository: repo, Snapshot: "--password-command=x", Path: "/"},
		{RequestID: "r", Kind: protocol.BrowseLs, Repository: repo, Snapshot: snap, Path: "relative"},
		{RequestID: "r", Kind: protocol.BrowseLs, Repository: repo, Snapshot: snap, Path: "/a/../etc"},
		{RequestID: "r", Kind: protocol.BrowseLs, Repository: repo, Snapshot: snap, Path: "/a\nb"},
		{RequestID: "r", Kind: protocol.BrowseLs, Repository: protocol.Repository{URL: "rclone:x", Password: "pw"}, Snapshot: snap, Path: "/"},
		{RequestID: "r", Kind: protocol.BrowseFind, Repository: repo},
		{RequestID: "r", Kind: protocol.BrowseDiff, Repository: repo, Snapshot: snap},
		{RequestID: "r", Kind: protocol.BrowseDump, Repository: repo, Snapshot: snap, Path: "/a", Archive: "rar"},
		{Kind: protocol.BrowseLs, Repository: repo, Snapshot: snap, Path: "/"},
	}
	for _, s := range bad {
		if err := ValidateBrowseSpec(s); err == nil {
			t.Errorf("accepted %+v", s)
		}
	}
	args := restoreArgs(features{overwrite: true, restoreJSON: true}, protocol.RestoreSpec{Snapshot: snap, Target: "/t", Includes: []string{"-i"}, Overwrite: "never"})
	if strings.Join(args, " ") != "restore --json --target=/t --include=-i --overwrite=never -- "+snap {
		t.Errorf("restore args %q", args)
	}
}
