package operatorapi_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/apiclient"
	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/config"
	"github.com/restic-manager/restic-manager/server/internal/servertest"
)

// enroll creates an enrollment token through the API and enrols an agent with it.
func (f *fx) enroll(hostname string) *servertest.Agent {
	f.t.Helper()
	tok := call(f.admin.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{Description: ptr("for " + hostname)})).want(f.t, 201).JSON201
	return servertest.EnrollAt(f.t, f.env.URL, tok.Token, hostname)
}

func (f *fx) repo(hostID, name string) apiclient.Repository {
	f.t.Helper()
	return *call(f.admin.PostHostsIdRepositoriesWithResponse(ctx, hostID, apiclient.RepositoryCreate{Name: name, Url: "/srv/restic/" + name, Password: "repo-pass-" + name})).want(f.t, 201).JSON201
}

func TestEnrollmentTokensAndHosts(t *testing.T) {
	t.Parallel()
	f := start(t)
	// Enrollment tokens: created with uses and expiry, secret shown once, revocable.
	created := call(f.admin.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{Description: ptr("rack 4"), MaxUses: ptr(2), TtlSeconds: ptr(3600)})).want(t, 201)
	tok := created.JSON201
	if tok.MaxUses != 2 || tok.State != apiclient.EnrollmentTokenCreatedStateActive || !strings.HasPrefix(tok.Token, "rme_") ||
		tok.ExpiresAt.Sub(time.Now()) < 59*time.Minute || tok.CreatedBy != adminEmail+" (token admin-token)" {
		t.Fatalf("created: %+v", tok)
	}
	a1 := servertest.EnrollAt(t, f.env.URL, tok.Token, "web-1")
	a2 := servertest.EnrollAt(t, f.env.URL, tok.Token, "web-2")
	list := call(f.admin.GetEnrollmentTokensWithResponse(ctx, nil)).want(t, 200)
	if len(list.JSON200.Items) != 1 || list.JSON200.Items[0].Uses != 2 || list.JSON200.Items[0].State != apiclient.EnrollmentTokenStateUsedUp ||
		strings.Contains(string(list.Body), tok.Token) {
		t.Fatalf("token list: %s", list.Body)
	}
	second := call(f.admin.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{})).want(t, 201).JSON201
	call(f.admin.DeleteEnrollmentTokensIdWithResponse(ctx, second.Id.String())).want(t, 200)
	st, _ := (&servertest.Agent{URL: f.env.URL, Client: http.DefaultClient}).Do(t, http.MethodPost, protocol.PathEnroll,
		protocol.EnrollRequest{Token: second.Token, Hostname: "late"})
	if st != 401 {
		t.Fatalf("enrol with a revoked token: %d", st)
	}
	for _, body := range []apiclient.EnrollmentTokenCreate{{MaxUses: ptr(0 - 1)}, {MaxUses: ptr(10001)}, {TtlSeconds: ptr(10)}, {TtlSeconds: ptr(31 * 86400)}} {
		call(f.admin.PostEnrollmentTokensWithResponse(ctx, body)).wantErr(t, 400, protocol.CodeValidation)
	}

	// Hosts: the agents say hello, become online.
	for _, a := range []*servertest.Agent{a1, a2} {
		if st := a.JSON(t, http.MethodPost, protocol.PathHello, protocol.HelloRequest{ProtocolVersion: 1, MinProtocolVersion: 1,
			Hostname: "x", OS: "linux", Arch: "amd64", AgentVersion: "1.0", ResticVersion: "0.18.0"}, nil); st != 200 {
			t.Fatalf("hello: %d", st)
		}
	}
	h := call(f.admin.GetHostsIdWithResponse(ctx, a1.HostID)).want(t, 200).JSON200
	if h.Status != apiclient.HostStatusOnline || h.ResticVersion != "0.18.0" || len(h.Labels) != 0 {
		t.Fatalf("host: %+v", h)
	}
	sum := call(f.admin.GetHostsSummaryWithResponse(ctx)).want(t, 200).JSON200
	if sum.Total != 2 || sum.Online != 2 || sum.Offline != 0 {
		t.Fatalf("summary: %+v", sum)
	}

	// Rename and labels.
	upd := call(f.admin.PatchHostsIdWithResponse(ctx, a1.HostID, apiclient.HostUpdate{Name: ptr("frontend"), Labels: &map[string]string{"env": "prod", "team": "web"}})).want(t, 200).JSON200
	if upd.Name != "frontend" || upd.Labels["env"] != "prod" {
		t.Fatalf("updated host: %+v", upd)
	}
	call(f.admin.PatchHostsIdWithResponse(ctx, a2.HostID, apiclient.HostUpdate{Labels: &map[string]string{"env": "dev"}})).want(t, 200)
	call(f.admin.PatchHostsIdWithResponse(ctx, a2.HostID, apiclient.HostUpdate{Labels: &map[string]string{"bad key!": "x"}})).wantErr(t, 400, protocol.CodeValidation)
	call(f.admin.PatchHostsIdWithResponse(ctx, a2.HostID, apiclient.HostUpdate{Name: ptr("  ")})).wantErr(t, 400, protocol.CodeValidation)

	names := func(p *apiclient.GetHostsParams) []string {
		t.Helper()
		var out []string
		if p == nil {
			p = &apiclient.GetHostsParams{}
		}
		p.Limit = ptr(1)
		for {
			pg := call(f.admin.GetHostsWithResponse(ctx, p)).want(t, 200).JSON200
			for _, h := range pg.Items {
				out = append(out, h.Name)
			}
			if pg.NextCursor == "" {
				return out
			}
			p.Cursor = &pg.NextCursor
		}
	}
	cases := []struct {
		p    *apiclient.GetHostsParams
		want []string
	}{
		{nil, []string{"frontend", "web-2"}},
		{&apiclient.GetHostsParams{Order: ptr(apiclient.GetHostsParamsOrder("desc"))}, []string{"web-2", "frontend"}},
		{&apiclient.GetHostsParams{Q: ptr("WEB")}, []string{"web-2"}},
		{&apiclient.GetHostsParams{Q: ptr(a1.HostID)}, []string{"frontend"}},
		{&apiclient.GetHostsParams{Label: &[]string{"env=prod"}}, []string{"frontend"}},
		{&apiclient.GetHostsParams{Label: &[]string{"env=prod", "team=web"}}, []string{"frontend"}},
		{&apiclient.GetHostsParams{Label: &[]string{"team"}}, []string{"frontend"}},
		{&apiclient.GetHostsParams{Label: &[]string{"env=staging"}}, nil},
		{&apiclient.GetHostsParams{Status: ptr(apiclient.GetHostsParamsStatusOnline)}, []string{"frontend", "web-2"}},
		{&apiclient.GetHostsParams{Status: ptr(apiclient.GetHostsParamsStatusOffline)}, nil},
		{&apiclient.GetHostsParams{Sort: ptr(apiclient.GetHostsParamsSort("created_at")), Order: ptr(apiclient.GetHostsParamsOrder("desc"))}, []string{"web-2", "frontend"}},
		{&apiclient.GetHostsParams{Sort: ptr(apiclient.GetHostsParamsSort("last_seen"))}, nil}, // both seen: any order
	}
	for _, c := range cases {
		got := names(c.p)
		if c.p != nil && c.p.Sort != nil && *c.p.Sort == apiclient.GetHostsParamsSort("last_seen") {
			if len(got) != 2 {
				t.Errorf("by last seen: %v", got)
			}
			continue
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%+v: got %v, want %v", c.p, got, c.want)
		}
	}
	for _, p := range []*apiclient.GetHostsParams{{Sort: ptr(apiclient.GetHostsParamsSort("size"))}, {Status: ptr(apiclient.GetHostsParamsStatus("gone"))},
		{Label: &[]string{"=x"}}, {Limit: ptr(0)}, {Limit: ptr(501)}, {Cursor: ptr("not-a-cursor")}} {
		call(f.admin.GetHostsWithResponse(ctx, p)).wantErr(t, 400, protocol.CodeValidation)
	}

	// Decommission: the agent is refused at once (its cached credential is forgotten),
	// open jobs are cancelled, the host leaves the default list, writes are refused.
	r := f.repo(a1.HostID, "local")
	job := call(f.admin.PostHostsIdRepositoriesRidTestWithResponse(ctx, a1.HostID, r.Id.String())).want(t, 202).JSON202
	_ = a1.Poll(t, 0, 0, 0, 0) // the credential is now cached
	dh := call(f.admin.PostHostsIdDecommissionWithResponse(ctx, a1.HostID)).want(t, 200).JSON200
	if dh.Status != apiclient.HostStatusDecommissioned || dh.DecommissionedAt == nil {
		t.Fatalf("decommissioned: %+v", dh)
	}
	if st, _ := a1.Do(t, http.MethodGet, protocol.PathPoll+"?wait=0", nil); st != 401 {
		t.Fatalf("agent of a decommissioned host: %d", st)
	}
	if j := call(f.admin.GetJobsIdWithResponse(ctx, job.Id.String())).want(t, 200).JSON200; j.Status != apiclient.JobStatus(strings.ToLower("Cancelled")) {
		t.Fatalf("job of a decommissioned host: %s", j.Status)
	}
	if got := names(nil); !slices.Equal(got, []string{"web-2"}) {
		t.Fatalf("after decommission: %v", got)
	}
	if got := names(&apiclient.GetHostsParams{Status: ptr(apiclient.GetHostsParamsStatusDecommissioned)}); !slices.Equal(got, []string{"frontend"}) {
		t.Fatalf("decommissioned list: %v", got)
	}
	call(f.admin.PostHostsIdRepositoriesWithResponse(ctx, a1.HostID, apiclient.RepositoryCreate{Name: "x", Url: "/x", Password: "p"})).wantErr(t, 409, "host_decommissioned")
	call(f.admin.PostHostsIdDecommissionWithResponse(ctx, a1.HostID)).want(t, 200)
	if st, _ := a2.Do(t, http.MethodGet, protocol.PathPoll+"?wait=0", nil); st != 200 {
		t.Fatalf("the other agent: %d", st)
	}
	call(f.admin.GetHostsIdWithResponse(ctx, "00000000-0000-0000-0000-000000000000")).wantErr(t, 404, protocol.CodeNotFound)
	call(f.admin.GetHostsIdWithResponse(ctx, "-rf")).wantErr(t, 404, protocol.CodeNotFound)
}

func TestRepositoriesKeepSecretsWriteOnly(t *testing.T) {
	t.Parallel()
	f := start(t)
	a := f.enroll("db-1")
	secretsSent := []string{"pw-Secret-One", "rest-Secret-Two", "env-Secret-Three"}
	created := call(f.admin.PostHostsIdRepositoriesWithResponse(ctx, a.HostID, apiclient.RepositoryCreate{
		Name: "offsite", Url: "rest:https://backup.example.test:8000/db-1", Password: secretsSent[0],
		RestUsername: ptr("db1"), RestPassword: ptr(secretsSent[1]), Env: &map[string]string{"RESTIC_COMPRESSION": secretsSent[2]},
	})).want(t, 201)
	r := created.JSON201
	if !r.PasswordSet || !r.RestPasswordSet || !slices.Equal(r.EnvKeys, []string{"RESTIC_COMPRESSION"}) || r.RestUsername == nil || *r.RestUsername != "db1" {
		t.Fatalf("created: %+v", r)
	}
	noSecrets := func(what string, b []byte) {
		t.Helper()
		for _, s := range secretsSent {
			if strings.Contains(string(b), s) {
				t.Fatalf("%s returns a secret: %s", what, b)
			}
		}
	}
	noSecrets("create", created.Body)
	noSecrets("list", call(f.admin.GetHostsIdRepositoriesWithResponse(ctx, a.HostID)).want(t, 200).Body)
	noSecrets("get", call(f.admin.GetHostsIdRepositoriesRidWithResponse(ctx, a.HostID, r.Id.String())).want(t, 200).Body)

	// The agent gets them, in its schedule set.
	poll := a.Poll(t, 0, 0, 0, 0)
	if poll.ScheduleSet == nil || len(poll.ScheduleSet.Repositories) != 1 || poll.ScheduleSet.Repositories[0].Password != secretsSent[0] {
		t.Fatalf("agent's schedule set: %+v", poll.ScheduleSet)
	}

	// Update: a rename keeps the secrets; clearing the REST password works; the URL may
	// not carry a password; the password cannot be cleared.
	upd := call(f.admin.PatchHostsIdRepositoriesRidWithResponse(ctx, a.HostID, r.Id.String(), apiclient.RepositoryUpdate{Name: ptr("offsite-2")})).want(t, 200)
	noSecrets("update", upd.Body)
	set, err := f.env.Store.ScheduleSet(ctx, a.HostID)
	if err != nil || set.Repositories[0].Password != secretsSent[0] || set.Repositories[0].RestPassword != secretsSent[1] || set.Repositories[0].Name != "offsite-2" {
		t.Fatalf("after rename: %+v %v", set.Repositories, err)
	}
	if set.Version <= poll.ScheduleSet.Version {
		t.Fatal("the update did not bump the schedule version")
	}
	if u := call(f.admin.PatchHostsIdRepositoriesRidWithResponse(ctx, a.HostID, r.Id.String(), apiclient.RepositoryUpdate{RestPassword: ptr("")})).want(t, 200).JSON200; u.RestPasswordSet {
		t.Fatal("rest password not cleared")
	}
	call(f.admin.PatchHostsIdRepositoriesRidWithResponse(ctx, a.HostID, r.Id.String(), apiclient.RepositoryUpdate{Url: ptr("rest:https://u:inline-pw@h/")})).wantErr(t, 400, protocol.CodeValidation)
	call(f.admin.PatchHostsIdRepositoriesRidWithResponse(ctx, a.HostID, r.Id.String(), apiclient.RepositoryUpdate{Password: ptr("")})).wantErr(t, 400, protocol.CodeValidation)
	call(f.admin.PatchHostsIdRepositoriesRidWithResponse(ctx, a.HostID, r.Id.String(), apiclient.RepositoryUpdate{Url: ptr("-o=x")})).wantErr(t, 400, protocol.CodeValidation)
	call(f.admin.PatchHostsIdRepositoriesRidWithResponse(ctx, a.HostID, r.Id.String(), apiclient.RepositoryUpdate{Env: &map[string]string{"RESTIC_PASSWORD_COMMAND": "cat /etc/shadow"}})).wantErr(t, 400, protocol.CodeValidation)
	call(f.admin.PostHostsIdRepositoriesWithResponse(ctx, a.HostID, apiclient.RepositoryCreate{Name: "offsite-2", Url: "/x", Password: "p"})).wantErr(t, 409, protocol.CodeConflict)
	call(f.admin.PostHostsIdRepositoriesWithResponse(ctx, a.HostID, apiclient.RepositoryCreate{Name: "r", Url: "rclone:remote:bucket", Password: "p"})).wantErr(t, 400, protocol.CodeValidation)

	// Test: a cheap snapshots job, delivered to the agent.
	j := call(f.admin.PostHostsIdRepositoriesRidTestWithResponse(ctx, a.HostID, r.Id.String())).want(t, 202).JSON202
	if j.Kind != "snapshots" || j.Status != apiclient.JobStatus(strings.ToLower("Queued")) || j.ActorType != apiclient.JobActorTypeApi {
		t.Fatalf("test job: %+v", j)
	}
	poll = a.Poll(t, poll.Cursor, set.Version+10, 1000, 0)
	if len(poll.Commands) != 1 || poll.Commands[0].JobID != j.Id.String() || poll.Commands[0].Run.Kind != "snapshots" {
		t.Fatalf("agent's commands: %+v", poll.Commands)
	}

	// Delete.
	call(f.admin.DeleteHostsIdRepositoriesRidWithResponse(ctx, a.HostID, r.Id.String())).want(t, 200)
	call(f.admin.GetHostsIdRepositoriesRidWithResponse(ctx, a.HostID, r.Id.String())).wantErr(t, 404, protocol.CodeNotFound)
	// Another host's repository is not found through this host.
	b := f.enroll("db-2")
	other := f.repo(b.HostID, "local")
	call(f.admin.GetHostsIdRepositoriesRidWithResponse(ctx, a.HostID, other.Id.String())).wantErr(t, 404, protocol.CodeNotFound)
}

// TestNoPlaintextSecretAtRest reads every text column of every table and looks for
// secrets and tokens that went through the API.
func TestNoPlaintextSecretAtRest(t *testing.T) {
	t.Parallel()
	f := start(t)
	a := f.enroll("vault")
	secretsSent := []string{"Repo-Password-Plain", "Rest-Password-Plain", "Env-Value-Plain", adminPassword, userPassword, f.adminToken, a.Credential}
	call(f.admin.PostHostsIdRepositoriesWithResponse(ctx, a.HostID, apiclient.RepositoryCreate{Name: "r", Url: "/srv/r", Password: secretsSent[0],
		RestPassword: ptr(secretsSent[1]), Env: &map[string]string{"AWS_SECRET_ACCESS_KEY": secretsSent[2]}})).want(t, 201)
	_, s, opTok := f.user("op@example.test", apiclient.UserCreateRoleOperator)
	secretsSent = append(secretsSent, opTok, s.csrf)
	for _, c := range s.hc.Jar.Cookies(mustURL(t, f.env.URL)) {
		secretsSent = append(secretsSent, c.Value)
	}
	enrol := call(f.admin.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{})).want(t, 201).JSON201
	secretsSent = append(secretsSent, enrol.Token)

	db, err := f.env.Store.SQLDB()
	if err != nil {
		t.Fatal(err)
	}
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	seen := 0
	for _, tbl := range tables {
		rs, err := db.QueryContext(ctx, fmt.Sprintf(`SELECT row_to_json(t)::text FROM %q t`, tbl))
		if err != nil {
			t.Fatal(err)
		}
		for rs.Next() {
			var row string
			if err := rs.Scan(&row); err != nil {
				t.Fatal(err)
			}
			seen++
			for _, sec := range secretsSent {
				if sec != "" && strings.Contains(row, sec) {
					t.Errorf("table %s holds a secret in plain text: %.200s", tbl, row)
				}
			}
		}
		rs.Close()
	}
	if seen < 10 {
		t.Fatalf("only %d rows read", seen)
	}
}

func TestSchedulesJobsAndLogs(t *testing.T) {
	t.Parallel()
	f := start(t)
	a := f.enroll("app-1")
	r := f.repo(a.HostID, "local")
	rid := r.Id

	// Cron preview.
	pv := call(f.admin.GetSchedulesPreviewWithResponse(ctx, &apiclient.GetSchedulesPreviewParams{Cron: "0 3 * * *", Timezone: ptr("Europe/Berlin")})).want(t, 200).JSON200
	if len(pv.Next) != 5 || pv.Next[1].Sub(pv.Next[0]) != 24*time.Hour && pv.Next[1].Sub(pv.Next[0]) != 23*time.Hour && pv.Next[1].Sub(pv.Next[0]) != 25*time.Hour {
		t.Fatalf("preview: %+v", pv)
	}
	e := call(f.admin.GetSchedulesPreviewWithResponse(ctx, &apiclient.GetSchedulesPreviewParams{Cron: "61 * * * *"})).wantErr(t, 400, protocol.CodeValidation)
	if !strings.Contains(string(e.Body), `"field":"cron"`) {
		t.Fatalf("preview error: %s", e.Body)
	}
	call(f.admin.GetSchedulesPreviewWithResponse(ctx, &apiclient.GetSchedulesPreviewParams{Cron: "@daily", Timezone: ptr("Mars/Olympus")})).wantErr(t, 400, protocol.CodeValidation)

	// Create, with validation.
	in := apiclient.ScheduleInput{RepositoryId: rid, Name: "nightly", Kind: apiclient.ScheduleInputKindBackup, Cron: "0 3 * * *",
		Paths: &[]string{"/etc", "/var/lib"}, Tags: &[]string{"nightly"}}
	sc := call(f.admin.PostHostsIdSchedulesWithResponse(ctx, a.HostID, in)).want(t, 201).JSON201
	if !sc.Enabled || len(sc.NextFires) != 5 || sc.Timezone != "UTC" {
		t.Fatalf("schedule: %+v", sc)
	}
	bad := []struct {
		name  string
		edit  func(*apiclient.ScheduleInput)
		field string
	}{
		{"bad cron", func(s *apiclient.ScheduleInput) { s.Cron = "every day" }, "cron"},
		{"relative path", func(s *apiclient.ScheduleInput) { s.Paths = &[]string{"etc"} }, "paths"},
		{"flag-like path", func(s *apiclient.ScheduleInput) { s.Paths = &[]string{"--delete"} }, "paths"},
		{"forget without keep", func(s *apiclient.ScheduleInput) { s.Kind = "forget"; s.Retention = &apiclient.ProtocolRetention{} }, "retention"},
		{"kind", func(s *apiclient.ScheduleInput) { s.Kind = "restore" }, "kind"},
		{"hook", func(s *apiclient.ScheduleInput) { s.PreHook = ptr("rm -rf /") }, "hooks"},
		{"tz", func(s *apiclient.ScheduleInput) { s.Timezone = ptr("Nowhere/City") }, "timezone"},
	}
	for _, b := range bad {
		x := in
		b.edit(&x)
		resp := call(f.admin.PostHostsIdSchedulesWithResponse(ctx, a.HostID, x)).wantErr(t, 400, protocol.CodeValidation)
		if !strings.Contains(string(resp.Body), `"field":"`+b.field+`"`) {
			t.Errorf("%s: %s", b.name, resp.Body)
		}
	}
	x := in
	x.RepositoryId = f.repo(f.enroll("other").HostID, "theirs").Id
	call(f.admin.PostHostsIdSchedulesWithResponse(ctx, a.HostID, x)).wantErr(t, 404, protocol.CodeNotFound)

	// Replace, disable, enable: each bumps the schedule version the agent sees.
	in.Cron = "30 2 * * 1-5"
	rep := call(f.admin.PutHostsIdSchedulesSidWithResponse(ctx, a.HostID, sc.Id.String(), in)).want(t, 200).JSON200
	if rep.Cron != "30 2 * * 1-5" {
		t.Fatalf("replaced: %+v", rep)
	}
	if d := call(f.admin.PostHostsIdSchedulesSidDisableWithResponse(ctx, a.HostID, sc.Id.String())).want(t, 200).JSON200; d.Enabled {
		t.Fatal("still enabled")
	}
	set := a.Poll(t, 0, 0, 0, 0).ScheduleSet
	if set == nil || len(set.Schedules) != 1 || set.Schedules[0].Enabled || set.Schedules[0].Cron != "30 2 * * 1-5" {
		t.Fatalf("agent's schedules: %+v", set)
	}
	call(f.admin.PostHostsIdSchedulesSidEnableWithResponse(ctx, a.HostID, sc.Id.String())).want(t, 200)
	if l := call(f.admin.GetHostsIdSchedulesWithResponse(ctx, a.HostID)).want(t, 200).JSON200; len(l.Items) != 1 || !l.Items[0].Enabled {
		t.Fatalf("schedule list: %+v", l)
	}

	// Run now from the schedule and ad hoc; list with filters and pages.
	fromSchedule := call(f.admin.PostHostsIdSchedulesSidRunWithResponse(ctx, a.HostID, sc.Id.String())).want(t, 202).JSON202
	if fromSchedule.ScheduleId == nil || *fromSchedule.ScheduleId != sc.Id.String() || fromSchedule.Spec.Paths == nil || len(*fromSchedule.Spec.Paths) != 2 {
		t.Fatalf("run from schedule: %+v", fromSchedule)
	}
	adHoc := call(f.admin.PostHostsIdJobsWithResponse(ctx, a.HostID, apiclient.RunRequest{Kind: "check", RepositoryId: rid})).want(t, 202).JSON202
	call(f.admin.PostHostsIdJobsWithResponse(ctx, a.HostID, apiclient.RunRequest{Kind: "backup", RepositoryId: rid, Paths: &[]string{"relative"}})).wantErr(t, 400, protocol.CodeValidation)
	call(f.admin.PostHostsIdJobsWithResponse(ctx, a.HostID, apiclient.RunRequest{Kind: "check", RepositoryId: x.RepositoryId})).wantErr(t, 404, protocol.CodeNotFound)
	for range 3 {
		call(f.admin.PostHostsIdJobsWithResponse(ctx, a.HostID, apiclient.RunRequest{Kind: "stats", RepositoryId: rid})).want(t, 202)
	}
	var ids []string
	hostName := call(f.admin.GetHostsIdWithResponse(ctx, a.HostID)).want(t, 200).JSON200.Name
	p := &apiclient.GetJobsParams{HostId: ptr(a.HostID), Limit: ptr(2)}
	for {
		pg := call(f.admin.GetJobsWithResponse(ctx, p)).want(t, 200).JSON200
		for _, j := range pg.Items {
			ids = append(ids, j.Id.String())
			if j.HostName == nil || *j.HostName != hostName || hostName == "" {
				t.Fatalf("job %s: host_name %v, want %q", j.Id, j.HostName, hostName)
			}
		}
		if pg.NextCursor == "" {
			break
		}
		p.Cursor = &pg.NextCursor
	}
	if len(ids) != 5 || ids[3] != adHoc.Id.String() || ids[4] != fromSchedule.Id.String() {
		t.Fatalf("jobs newest first: %v", ids)
	}
	if l := call(f.admin.GetJobsWithResponse(ctx, &apiclient.GetJobsParams{Kind: ptr(apiclient.GetJobsParamsKindStats)})).want(t, 200).JSON200; len(l.Items) != 3 {
		t.Fatalf("stats jobs: %d", len(l.Items))
	}
	if l := call(f.admin.GetJobsWithResponse(ctx, &apiclient.GetJobsParams{ScheduleId: ptr(sc.Id.String()), Status: ptr("queued,running")})).want(t, 200).JSON200; len(l.Items) != 1 {
		t.Fatalf("schedule jobs: %d", len(l.Items))
	}
	if l := call(f.admin.GetJobsWithResponse(ctx, &apiclient.GetJobsParams{Since: ptr(time.Now().Add(time.Hour).Format(time.RFC3339))})).want(t, 200).JSON200; len(l.Items) != 0 {
		t.Fatalf("future jobs: %d", len(l.Items))
	}
	call(f.admin.GetJobsWithResponse(ctx, &apiclient.GetJobsParams{Status: ptr("done")})).wantErr(t, 400, protocol.CodeValidation)
	call(f.admin.GetJobsWithResponse(ctx, &apiclient.GetJobsParams{Since: ptr("yesterday")})).wantErr(t, 400, protocol.CodeValidation)

	// Cancel a queued job: at once.
	c := call(f.admin.PostJobsIdCancelWithResponse(ctx, adHoc.Id.String(), apiclient.CancelRequest{Reason: ptr("not now")})).want(t, 200).JSON200
	if c.Status != apiclient.JobStatus(strings.ToLower("Cancelled")) {
		t.Fatalf("cancelled: %+v", c)
	}
	call(f.admin.PostJobsIdCancelWithResponse(ctx, adHoc.Id.String(), apiclient.CancelRequest{})).wantErr(t, 409, protocol.CodeJobFinished)

	// The agent runs the scheduled job: progress, logs, a live follow, the end.
	jid := fromSchedule.Id.String()
	events := make(chan sseEvent, 100)
	go f.follow(t, jid, events)
	if first := <-events; first.name != "job" {
		t.Fatalf("first event: %+v", first)
	}
	agentPost(t, a, protocol.PathJobStart, jid, protocol.JobStart{StartedAt: time.Now()})
	agentPost(t, a, protocol.PathJobProgress, jid, protocol.Progress{At: time.Now(), PercentDone: 0.5, FilesDone: 10, TotalFiles: 20})
	got := call(f.admin.GetJobsIdWithResponse(ctx, jid)).want(t, 200).JSON200
	if got.HostName == nil || *got.HostName != hostName {
		t.Fatalf("job host_name: %v, want %q", got.HostName, hostName)
	}
	if got.Status != apiclient.JobStatus(strings.ToLower("Running")) || got.Progress == nil || got.Progress.PercentDone == nil || *got.Progress.PercentDone != 0.5 {
		t.Fatalf("running job: %+v", got)
	}
	var lines []protocol.LogLine
	for i := 1; i <= 7; i++ {
		lines = append(lines, protocol.LogLine{Seq: int64(i), At: time.Now(), Stream: "stdout", Text: fmt.Sprintf("line %d", i)})
	}
	agentPost(t, a, protocol.PathJobLogs, jid, protocol.LogBatch{Lines: lines})
	agentPost(t, a, protocol.PathJobFinish, jid, protocol.JobFinish{Status: "succeeded", FinishedAt: time.Now(), LogLines: 7,
		Summary: json.RawMessage(`{"files_new":3}`)})
	var names []string
	var logSeqs []string
	deadline := time.After(20 * time.Second)
	for done := false; !done; {
		select {
		case ev, ok := <-events:
			if !ok {
				done = true
				break
			}
			names = append(names, ev.name)
			if ev.name == "log" {
				logSeqs = append(logSeqs, ev.id)
			}
		case <-deadline:
			t.Fatalf("stream did not end; events so far: %v", names)
		}
	}
	if len(logSeqs) != 7 || logSeqs[6] != "7" || names[len(names)-1] != "end" {
		t.Fatalf("events: %v, log ids %v", names, logSeqs)
	}
	fin := call(f.admin.GetJobsIdWithResponse(ctx, jid)).want(t, 200).JSON200
	if fin.Status != apiclient.JobStatus(strings.ToLower("Succeeded")) || fin.Summary == nil || (*fin.Summary)["files_new"] != float64(3) {
		t.Fatalf("finished job: %+v", fin)
	}
	call(f.admin.PostJobsIdCancelWithResponse(ctx, jid, apiclient.CancelRequest{})).wantErr(t, 409, protocol.CodeJobFinished)

	// Logs by range, with pages.
	lp := call(f.admin.GetJobsIdLogsWithResponse(ctx, jid, &apiclient.GetJobsIdLogsParams{After: ptr(2), Until: ptr(6), Limit: ptr(3)})).want(t, 200).JSON200
	if len(lp.Items) != 3 || lp.Items[0].Seq != 3 || lp.NextCursor != "5" {
		t.Fatalf("log page: %+v", lp)
	}
	lp = call(f.admin.GetJobsIdLogsWithResponse(ctx, jid, &apiclient.GetJobsIdLogsParams{After: ptr(5), Until: ptr(6)})).want(t, 200).JSON200
	if len(lp.Items) != 1 || lp.Items[0].Text != "line 6" || lp.NextCursor != "" {
		t.Fatalf("log tail: %+v", lp)
	}
	call(f.admin.GetJobsIdLogsWithResponse(ctx, jid, &apiclient.GetJobsIdLogsParams{Limit: ptr(5001)})).wantErr(t, 400, protocol.CodeValidation)
	// A finished job's stream replays and ends at once; Last-Event-ID resumes.
	st, _, raw := f.raw(nil, http.MethodGet, "/jobs/"+jid+"/events", nil, map[string]string{"Authorization": "Bearer " + f.adminToken, "Last-Event-ID": "5"})
	if st != 200 || strings.Count(string(raw), "event: log") != 2 || !strings.Contains(string(raw), "event: end") {
		t.Fatalf("replay: %d %s", st, raw)
	}

	// Delete the schedule; its jobs stay.
	call(f.admin.DeleteHostsIdSchedulesSidWithResponse(ctx, a.HostID, sc.Id.String())).want(t, 200)
	call(f.admin.GetHostsIdSchedulesSidWithResponse(ctx, a.HostID, sc.Id.String())).wantErr(t, 404, protocol.CodeNotFound)
	call(f.admin.GetJobsIdWithResponse(ctx, jid)).want(t, 200)
}

func TestSnapshotsAndStats(t *testing.T) {
	t.Parallel()
	f := start(t)
	a := f.enroll("files-1")
	r := f.repo(a.HostID, "local")
	base := time.Now().UTC().Truncate(time.Second)
	var snaps []protocol.Snapshot
	for i := range 7 {
		snaps = append(snaps, protocol.Snapshot{ID: fmt.Sprintf("%064x", i+1), Time: base.Add(time.Duration(i) * time.Hour),
			Hostname: "files-1", Paths: []string{"/srv"}, Tags: []string{"t"}, Summary: json.RawMessage(`{"total_bytes_processed":1}`)})
	}
	agentPost(t, a, protocol.PathRepoSnapshots, r.Id.String(), protocol.SnapshotReport{TakenAt: base, Snapshots: snaps})
	for i := range 3 {
		agentPost(t, a, protocol.PathRepoStats, r.Id.String(), protocol.RepoStats{At: base.Add(time.Duration(i-3) * time.Hour), TotalSize: int64(100 * (i + 1)), SnapshotsCount: 7})
	}
	var got []string
	p := &apiclient.GetHostsIdRepositoriesRidSnapshotsParams{Limit: ptr(3)}
	for {
		pg := call(f.admin.GetHostsIdRepositoriesRidSnapshotsWithResponse(ctx, a.HostID, r.Id.String(), p)).want(t, 200).JSON200
		for _, s := range pg.Items {
			got = append(got, s.Id)
		}
		if pg.NextCursor == "" {
			break
		}
		p.Cursor = &pg.NextCursor
	}
	if len(got) != 7 || got[0] != snaps[6].ID || got[6] != snaps[0].ID {
		t.Fatalf("snapshots newest first: %v", got)
	}
	st := call(f.admin.GetHostsIdRepositoriesRidStatsWithResponse(ctx, a.HostID, r.Id.String(), nil)).want(t, 200).JSON200
	if len(st.Items) != 3 || st.Items[0].TotalSize != 100 || st.Items[2].TotalSize != 300 {
		t.Fatalf("stats: %+v", st)
	}
	since := base.Add(-90 * time.Minute).Format(time.RFC3339)
	if st := call(f.admin.GetHostsIdRepositoriesRidStatsWithResponse(ctx, a.HostID, r.Id.String(), &apiclient.GetHostsIdRepositoriesRidStatsParams{Since: &since})).want(t, 200).JSON200; len(st.Items) != 1 {
		t.Fatalf("stats since: %+v", st)
	}
	other := f.enroll("files-2")
	call(f.admin.GetHostsIdRepositoriesRidSnapshotsWithResponse(ctx, other.HostID, r.Id.String(), nil)).wantErr(t, 404, protocol.CodeNotFound)
}

func agentPost(t *testing.T, a *servertest.Agent, path, id string, body any) {
	t.Helper()
	if st, raw := a.Do(t, http.MethodPost, servertest.Path(path, id), body); st != 200 {
		t.Fatalf("agent %s: %d %s", path, st, raw)
	}
}

type sseEvent struct{ name, id, data string }

// follow reads a job's event stream into events until it ends.
func (f *fx) follow(t *testing.T, jobID string, events chan<- sseEvent) {
	defer close(events)
	req, _ := http.NewRequest(http.MethodGet, f.base+"/jobs/"+jobID+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+f.adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Errorf("follow: %v", err)
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("follow: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		return
	}
	sc := bufio.NewScanner(resp.Body)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "id: "):
			ev.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "data: "):
			ev.data = strings.TrimPrefix(line, "data: ")
		}
	}
}

// TestEmbeddedSQLiteSmoke runs the main operator flows on the embedded default database.
func TestEmbeddedSQLiteSmoke(t *testing.T) {
	t.Parallel()
	env := servertest.Start(t, servertest.Options{Dialect: "sqlite", Config: func(c *config.Config) {
		c.AdminEmail, c.AdminPassword = adminEmail, adminPassword
	}})
	f := &fx{t: t, env: env, base: env.URL + "/api/v1"}
	s := f.login(adminEmail, adminPassword)
	f.adminToken = f.createToken(s.c, "admin-token", apiclient.APITokenCreateRoleAdmin)
	f.admin = f.tokenClient(f.adminToken)
	a := f.enroll("lite-1")
	call(f.admin.PatchHostsIdWithResponse(ctx, a.HostID, apiclient.HostUpdate{Labels: &map[string]string{"env": "prod"}})).want(t, 200)
	if l := call(f.admin.GetHostsWithResponse(ctx, &apiclient.GetHostsParams{Label: &[]string{"env=prod"}, Sort: ptr(apiclient.GetHostsParamsSort("last_seen"))})).want(t, 200).JSON200; len(l.Items) != 1 {
		t.Fatalf("hosts: %+v", l)
	}
	r := f.repo(a.HostID, "local")
	sc := call(f.admin.PostHostsIdSchedulesWithResponse(ctx, a.HostID, apiclient.ScheduleInput{RepositoryId: r.Id, Name: "n", Kind: "check", Cron: "@daily"})).want(t, 201).JSON201
	j := call(f.admin.PostHostsIdSchedulesSidRunWithResponse(ctx, a.HostID, sc.Id.String())).want(t, 202).JSON202
	if l := call(f.admin.GetJobsWithResponse(ctx, &apiclient.GetJobsParams{HostId: ptr(a.HostID)})).want(t, 200).JSON200; len(l.Items) != 1 || l.Items[0].Id != j.Id {
		t.Fatalf("jobs: %+v", l)
	}
	call(f.admin.PostJobsIdCancelWithResponse(ctx, j.Id.String(), apiclient.CancelRequest{})).want(t, 200)
	call(s.noCSRF.PostEnrollmentTokensWithResponse(ctx, apiclient.EnrollmentTokenCreate{})).wantErr(t, 403, "csrf_failed")
	call(s.c.PostAuthLogoutWithResponse(ctx)).want(t, 200)
	call(s.c.GetAuthMeWithResponse(ctx)).want(t, 401)
	if l := call(f.admin.GetAuditWithResponse(ctx, nil)).want(t, 200).JSON200; len(l.Items) < 8 {
		t.Fatalf("audit: %d entries", len(l.Items))
	}
	call(f.admin.PostHostsIdDecommissionWithResponse(ctx, a.HostID)).want(t, 200)
	if st, _ := a.Do(t, http.MethodGet, protocol.PathPoll+"?wait=0", nil); st != 401 {
		t.Fatalf("agent after decommission: %d", st)
	}
}
