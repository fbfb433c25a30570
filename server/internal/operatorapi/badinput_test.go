package operatorapi_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/restic-manager/restic-manager/common/apiclient"
	"github.com/restic-manager/restic-manager/common/protocol"
)

// fingerprint hashes the rows of every table an operator request could change
// (sessions and API tokens are left out: using a token records its last use).
func (f *fx) fingerprint() string {
	f.t.Helper()
	db, err := f.env.Store.SQLDB()
	if err != nil {
		f.t.Fatal(err)
	}
	h := sha256.New()
	for _, tbl := range []string{"users", "hosts", "agent_credentials", "enrollment_tokens", "repositories", "schedules",
		"jobs", "commands", "job_logs", "snapshots", "setup_tokens", "audit_log"} {
		var agg *string
		q := fmt.Sprintf(`SELECT string_agg(row_to_json(t)::text, E'\n' ORDER BY row_to_json(t)::text) FROM %q t`, tbl)
		if err := db.QueryRowContext(ctx, q).Scan(&agg); err != nil {
			f.t.Fatal(err)
		}
		fmt.Fprintf(h, "%s:", tbl)
		if agg != nil {
			h.Write([]byte(*agg))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestBadInputChangesNothing sends every write endpoint malformed JSON, wrong types,
// unknown fields, oversized bodies, a wrong content type, unknown and malformed ids and
// invalid values, and checks the status, the stable code, and that nothing changed.
func TestBadInputChangesNothing(t *testing.T) {
	t.Parallel()
	f := start(t)
	u, _, _ := f.user("someone@example.test", apiclient.UserCreateRoleViewer)
	a := f.enroll("bad-1")
	r := f.repo(a.HostID, "main")
	sc := call(f.admin.PostHostsIdSchedulesWithResponse(ctx, a.HostID, apiclient.ScheduleInput{RepositoryId: r.Id, Name: "s", Kind: "check", Cron: "@daily"})).want(t, 201).JSON201
	job := call(f.admin.PostHostsIdJobsWithResponse(ctx, a.HostID, apiclient.RunRequest{Kind: "check", RepositoryId: r.Id})).want(t, 202).JSON202
	h, rid, sid, uid, jid := a.HostID, r.Id.String(), sc.Id.String(), u.Id.String(), job.Id.String()
	nobody := uuid.NewString()
	huge := `{"name":"` + strings.Repeat("A", 70<<10) + `"}`
	sched := func(edit string) string {
		return `{"repository_id":"` + rid + `","name":"n","kind":"backup","cron":"0 3 * * *","paths":["/etc"]` + edit + `}`
	}

	type endpoint struct {
		method, path string
		valid        string // a valid body (for the unknown-id case)
		wrongType    string
	}
	endpoints := []endpoint{
		{"POST", "/auth/login", `{"email":"someone@example.test","password":"` + userPassword + `"}`, `{"email":5,"password":"x"}`},
		{"POST", "/auth/setup", "", `{"token":5}`},
		{"POST", "/auth/password", "", `{"current_password":true}`},
		{"POST", "/users", "", `{"email":"x@example.test","role":["admin"]}`},
		{"PATCH", "/users/" + uid, `{"name":"x"}`, `{"disabled":"yes"}`},
		{"POST", "/api-tokens", "", `{"name":{},"role":"viewer"}`},
		{"POST", "/enrollment-tokens", "", `{"max_uses":"many"}`},
		{"PATCH", "/hosts/" + h, `{"name":"x"}`, `{"labels":["a"]}`},
		{"POST", "/hosts/" + h + "/repositories", `{"name":"n","url":"/n","password":"p"}`, `{"name":"n","url":1,"password":"p"}`},
		{"PATCH", "/hosts/" + h + "/repositories/" + rid, `{"name":"x"}`, `{"env":"A=B"}`},
		{"POST", "/hosts/" + h + "/schedules", sched(""), `{"cron":5}`},
		{"PUT", "/hosts/" + h + "/schedules/" + sid, sched(""), `{"paths":"/etc"}`},
		{"POST", "/hosts/" + h + "/jobs", `{"kind":"check","repository_id":"` + rid + `"}`, `{"kind":"check","repository_id":"` + rid + `","retention":{"keep_last":"ten"}}`},
		{"POST", "/jobs/" + jid + "/cancel", `{}`, `{"reason":42}`},
	}
	type bad struct {
		name, method, path, body, contentType string
		status                                int
		code                                  string
	}
	var cases []bad
	for _, e := range endpoints {
		cases = append(cases,
			bad{"malformed JSON", e.method, e.path, `{"name":`, "", 400, protocol.CodeInvalidJSON},
			bad{"not an object", e.method, e.path, `[1,2]`, "", 400, protocol.CodeInvalidJSON},
			bad{"wrong type", e.method, e.path, e.wrongType, "", 400, protocol.CodeInvalidJSON},
			bad{"unknown field", e.method, e.path, `{"surprise":1}`, "", 400, protocol.CodeInvalidJSON},
			bad{"trailing data", e.method, e.path, `{} {}`, "", 400, protocol.CodeInvalidJSON},
			bad{"oversized", e.method, e.path, huge, "", 413, protocol.CodeBodyTooLarge},
			bad{"content type", e.method, e.path, `{}`, "text/plain", 415, protocol.CodeUnsupportedMedia},
		)
		if e.valid != "" && strings.Count(e.path, "/") > 1 {
			// The same valid body to an unknown id, and to an id that is no UUID (one
			// that looks like a flag, for good measure).
			for _, id := range []string{h, rid, sid, uid, jid} {
				if strings.Contains(e.path, id) {
					cases = append(cases,
						bad{"unknown id", e.method, strings.Replace(e.path, id, nobody, 1), e.valid, "", 404, protocol.CodeNotFound},
						bad{"id like a flag", e.method, strings.Replace(e.path, id, "-rf", 1), e.valid, "", 404, protocol.CodeNotFound})
				}
			}
		}
	}
	// Invalid values, endpoint by endpoint.
	v := protocol.CodeValidation
	cases = append(cases,
		bad{"bad cron", "POST", "/hosts/" + h + "/schedules", strings.Replace(sched(""), "0 3 * * *", "0 3 * *", 1), "", 400, v},
		bad{"cron out of range", "PUT", "/hosts/" + h + "/schedules/" + sid, strings.Replace(sched(""), "0 3 * * *", "99 * * * *", 1), "", 400, v},
		bad{"relative path", "POST", "/hosts/" + h + "/schedules", strings.Replace(sched(""), "/etc", "etc", 1), "", 400, v},
		bad{"path like a flag", "POST", "/hosts/" + h + "/schedules", strings.Replace(sched(""), "/etc", "--password-command=sh", 1), "", 400, v},
		bad{"exclude empty", "POST", "/hosts/" + h + "/schedules", sched(`,"excludes":[""]`), "", 400, v},
		bad{"tag like a flag", "POST", "/hosts/" + h + "/schedules", sched(`,"tags":["-x"]`), "", 400, v},
		bad{"forget keeps nothing", "POST", "/hosts/" + h + "/schedules", strings.Replace(sched(""), `"backup"`, `"forget"`, 1), "", 400, v},
		bad{"unknown repository", "POST", "/hosts/" + h + "/schedules", strings.Replace(sched(""), rid, nobody, 1), "", 404, protocol.CodeNotFound},
		bad{"run: relative path", "POST", "/hosts/" + h + "/jobs", `{"kind":"backup","repository_id":"` + rid + `","paths":["tmp"]}`, "", 400, v},
		bad{"run: unknown kind", "POST", "/hosts/" + h + "/jobs", `{"kind":"restore","repository_id":"` + rid + `"}`, "", 400, v},
		bad{"run: no repository", "POST", "/hosts/" + h + "/jobs", `{"kind":"check"}`, "", 400, v},
		bad{"repo: rclone", "POST", "/hosts/" + h + "/repositories", `{"name":"n","url":"rclone:x:y","password":"p"}`, "", 400, v},
		bad{"repo: url like a flag", "POST", "/hosts/" + h + "/repositories", `{"name":"n","url":"--insecure-tls","password":"p"}`, "", 400, v},
		bad{"repo: no password", "POST", "/hosts/" + h + "/repositories", `{"name":"n","url":"/n","password":""}`, "", 400, v},
		bad{"repo: password in url", "POST", "/hosts/" + h + "/repositories", `{"name":"n","url":"rest:http://u:p@h/","password":"p"}`, "", 400, v},
		bad{"repo: program env", "POST", "/hosts/" + h + "/repositories", `{"name":"n","url":"/n","password":"p","env":{"RCLONE_COMMAND":"x"}}`, "", 400, v},
		bad{"repo: name taken", "POST", "/hosts/" + h + "/repositories", `{"name":"main","url":"/n","password":"p"}`, "", 409, protocol.CodeConflict},
		bad{"user: bad email", "POST", "/users", `{"email":"nope","name":"","role":"viewer","password":"long-enough-pw"}`, "", 400, v},
		bad{"user: bad role", "POST", "/users", `{"email":"a@example.test","name":"","role":"root","password":"long-enough-pw"}`, "", 400, v},
		bad{"user: short password", "POST", "/users", `{"email":"a@example.test","name":"","role":"viewer","password":"short"}`, "", 400, v},
		bad{"user: email taken", "POST", "/users", `{"email":"SOMEONE@example.test","name":"","role":"viewer","password":"long-enough-pw"}`, "", 409, protocol.CodeConflict},
		bad{"user: demote last admin", "PATCH", "/users/" + f.adminID(), `{"role":"operator"}`, "", 409, "last_admin"},
		bad{"user: disable last admin", "PATCH", "/users/" + f.adminID(), `{"disabled":true}`, "", 409, "last_admin"},
		bad{"user: delete last admin", "DELETE", "/users/" + f.adminID(), "", "", 409, "last_admin"},
		bad{"token: empty name", "POST", "/api-tokens", `{"name":" ","role":"viewer"}`, "", 400, v},
		bad{"enrol: too many uses", "POST", "/enrollment-tokens", `{"max_uses":100000}`, "", 400, v},
		bad{"host: label key", "PATCH", "/hosts/" + h, `{"labels":{"-x":"y"}}`, "", 400, v},
		bad{"host: newline in name", "PATCH", "/hosts/" + h, `{"name":"a\nb"}`, "", 400, v},
		bad{"cancel: long reason", "POST", "/jobs/" + jid + "/cancel", `{"reason":"` + strings.Repeat("r", 2000) + `"}`, "", 400, v},
		bad{"setup: done", "POST", "/auth/setup", `{"token":"rmsetup_x","email":"a@example.test","name":"","password":"long-enough-pw"}`, "", 409, "setup_done"},
		bad{"login: empty", "POST", "/auth/login", `{"email":"","password":""}`, "", 400, v},
	)
	// Body-less writes to unknown or malformed ids.
	for _, p := range []struct{ method, path string }{
		{"POST", "/hosts/" + nobody + "/decommission"}, {"POST", "/hosts/-h/decommission"},
		{"DELETE", "/hosts/" + h + "/repositories/" + nobody}, {"POST", "/hosts/" + h + "/repositories/" + nobody + "/test"},
		{"DELETE", "/hosts/" + h + "/schedules/" + nobody}, {"POST", "/hosts/" + h + "/schedules/" + nobody + "/run"},
		{"POST", "/hosts/" + h + "/schedules/" + nobody + "/enable"}, {"POST", "/hosts/" + nobody + "/schedules/" + sid + "/disable"},
		{"POST", "/jobs/" + nobody + "/cancel"}, {"DELETE", "/users/" + nobody}, {"DELETE", "/users/" + nobody + "/sessions"},
		{"DELETE", "/api-tokens/" + nobody}, {"DELETE", "/enrollment-tokens/" + nobody}, {"DELETE", "/enrollment-tokens/--all"},
	} {
		cases = append(cases, bad{"unknown id", p.method, p.path, "", "", 404, protocol.CodeNotFound})
	}
	// Query parameters of listings.
	for _, p := range []string{"/hosts?limit=abc", "/hosts?order=up", "/jobs?kind=rm", "/jobs?until=soon", "/audit?since=1",
		"/users?cursor=%21%21", "/schedules/preview?cron=", "/schedules/preview?cron=@daily&count=99", "/jobs/" + jid + "/logs?after=-1"} {
		cases = append(cases, bad{"query", "GET", p, "", "", 400, v})
	}

	before := f.fingerprint()
	for _, c := range cases {
		headers := map[string]string{"Authorization": "Bearer " + f.adminToken}
		if c.contentType != "" {
			headers["Content-Type"] = c.contentType
		}
		var payload []byte
		if c.body != "" {
			payload = []byte(c.body)
		}
		st, code, raw := f.raw(nil, c.method, c.path, payload, headers)
		if st != c.status || code != c.code {
			t.Errorf("%s: %s %.80s: got %d %q, want %d %q: %.300s", c.name, c.method, c.path, st, code, c.status, c.code, raw)
		}
		if after := f.fingerprint(); after != before {
			t.Fatalf("%s: %s %.80s changed the database", c.name, c.method, c.path)
		}
	}
	t.Logf("%d bad requests refused without a change", len(cases))
}

func (f *fx) adminID() string {
	f.t.Helper()
	return call(f.admin.GetAuthMeWithResponse(ctx)).want(f.t, http.StatusOK).JSON200.User.Id.String()
}

func TestUsersAndAudit(t *testing.T) {
	t.Parallel()
	f := start(t)
	var ids []string
	for _, e := range []string{"c@example.test", "a@example.test", "b@example.test"} {
		u, _, _ := f.user(e, apiclient.UserCreateRoleViewer)
		ids = append(ids, u.Id.String())
	}
	var emails []string
	p := &apiclient.GetUsersParams{Limit: ptr(2)}
	for {
		pg := call(f.admin.GetUsersWithResponse(ctx, p)).want(t, 200).JSON200
		for _, u := range pg.Items {
			emails = append(emails, u.Email)
		}
		if pg.NextCursor == "" {
			break
		}
		p.Cursor = &pg.NextCursor
	}
	if strings.Join(emails, ",") != "a@example.test,admin@example.test,b@example.test,c@example.test" {
		t.Fatalf("users by email: %v", emails)
	}
	got := call(f.admin.GetUsersIdWithResponse(ctx, ids[0])).want(t, 200)
	if strings.Contains(string(got.Body), "argon2") || strings.Contains(string(got.Body), "password") {
		t.Fatalf("user answer shows the hash: %s", got.Body)
	}
	upd := call(f.admin.PatchUsersIdWithResponse(ctx, ids[0], apiclient.UserUpdate{Name: ptr("Cee"), Role: ptr(apiclient.UserUpdateRoleAdmin)})).want(t, 200).JSON200
	if upd.Name != "Cee" || upd.Role != apiclient.UserRoleAdmin {
		t.Fatalf("updated: %+v", upd)
	}
	// With a second admin the first may step down.
	call(f.admin.PatchUsersIdWithResponse(ctx, f.adminID(), apiclient.UserUpdate{Role: ptr(apiclient.UserUpdateRoleOperator)})).want(t, 200)
	call(f.admin.GetUsersWithResponse(ctx, nil)).wantErr(t, 403, protocol.CodeForbidden)
	c := f.login("c@example.test", userPassword)
	call(c.c.PatchUsersIdWithResponse(ctx, ids[0], apiclient.UserUpdate{Password: ptr("a-new-password-1")})).want(t, 200)
	call(c.c.GetAuthMeWithResponse(ctx)).want(t, 401) // a new password signs the account out everywhere
	c = f.login("c@example.test", "a-new-password-1")
	call(c.c.DeleteUsersIdWithResponse(ctx, ids[1])).want(t, 200)
	call(c.c.GetUsersIdWithResponse(ctx, ids[1])).wantErr(t, 404, protocol.CodeNotFound)

	// The audit log: who, what, when, from where; filters and pages.
	all := call(c.c.GetAuditWithResponse(ctx, &apiclient.GetAuditParams{Limit: ptr(500)})).want(t, 200).JSON200.Items
	var actions []string
	for _, e := range all {
		actions = append(actions, e.Action)
		if e.RemoteAddr != "127.0.0.1" || e.At.IsZero() || e.ActorType == "" {
			t.Errorf("entry without actor, time or address: %+v", e)
		}
	}
	joined := strings.Join(actions, " ")
	for _, want := range []string{"user.create", "user.update", "user.delete", "auth.login", "api_token.create"} {
		if !strings.Contains(joined, want) {
			t.Errorf("no %s in the audit log: %v", want, actions)
		}
	}
	del := call(c.c.GetAuditWithResponse(ctx, &apiclient.GetAuditParams{Action: ptr("user.delete")})).want(t, 200).JSON200.Items
	if len(del) != 1 || del[0].TargetId != ids[1] || del[0].ActorName != "c@example.test" || del[0].ActorType != apiclient.AuditEntryActorTypeUser {
		t.Fatalf("user.delete entry: %+v", del)
	}
	byToken := call(c.c.GetAuditWithResponse(ctx, &apiclient.GetAuditParams{TargetId: ptr(ids[0]), Action: ptr("user.update")})).want(t, 200).JSON200.Items
	if len(byToken) != 2 || byToken[1].ActorType != apiclient.AuditEntryActorTypeToken || !strings.Contains(byToken[1].ActorName, "(token admin-token)") {
		t.Fatalf("entries about c: %+v", byToken)
	}
	if d := byToken[0].Details; d == nil || (*d)["password"] != "(changed)" {
		t.Fatalf("password change details: %+v", byToken[0].Details)
	}
	var n int
	ap := &apiclient.GetAuditParams{Limit: ptr(3)}
	for {
		pg := call(c.c.GetAuditWithResponse(ctx, ap)).want(t, 200).JSON200
		n += len(pg.Items)
		if pg.NextCursor == "" {
			break
		}
		ap.Cursor = &pg.NextCursor
	}
	if n != len(all) {
		t.Fatalf("paged %d entries, listed %d", n, len(all))
	}
}
