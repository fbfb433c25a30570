package dispatch

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

func validSchedule() store.ScheduleInput {
	return store.ScheduleInput{RepositoryID: "r", Name: "nightly", Kind: protocol.KindBackup, Cron: "30 2 * * *", Paths: []string{"/etc"}}
}

func TestValidateSchedule(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(*store.ScheduleInput)
		field string // "" = valid
	}{
		{"valid", func(*store.ScheduleInput) {}, ""},
		{"seconds field", func(s *store.ScheduleInput) { s.Cron = "*/5 * * * * *" }, ""},
		{"descriptor", func(s *store.ScheduleInput) { s.Cron = "@daily" }, ""},
		{"windows path", func(s *store.ScheduleInput) { s.Paths = []string{`C:\Users`} }, ""},
		{"bad cron", func(s *store.ScheduleInput) { s.Cron = "61 * * * *" }, "cron"},
		{"cron words", func(s *store.ScheduleInput) { s.Cron = "every day" }, "cron"},
		{"bad timezone", func(s *store.ScheduleInput) { s.Timezone = "Mars/Olympus" }, "timezone"},
		{"relative path", func(s *store.ScheduleInput) { s.Paths = []string{"etc"} }, "paths"},
		{"flag as path", func(s *store.ScheduleInput) { s.Paths = []string{"--password-command=sh"} }, "paths"},
		{"no paths", func(s *store.ScheduleInput) { s.Paths = nil }, "paths"},
		{"unknown kind", func(s *store.ScheduleInput) { s.Kind = "format" }, "kind"},
		{"empty forget", func(s *store.ScheduleInput) { s.Kind = protocol.KindForget; s.Paths = nil }, "retention"},
		{"forget ok", func(s *store.ScheduleInput) {
			s.Kind, s.Paths, s.Retention = protocol.KindForget, nil, &protocol.Retention{KeepDaily: 7}
		}, ""},
		{"bad keep_within", func(s *store.ScheduleInput) {
			s.Kind, s.Retention = protocol.KindForget, &protocol.Retention{KeepWithin: "7 days"}
		}, "retention.keep_within"},
		{"tag with comma", func(s *store.ScheduleInput) { s.Tags = []string{"a,b"} }, "tags"},
		{"hook with slash", func(s *store.ScheduleInput) { s.PreHook = "/bin/sh" }, "hooks"},
		{"host flag", func(s *store.ScheduleInput) { s.Options = &protocol.JobOptions{Host: "--help"} }, "options.host"},
	} {
		in := validSchedule()
		c.edit(&in)
		err := ValidateSchedule(in)
		if c.field == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		var he *httpx.Error
		if !errors.As(err, &he) || he.Code != protocol.CodeValidation {
			t.Errorf("%s: err %v, want validation error", c.name, err)
			continue
		}
		if d, _ := he.Details.(map[string]string); d["field"] != c.field {
			t.Errorf("%s: field %v, want %s (%s)", c.name, he.Details, c.field, he.Message)
		}
	}
}

func TestValidateRepository(t *testing.T) {
	ok := store.RepositoryInput{Name: "r", URL: "s3:s3.amazonaws.com/bucket", Password: "p", Env: map[string]string{"AWS_ACCESS_KEY_ID": "x"}}
	if err := ValidateRepository(ok); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]store.RepositoryInput{
		"flag url":         {Name: "r", URL: "-o", Password: "p"},
		"rclone":           {Name: "r", URL: "rclone:remote:bucket", Password: "p"},
		"sftp dash host":   {Name: "r", URL: "sftp:user@-oProxyCommand=x:/srv", Password: "p"},
		"no password":      {Name: "r", URL: "/srv"},
		"password command": {Name: "r", URL: "/srv", Password: "p", Env: map[string]string{"RESTIC_PASSWORD_COMMAND": "sh"}},
	} {
		if err := ValidateRepository(in); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func TestNextFires(t *testing.T) {
	from := time.Date(2026, 3, 27, 12, 0, 0, 0, time.UTC)
	got, err := NextFires("0 3 * * *", "Europe/Berlin", from, 3)
	if err != nil || len(got) != 3 {
		t.Fatalf("%v %v", got, err)
	}
	// 29 March 2026: Berlin switches to summer time; 03:00 local exists, UTC offset changes.
	if got[0].UTC().Hour() != 2 || got[1].UTC().Hour() != 1 {
		t.Fatalf("DST not honoured: %v", got)
	}
	if _, err := NextFires("bad", "", from, 1); err == nil || !strings.Contains(err.Error(), "cron") {
		t.Fatalf("bad cron: %v", err)
	}
}
