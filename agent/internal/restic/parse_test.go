package restic

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Lines captured from restic 0.14.0 (Debian 12) and 0.18.0 (Debian 13).
const (
	status014       = `{"message_type":"status","seconds_elapsed":1,"seconds_remaining":2,"percent_done":0.27681537477015394,"total_files":3,"files_done":2,"total_bytes":350000003,"bytes_done":96885382,"current_files":["/tmp/rx/data/big2"]}`
	statusStart014  = `{"message_type":"status","percent_done":0,"total_files":1,"total_bytes":50000000}`
	scanFinished014 = `{"message_type":"status","action":"scan_finished","item":"","duration":0.211520949,"data_size":3,"data_size_in_repo":0,"metadata_size":0,"metadata_size_in_repo":0,"total_files":1}`
	verbose014      = `{"message_type":"verbose_status","action":"unchanged","item":"/tmp/rx/data/small","duration":0,"data_size":0,"data_size_in_repo":0,"metadata_size":0,"metadata_size_in_repo":0,"total_files":0}`
	error014        = `{"message_type":"error","error":{"Op":"read","Path":"/proc/self/mem","Err":5},"during":"archival","item":"/proc/self/mem"}`
	errorEmpty014   = `{"message_type":"error","error":{},"during":"scan","item":"/srv/gone"}`
	summary014      = `{"message_type":"summary","files_new":2,"files_changed":0,"files_unmodified":0,"dirs_new":3,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":30,"tree_blobs":4,"data_added":50003626,"total_files_processed":2,"total_bytes_processed":50000003,"total_duration":1.112062914,"snapshot_id":"2020cc88"}`

	status018       = `{"message_type":"status","seconds_elapsed":4,"seconds_remaining":1,"percent_done":0.7939812017658754,"total_files":3,"files_done":2,"total_bytes":350000003,"bytes_done":277893423,"current_files":["/tmp/rx/data/big2"]}`
	scanFinished018 = `{"message_type":"verbose_status","action":"scan_finished","item":"","duration":0.009702,"data_size":3,"data_size_in_repo":0,"metadata_size":0,"metadata_size_in_repo":0,"total_files":1}`
	error018        = `{"message_type":"error","error":{"message":"failed to save /proc/self/mem: read /proc/self/mem: input/output error"},"during":"archival","item":"/proc/self/mem"}`
	summary018      = `{"message_type":"summary","files_new":2,"files_changed":0,"files_unmodified":0,"dirs_new":3,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":38,"tree_blobs":4,"data_added":50004162,"data_added_packed":50006954,"total_files_processed":2,"total_bytes_processed":50000003,"total_duration":1.5207572809999998,"backup_start":"2026-11-26T06:29:17.43711159Z","backup_end":"2026-11-26T06:29:18.957868887Z","snapshot_id":"765d629c9da5e138b52a60b95edc36eb7f01f65832d8db53782bb2c1971b8c07"}`
	exitError018    = `{"message_type":"exit_error","code":12,"message":"Fatal: wrong password or no key found"}`
	checkError018   = `{"message_type":"error","message":"error for tree 7fcc89e7:\n"}`
	checkSummary018 = `{"message_type":"summary","num_errors":41,"broken_packs":["1cda8f0303f17c3cac84f014cbf19c1301696399d88eb07407a847a2e59e2469"],"suggest_repair_index":false,"suggest_prune":true}`
	init018         = `{"message_type":"initialized","id":"2aa2f857a784d74bbe58b1ea3d358f37e7dd81842692cba4718629d8ff6d0f3a","repository":"/tmp/rx/repo18"}`
)

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name, line   string
		ok, progress bool
		typ          string
		errText      string
	}{
		{"0.14 status", status014, true, true, "status", ""},
		{"0.14 first status", statusStart014, true, true, "status", ""},
		{"0.14 scan_finished is not progress", scanFinished014, true, false, "status", ""},
		{"0.14 verbose", verbose014, true, false, "verbose_status", ""},
		{"0.14 error as Go error", error014, true, false, "error", "error during archival: read /proc/self/mem: " + syscall.Errno(5).Error()},
		{"0.14 error as {}", errorEmpty014, true, false, "error", "error during scan: /srv/gone"},
		{"0.14 summary", summary014, true, false, "summary", ""},
		{"0.18 status", status018, true, true, "status", ""},
		{"0.18 scan_finished", scanFinished018, true, false, "verbose_status", ""},
		{"0.18 error message", error018, true, false, "error", "error during archival: failed to save /proc/self/mem: read /proc/self/mem: input/output error"},
		{"0.18 summary", summary018, true, false, "summary", ""},
		{"0.18 exit_error", exitError018, true, false, "exit_error", "Fatal: wrong password or no key found"},
		{"0.18 check error", checkError018, true, false, "error", "error for tree 7fcc89e7:"},
		{"0.18 check summary", checkSummary018, true, false, "summary", ""},
		{"0.18 init", init018, true, false, "initialized", ""},
		{"text", "Fatal: wrong password or no key found", false, false, "", ""},
		{"text with brace", "{not json", false, false, "", ""},
		{"json without type", `{"total_size":1}`, false, false, "", ""},
		{"empty", "", false, false, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, ok := parseMessage([]byte(tt.line))
			if ok != tt.ok || m.Type != tt.typ || m.isProgress() != tt.progress {
				t.Fatalf("parseMessage = (%q, %v), progress %v; want (%q, %v), progress %v", m.Type, ok, m.isProgress(), tt.typ, tt.ok, tt.progress)
			}
			if tt.errText != "" {
				got := m.errorText()
				if m.Type == "exit_error" {
					got = m.Message
				}
				if got != tt.errText {
					t.Errorf("error text = %q, want %q", got, tt.errText)
				}
			}
		})
	}
}

func TestToProgress(t *testing.T) {
	m, _ := parseMessage([]byte(status018))
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := toProgress(m, now, 2*time.Second)
	if p.BytesDone != 277893423 || p.TotalBytes != 350000003 || p.FilesDone != 2 || p.TotalFiles != 3 ||
		p.SecondsElapsed != 4 || p.SecondsRemaining != 1 || len(p.CurrentFiles) != 1 || !p.At.Equal(now) {
		t.Fatalf("progress = %+v", p)
	}
	if want := 277893423.0 / 4; p.BytesPerSecond != want {
		t.Errorf("BytesPerSecond = %v, want %v (restic's elapsed is larger)", p.BytesPerSecond, want)
	}
	if p := toProgress(m, now, 8*time.Second); p.BytesPerSecond != 277893423.0/8 {
		t.Errorf("BytesPerSecond = %v, want the rate over the wall-clock time", p.BytesPerSecond)
	}
	m, _ = parseMessage([]byte(statusStart014))
	if p := toProgress(m, now, 0); p.BytesPerSecond != 0 {
		t.Errorf("BytesPerSecond at start = %v, want 0", p.BytesPerSecond)
	}
}

const (
	snapshots014 = `[{"time":"2026-11-26T06:29:08.004834762Z","tree":"de5446d9ed4dfb619ca0fca529d1a2da47d90bfbf9d302e05423c239bb3622e0","paths":["/tmp/rx/data"],"hostname":"vm","username":"root","id":"2020cc889da197f84408b6d0cf795671155f1a723baceb5cf68c0f177863c4dd","short_id":"2020cc88"}]`
	snapshots018 = `[{"time":"2026-11-26T06:29:17.43711159Z","tree":"7fcc89e7a9a3a1c36db91644273a827b01cd2cc1cf00195c92f7f81a642dd067","paths":["/tmp/rx/data"],"hostname":"vm","username":"root","tags":["a","b"],"program_version":"restic 0.18.0","summary":{"backup_start":"2026-11-26T06:29:17.43711159Z","backup_end":"2026-11-26T06:29:18.957868887Z","files_new":2,"files_changed":0,"files_unmodified":0,"dirs_new":3,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":38,"tree_blobs":4,"data_added":50004162,"data_added_packed":50006954,"total_files_processed":2,"total_bytes_processed":50000003},"id":"765d629c9da5e138b52a60b95edc36eb7f01f65832d8db53782bb2c1971b8c07","short_id":"765d629c"}]`
)

func TestParseSnapshots(t *testing.T) {
	s14, err := parseSnapshots([]byte(snapshots014))
	if err != nil || len(s14) != 1 {
		t.Fatalf("0.14: %v, %d snapshots", err, len(s14))
	}
	if s := s14[0]; len(s.ID) != 64 || s.ShortID != "2020cc88" || s.Hostname != "vm" || s.Paths[0] != "/tmp/rx/data" ||
		s.Summary != nil || s.Time.IsZero() || s.Tree == "" {
		t.Errorf("0.14 snapshot = %+v", s)
	}
	s18, err := parseSnapshots([]byte(snapshots018))
	if err != nil || len(s18) != 1 {
		t.Fatalf("0.18: %v, %d snapshots", err, len(s18))
	}
	if s := s18[0]; s.ShortID != "765d629c" || len(s.Tags) != 2 || !strings.Contains(string(s.Summary), `"files_new":2`) {
		t.Errorf("0.18 snapshot = %+v", s)
	}
	// A short id is derived when restic gives none.
	noShort := `[{"time":"2026-11-26T06:29:08Z","paths":["/x"],"hostname":"h","id":"2020cc889da197f84408b6d0cf795671155f1a723baceb5cf68c0f177863c4dd"}]`
	if s, err := parseSnapshots([]byte(noShort)); err != nil || s[0].ShortID != "2020cc88" {
		t.Errorf("derived short id: %v %+v", err, s)
	}
	if s, err := parseSnapshots([]byte("[]\n")); err != nil || s == nil || len(s) != 0 {
		t.Errorf("empty list: %v %#v", err, s)
	}
	for _, bad := range []string{"Fatal: nope", ""} {
		if _, err := parseSnapshots([]byte(bad)); err == nil {
			t.Errorf("%q accepted as snapshots", bad)
		}
	}
}

func TestParseForget(t *testing.T) {
	// 0.14: the reason's snapshot has no id and carries "counters"; remove may be null.
	f014 := `[{"tags":null,"host":"vm","paths":["/tmp/rx/data"],"keep":[{"time":"2026-11-26T06:29:08.004834762Z","tree":"de54","paths":["/tmp/rx/data"],"hostname":"vm","username":"root","id":"2020cc889da197f84408b6d0cf795671155f1a723baceb5cf68c0f177863c4dd","short_id":"2020cc88"}],"remove":null,"reasons":[{"snapshot":{"time":"2026-11-26T06:29:08.004834762Z","tree":"de54","paths":["/tmp/rx/data"],"hostname":"vm","username":"root"},"matches":["last snapshot"],"counters":{}}]}]`
	f018 := `[{"tags":null,"host":"vm","paths":["/d"],"keep":[{"time":"2026-11-26T06:29:17Z","paths":["/d"],"hostname":"vm","id":"765d629c9da5e138b52a60b95edc36eb7f01f65832d8db53782bb2c1971b8c07","short_id":"765d629c"}],"remove":[{"time":"2026-11-25T06:29:17Z","paths":["/d"],"hostname":"vm","id":"aaaa629c9da5e138b52a60b95edc36eb7f01f65832d8db53782bb2c1971b8c07","short_id":"aaaa629c"}],"reasons":[{"snapshot":{"id":"765d629c9da5e138b52a60b95edc36eb7f01f65832d8db53782bb2c1971b8c07"},"matches":["last snapshot"]}]}]`
	s, err := parseForget([]byte(f014))
	if err != nil || s.Groups != 1 || s.Kept != 1 || s.Removed != 0 || s.RemovedIDs == nil {
		t.Errorf("0.14: %v %+v", err, s)
	}
	s, err = parseForget([]byte(f018))
	if err != nil || s.Kept != 1 || s.Removed != 1 || s.RemovedIDs[0][:4] != "aaaa" {
		t.Errorf("0.18: %v %+v", err, s)
	}
	if s, err := parseForget(nil); err != nil || s.Groups != 0 {
		t.Errorf("empty: %v %+v", err, s)
	}
}

func TestParseStats(t *testing.T) {
	raw014 := `{"total_size":50004529,"total_file_count":0,"total_blob_count":34,"snapshots_count":1}`
	raw018 := `{"total_size":50005160,"total_uncompressed_size":50005506,"compression_ratio":1.0000069192859298,"compression_progress":100,"compression_space_saving":0.0006919238053515464,"total_blob_count":42,"snapshots_count":1}`
	s, err := parseStats([]byte(raw014))
	if err != nil || s.TotalSize != 50004529 || s.TotalBlobCount != 34 || s.TotalUncompressedSize != 0 || s.SnapshotsCount != 1 {
		t.Errorf("0.14: %v %+v", err, s)
	}
	s, err = parseStats([]byte(raw018))
	if err != nil || s.TotalUncompressedSize != 50005506 || s.CompressionRatio < 1 || s.TotalBlobCount != 42 {
		t.Errorf("0.18: %v %+v", err, s)
	}
}

func TestParsePruneStatsAndLocks(t *testing.T) {
	out := strings.Split(`loading indexes...
[0:00] 100.00%  3 / 3 snapshots
to repack:             0 blobs / 0 B
this removes:          0 blobs / 0 B
total prune:           0 blobs / 0 B
remaining:           229 blobs / 333.814 MiB
unused size after prune: 0 B (0.00% of remaining size)
done`, "\n")
	st := parsePruneStats(out)
	if st["remaining"] != "229 blobs / 333.814 MiB" || st["unused_size_after_prune"] != "0 B (0.00% of remaining size)" || len(st) != 5 {
		t.Errorf("prune stats = %v", st)
	}
	ids := parseLockIDs([]string{"41864850b2c64fa8f7f35efe34d37ac52cc7cfa1c1b0770ef42eee23aa833250", "", "noise"})
	if len(ids) != 1 {
		t.Errorf("lock ids = %v", ids)
	}
	var l lockJSON
	if err := json.Unmarshal([]byte(`{"time":"2026-11-26T06:29:30.217141184Z","exclusive":false,"hostname":"vm","username":"root","pid":8412}`), &l); err != nil {
		t.Fatal(err)
	}
	if d := l.describe(); d != "non-exclusive lock by root on host vm (pid 8412) since 2026-11-26T06:29:30Z" {
		t.Errorf("describe = %q", d)
	}
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		out  string
		want Version
	}{
		{"restic 0.14.0 compiled with go1.19.8 on linux/amd64\n", Version{0, 14, 0, "restic 0.14.0 compiled with go1.19.8 on linux/amd64"}},
		{"restic 0.18.0 compiled with go1.24.4 on linux/amd64", Version{0, 18, 0, "restic 0.18.0 compiled with go1.24.4 on linux/amd64"}},
		{"restic 0.16.4-dev (compiled manually) compiled with go1.22 on linux/amd64", Version{0, 16, 4, "restic 0.16.4-dev (compiled manually) compiled with go1.22 on linux/amd64"}},
	}
	for _, tt := range tests {
		got, err := ParseVersion(tt.out)
		if err != nil || got != tt.want {
			t.Errorf("ParseVersion(%q) = %+v, %v", tt.out, got, err)
		}
	}
	if _, err := ParseVersion("bash: restic: not found"); err == nil {
		t.Error("garbage accepted")
	}
	v14, v161, v18 := Version{Major: 0, Minor: 14}, Version{Major: 0, Minor: 16, Patch: 1}, Version{Major: 0, Minor: 18}
	if f := featuresFor(v14); f.initJSON || f.restEnvCreds || f.checkJSON || f.compression {
		t.Errorf("0.14 features = %+v", f)
	}
	if f := featuresFor(v161); !f.restEnvCreds || f.checkJSON {
		t.Errorf("0.16.1 features = %+v", f)
	}
	if f := featuresFor(v18); !f.initJSON || !f.restEnvCreds || !f.checkJSON || !f.compression {
		t.Errorf("0.18 features = %+v", f)
	}
	if !(Version{Major: 1}).AtLeast(0, 18, 0) || (Version{Minor: 16}).AtLeast(0, 16, 1) {
		t.Error("AtLeast")
	}
}

func TestLineWriter(t *testing.T) {
	type line struct {
		text string
		cut  bool
	}
	var got []line
	w := &lineWriter{max: 8, fn: func(b []byte, cut bool) { got = append(got, line{string(b), cut}) }}
	for _, chunk := range []string{"ab", "c\r\nd", "ef\n0123456789ABC", "DEF\nlast"} {
		if n, err := w.Write([]byte(chunk)); n != len(chunk) || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	_ = w.Close()
	want := []line{{"abc", false}, {"def", false}, {"01234567", true}, {"last", false}}
	if len(got) != len(want) {
		t.Fatalf("lines = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d = %v, want %v", i, got[i], want[i])
		}
	}
}

func TestCleanLine(t *testing.T) {
	for in, want := range map[string]string{
		"\x1b[2Ksignal interrupt received, cleaning up": "signal interrupt received, cleaning up",
		"[0:01] 10%\r[0:02] 20%":                        "[0:02] 20%",
		"tab\tkept, bell\a gone":                        "tab\tkept, bell gone",
		"bad \xff utf8":                                 "bad \uFFFD utf8",
		"plain":                                         "plain",
	} {
		if got := cleanLine(in); got != want {
			t.Errorf("cleanLine(%q) = %q, want %q", in, got, want)
		}
	}
}
