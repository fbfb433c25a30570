package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
	"github.com/restic-manager/restic-manager/server/internal/storetest"
)

// eachDialect runs an operator-store test against PostgreSQL and the embedded SQLite
// (the same helper as forEachDialect in store_test.go, kept separate so the files stay
// independent).
func eachDialect(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	for _, d := range storetest.Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, storetest.Open(t, d))
		})
	}
}

func mkUser(t *testing.T, s *store.Store, email, role string) store.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), store.NewUser{Email: email, Role: role, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestOperatorUsers(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		if err := s.AddSetupToken(ctx, "hash-1", time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateFirstAdmin(ctx, store.NewUser{Email: "A@x.test", PasswordHash: "h"}, "wrong"); !errors.Is(err, store.ErrSetupTokenInvalid) {
			t.Fatalf("wrong setup token: %v", err)
		}
		admin, err := s.CreateFirstAdmin(ctx, store.NewUser{Email: "A@x.test", PasswordHash: "h"}, "hash-1")
		if err != nil || admin.Role != store.RoleAdmin || admin.Email != "a@x.test" {
			t.Fatalf("first admin: %+v %v", admin, err)
		}
		if _, err := s.CreateFirstAdmin(ctx, store.NewUser{Email: "b@x.test", PasswordHash: "h"}, ""); !errors.Is(err, store.ErrSetupDone) {
			t.Fatalf("second setup: %v", err)
		}
		if _, err := s.CreateUser(ctx, store.NewUser{Email: "a@X.test", Role: store.RoleViewer, PasswordHash: "h"}); !errors.Is(err, store.ErrConflict) {
			t.Fatalf("duplicate email: %v", err)
		}
		if u, err := s.UserByEmail(ctx, " A@X.TEST "); err != nil || u.ID != admin.ID {
			t.Fatalf("by email: %v", err)
		}
		// The last enabled admin can be neither demoted, disabled nor deleted.
		viewer := store.RoleViewer
		yes := true
		if _, err := s.UpdateUser(ctx, admin.ID, store.UserUpdate{Role: &viewer}); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("demote last admin: %v", err)
		}
		if _, err := s.UpdateUser(ctx, admin.ID, store.UserUpdate{Disabled: &yes}); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("disable last admin: %v", err)
		}
		if err := s.DeleteUser(ctx, admin.ID); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("delete last admin: %v", err)
		}
		second := mkUser(t, s, "c@x.test", store.RoleAdmin)
		if _, err := s.UpdateUser(ctx, admin.ID, store.UserUpdate{Role: &viewer}); err != nil {
			t.Fatalf("demote with another admin: %v", err)
		}
		if err := s.DeleteUser(ctx, second.ID); !errors.Is(err, store.ErrLastAdmin) {
			t.Fatalf("delete the now last admin: %v", err)
		}
		// Disabling revokes sessions.
		_, tok, _, err := s.CreateSession(ctx, store.NewSession{UserID: admin.ID, TTL: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.UpdateUser(ctx, admin.ID, store.UserUpdate{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionByToken(ctx, tok); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("session of a disabled user: %v", err)
		}
		// Pagination by email.
		for i := range 5 {
			mkUser(t, s, fmt.Sprintf("p%d@x.test", i), store.RoleViewer)
		}
		var emails []string
		cur := ""
		for {
			us, next, err := s.ListUsers(ctx, store.PageRequest{Limit: 3, Cursor: cur})
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range us {
				emails = append(emails, u.Email)
			}
			if next == "" {
				break
			}
			cur = next
		}
		if len(emails) != 7 || !slices.IsSorted(emails) {
			t.Fatalf("paged users: %v", emails)
		}
		if _, _, err := s.ListUsers(ctx, store.PageRequest{Cursor: "!!"}); !errors.Is(err, store.ErrInvalidArgument) {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}

func TestOperatorSessionsAndTokens(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		u := mkUser(t, s, "op@x.test", store.RoleOperator)
		sess, tok, csrf, err := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour, RemoteAddr: "127.0.0.1"})
		if err != nil || tok == "" || csrf == "" || tok == csrf {
			t.Fatalf("create session: %v", err)
		}
		got, gu, err := s.SessionByToken(ctx, tok)
		if err != nil || got.ID != sess.ID || gu.ID != u.ID {
			t.Fatalf("lookup: %v", err)
		}
		// Touch writes only when stale.
		later := time.Now().Add(time.Minute)
		if err := s.TouchSession(ctx, sess.ID, later, sess.LastSeenAt.Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := s.SessionByToken(ctx, tok); got.LastSeenAt.Sub(sess.LastSeenAt) > time.Second {
			t.Fatalf("touch wrote although the stored time was fresh")
		}
		if err := s.TouchSession(ctx, sess.ID, later, later); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := s.SessionByToken(ctx, tok); got.LastSeenAt.Sub(later).Abs() > time.Millisecond {
			t.Fatalf("touch did not write: %v", got.LastSeenAt)
		}
		_, tok2, _, _ := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Hour})
		if list, err := s.ListSessions(ctx, u.ID); err != nil || len(list) != 2 {
			t.Fatalf("list sessions: %d %v", len(list), err)
		}
		if n, err := s.RevokeUserSessions(ctx, u.ID, sess.ID); err != nil || n != 1 {
			t.Fatalf("revoke others: %d %v", n, err)
		}
		if _, _, err := s.SessionByToken(ctx, tok2); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoked session: %v", err)
		}
		if err := s.RevokeSession(ctx, "someone-else", sess.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoke another's session: %v", err)
		}
		if err := s.RevokeSession(ctx, u.ID, sess.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.SessionByToken(ctx, tok); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoked session: %v", err)
		}
		_, short, _, _ := s.CreateSession(ctx, store.NewSession{UserID: u.ID, TTL: time.Millisecond})
		time.Sleep(20 * time.Millisecond)
		if _, _, err := s.SessionByToken(ctx, short); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired session: %v", err)
		}

		// API tokens.
		plain, at, err := s.CreateAPIToken(ctx, store.NewAPIToken{UserID: u.ID, Name: "ci", Role: store.RoleViewer})
		if err != nil {
			t.Fatal(err)
		}
		if got, owner, err := s.APITokenByToken(ctx, plain); err != nil || got.ID != at.ID || owner.ID != u.ID {
			t.Fatalf("token lookup: %v", err)
		}
		if err := s.TouchAPIToken(ctx, at.ID, "10.0.0.1", time.Now(), time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.APITokenByID(ctx, at.ID); got.LastUsedAt == nil || got.LastUsedAddr != "10.0.0.1" || got.UserEmail != u.Email {
			t.Fatalf("after touch: %+v", got)
		}
		past := time.Now().Add(-time.Second)
		expired, _, _ := s.CreateAPIToken(ctx, store.NewAPIToken{UserID: u.ID, Name: "old", Role: store.RoleViewer, ExpiresAt: &past})
		if _, _, err := s.APITokenByToken(ctx, expired); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("expired token: %v", err)
		}
		other := mkUser(t, s, "other@x.test", store.RoleAdmin)
		if _, err := s.RevokeAPIToken(ctx, other.ID, at.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoke another's token: %v", err)
		}
		if _, err := s.RevokeAPIToken(ctx, u.ID, at.ID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.APITokenByToken(ctx, plain); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("revoked token: %v", err)
		}
		mine, _, err := s.ListAPITokens(ctx, u.ID, store.PageRequest{})
		if err != nil || len(mine) != 2 {
			t.Fatalf("list own tokens: %d %v", len(mine), err)
		}
		if all, _, _ := s.ListAPITokens(ctx, "", store.PageRequest{}); len(all) != 2 {
			t.Fatalf("list all tokens: %d", len(all))
		}
		// Deleting the owner removes the tokens.
		if err := s.DeleteUser(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		if all, _, _ := s.ListAPITokens(ctx, "", store.PageRequest{}); len(all) != 0 {
			t.Fatalf("tokens of a deleted user: %d", len(all))
		}
	})
}

func TestOperatorAudit(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		for i := range 7 {
			e := store.AuditEntry{ActorType: store.AuditActorUser, ActorID: "u1", Action: "host.rename", TargetType: "host",
				TargetID: fmt.Sprint(i % 2), RemoteAddr: "127.0.0.1", Details: map[string]any{"name": fmt.Sprint("n", i)}}
			if err := s.AddAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.AddAudit(ctx, store.AuditEntry{ActorType: store.AuditActorUser, Action: "user.create"}); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		cur := ""
		for {
			es, next, err := s.ListAudit(ctx, store.AuditFilter{Action: "host.rename"}, store.PageRequest{Limit: 3, Cursor: cur})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range es {
				ids = append(ids, e.ID)
			}
			if next == "" {
				break
			}
			cur = next
		}
		if len(ids) != 7 || !slices.IsSortedFunc(ids, func(a, b int64) int { return int(b - a) }) {
			t.Fatalf("audit pages: %v", ids)
		}
		es, _, _ := s.ListAudit(ctx, store.AuditFilter{TargetType: "host", TargetID: "1"}, store.PageRequest{})
		if len(es) != 3 || es[0].Details["name"] != "n5" {
			t.Fatalf("by target: %+v", es)
		}
	})
}

func TestOperatorHostListing(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var hosts []store.Host
		var creds []string
		for _, n := range []string{"web-2", "web-1", "db_1", "cache", "Web-3"} {
			h, cred := enrollHost(t, s, n)
			hosts = append(hosts, h)
			creds = append(creds, cred)
		}
		now := time.Now().UTC()
		if err := s.TouchLastSeen(ctx, map[string]time.Time{hosts[0].ID: now, hosts[1].ID: now.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
		storetest.Must(s.SetHostLabels(ctx, hosts[0].ID, map[string]string{"env": "prod", "team": "a"}))
		storetest.Must(s.SetHostLabels(ctx, hosts[1].ID, map[string]string{"env": "prod"}))
		storetest.Must(s.SetHostLabels(ctx, hosts[2].ID, map[string]string{"env": "dev", "team": "a"}))
		storetest.Must(s.RenameHost(ctx, hosts[3].ID, "cache-%"))

		names := func(f store.HostFilter) []string {
			t.Helper()
			var out []string
			cur := ""
			for {
				hs, next, err := s.ListHosts(ctx, f, store.PageRequest{Limit: 2, Cursor: cur})
				if err != nil {
					t.Fatalf("%+v: %v", f, err)
				}
				for _, h := range hs {
					out = append(out, h.Name)
				}
				if next == "" {
					return out
				}
				cur = next
			}
		}
		since := now.Add(-2 * time.Minute)
		cases := []struct {
			f    store.HostFilter
			want []string
		}{
			{store.HostFilter{}, []string{"Web-3", "cache-%", "db_1", "web-1", "web-2"}},
			{store.HostFilter{Desc: true}, []string{"web-2", "web-1", "db_1", "cache-%", "Web-3"}},
			{store.HostFilter{Search: "WEB"}, []string{"Web-3", "web-1", "web-2"}},
			{store.HostFilter{Search: "%"}, []string{"cache-%"}},
			{store.HostFilter{Search: "_"}, []string{"db_1"}},
			{store.HostFilter{Search: hosts[2].ID}, []string{"db_1"}},
			{store.HostFilter{Labels: map[string]string{"env": "prod"}}, []string{"web-1", "web-2"}},
			{store.HostFilter{Labels: map[string]string{"env": "prod", "team": "a"}}, []string{"web-2"}},
			{store.HostFilter{LabelKeys: []string{"team"}}, []string{"db_1", "web-2"}},
			{store.HostFilter{Status: store.HostOnline, OnlineSince: since}, []string{"web-2"}},
			{store.HostFilter{Status: store.HostOffline, OnlineSince: since}, []string{"Web-3", "cache-%", "db_1", "web-1"}},
			{store.HostFilter{Sort: store.HostSortLastSeen, Desc: true}, nil}, // checked below
			{store.HostFilter{Sort: store.HostSortCreated}, []string{"web-2", "web-1", "db_1", "cache-%", "Web-3"}},
		}
		for _, c := range cases {
			got := names(c.f)
			if c.want != nil && !slices.Equal(got, c.want) {
				t.Errorf("%+v: got %v, want %v", c.f, got, c.want)
			}
			if c.want == nil && (len(got) != 5 || got[0] != "web-2" || got[1] != "web-1") {
				t.Errorf("by last seen: %v", got)
			}
		}
		if _, _, err := s.ListHosts(ctx, store.HostFilter{Sort: "nope"}, store.PageRequest{}); !errors.Is(err, store.ErrInvalidArgument) {
			t.Fatalf("bad sort: %v", err)
		}
		counts := storetest.Must(s.CountHosts(ctx, since))
		if counts.Total != 5 || counts.Online != 1 || counts.Offline != 4 {
			t.Fatalf("counts: %+v", counts)
		}

		// Decommissioning revokes the credential and cancels open jobs.
		r := storetest.Must(s.CreateRepository(ctx, hosts[0].ID, store.RepositoryInput{Name: "r", URL: "/srv/r", Password: "pw"}))
		job, _, err := s.EnqueueRun(ctx, hosts[0].ID, store.RunRequest{Kind: protocol.KindSnapshots, RepositoryID: r.ID, ActorType: store.ActorUser})
		if err != nil {
			t.Fatal(err)
		}
		h := storetest.Must(s.DecommissionHost(ctx, hosts[0].ID))
		if h.DecommissionedAt == nil {
			t.Fatal("not decommissioned")
		}
		if _, err := s.HostIDByCredential(ctx, creds[0]); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("credential of a decommissioned host: %v", err)
		}
		if j := storetest.Must(s.JobByID(ctx, job.ID)); j.Status != protocol.JobCancelled {
			t.Fatalf("job after decommission: %s", j.Status)
		}
		if _, err := s.DecommissionHost(ctx, hosts[0].ID); err != nil {
			t.Fatalf("repeat decommission: %v", err)
		}
		if got := names(store.HostFilter{Status: store.HostDecommissioned}); !slices.Equal(got, []string{"web-2"}) {
			t.Fatalf("decommissioned: %v", got)
		}
		if got := names(store.HostFilter{}); len(got) != 4 {
			t.Fatalf("default hides decommissioned: %v", got)
		}
		if _, err := s.DecommissionHost(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown host: %v", err)
		}
	})
}

// TestOperatorHostListingAtScale lists 10,000 hosts with every sort and a few filters
// and checks that a page stays fast (the bound is generous: it catches a missing index
// or an accidental full sort per row, not noise).
func TestOperatorHostListingAtScale(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		db := storetest.Must(s.SQLDB())
		const n = 10000
		var q string
		if s.Dialect() == store.DialectPostgres {
			q = `INSERT INTO hosts (id, name, hostname, labels, last_seen_at, created_at, updated_at)
				SELECT 'h' || lpad(i::text, 6, '0'), 'host-' || (i * 7919 % 10000), 'fqdn-' || i,
				       ('{"env":"' || CASE WHEN i % 10 = 0 THEN 'prod' ELSE 'dev' END || '"}')::jsonb,
				       CASE WHEN i % 3 = 0 THEN NULL ELSE now() - (i || ' seconds')::interval END, now(), now()
				FROM generate_series(1, $1) AS i`
		} else {
			q = `WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
				INSERT INTO hosts (id, name, hostname, labels, last_seen_at, created_at, updated_at)
				SELECT printf('h%06d', i), 'host-' || (i * 7919 % 10000), 'fqdn-' || i,
				       '{"env":"' || CASE WHEN i % 10 = 0 THEN 'prod' ELSE 'dev' END || '"}',
				       CASE WHEN i % 3 = 0 THEN NULL ELSE strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || i || ' seconds') || '+00:00' END,
				       strftime('%Y-%m-%d %H:%M:%S+00:00', 'now'), strftime('%Y-%m-%d %H:%M:%S+00:00', 'now')
				FROM seq`
		}
		if _, err := db.ExecContext(ctx, q, n); err != nil {
			t.Fatal(err)
		}
		if s.Dialect() == store.DialectPostgres {
			if _, err := db.ExecContext(ctx, "ANALYZE hosts"); err != nil {
				t.Fatal(err)
			}
		}
		filters := []store.HostFilter{
			{}, {Desc: true}, {Sort: store.HostSortHostname}, {Sort: store.HostSortLastSeen, Desc: true},
			{Sort: store.HostSortCreated}, {Search: "host-99"}, {Labels: map[string]string{"env": "prod"}},
			{Status: store.HostOnline, OnlineSince: time.Now().Add(-time.Hour)},
		}
		for _, f := range filters {
			seen := map[string]bool{}
			cur := ""
			pages := 0
			var slowest time.Duration
			for {
				start := time.Now()
				hs, next, err := s.ListHosts(ctx, f, store.PageRequest{Limit: 500, Cursor: cur})
				if err != nil {
					t.Fatalf("%+v: %v", f, err)
				}
				slowest = max(slowest, time.Since(start))
				for _, h := range hs {
					if seen[h.ID] {
						t.Fatalf("%+v: host %s on two pages", f, h.ID)
					}
					seen[h.ID] = true
				}
				pages++
				if next == "" {
					break
				}
				cur = next
			}
			if f.Search == "" && len(f.Labels) == 0 && f.Status == "" && len(seen) != n {
				t.Fatalf("%+v: listed %d of %d hosts", f, len(seen), n)
			}
			t.Logf("%s %+v: %d hosts in %d pages, slowest page %s", s.Dialect(), f, len(seen), pages, slowest)
			if slowest > 2*time.Second {
				t.Errorf("%+v: a page took %s", f, slowest)
			}
		}
	})
}

func TestOperatorRepositoriesJobsSnapshots(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		f := newFixture(t, s)
		v0 := storetest.Must(s.PollState(ctx, f.host.ID)).ScheduleVersion

		// Update keeps secrets that are not sent and replaces those that are.
		name, rest := "renamed", "rest-secret"
		env := map[string]string{"AWS_SECRET_ACCESS_KEY": "k"}
		r, err := s.UpdateRepository(ctx, f.host.ID, f.repo.ID, store.RepositoryUpdate{Name: &name, RestPassword: &rest, Env: &env})
		if err != nil {
			t.Fatal(err)
		}
		set := storetest.Must(s.ScheduleSet(ctx, f.host.ID))
		wr := set.Repositories[0]
		if wr.Name != "renamed" || wr.Password != "s3cret-pw" || wr.RestPassword != "rest-secret" || wr.Env["AWS_SECRET_ACCESS_KEY"] != "k" {
			t.Fatalf("after update: %+v", wr)
		}
		if keys := storetest.Must(s.RepositoryEnvKeys(r)); !slices.Equal(keys, []string{"AWS_SECRET_ACCESS_KEY"}) {
			t.Fatalf("env keys: %v", keys)
		}
		empty := ""
		if _, err := s.UpdateRepository(ctx, f.host.ID, f.repo.ID, store.RepositoryUpdate{Password: &empty}); !errors.Is(err, store.ErrInvalidArgument) {
			t.Fatalf("clearing the password: %v", err)
		}
		if _, err := s.UpdateRepository(ctx, f.host.ID, f.repo.ID, store.RepositoryUpdate{RestPassword: &empty}); err != nil {
			t.Fatal(err)
		}
		if wr := storetest.Must(s.ScheduleSet(ctx, f.host.ID)).Repositories[0]; wr.RestPassword != "" {
			t.Fatalf("rest password not cleared")
		}
		if v := storetest.Must(s.PollState(ctx, f.host.ID)).ScheduleVersion; v <= v0 {
			t.Fatalf("update did not bump the schedule version")
		}

		// Jobs listing with filters and pages.
		var ids []string
		for i := range 5 {
			kind := protocol.KindSnapshots
			if i%2 == 0 {
				kind = protocol.KindCheck
			}
			j, _, err := s.EnqueueRun(ctx, f.host.ID, store.RunRequest{Kind: kind, RepositoryID: f.repo.ID, ActorType: store.ActorUser})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, j.ID)
			time.Sleep(2 * time.Millisecond)
		}
		if _, _, err := s.CancelJob(ctx, f.host.ID, ids[0], "test"); err != nil {
			t.Fatal(err)
		}
		var got []string
		cur := ""
		for {
			js, next, err := s.ListJobs(ctx, store.JobFilter{HostID: f.host.ID}, store.PageRequest{Limit: 2, Cursor: cur})
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range js {
				got = append(got, j.ID)
			}
			if next == "" {
				break
			}
			cur = next
		}
		slices.Reverse(ids)
		if !slices.Equal(got, ids) {
			t.Fatalf("jobs newest first: %v, want %v", got, ids)
		}
		if js, _, _ := s.ListJobs(ctx, store.JobFilter{Kind: protocol.KindCheck, Statuses: []string{protocol.JobQueued}}, store.PageRequest{}); len(js) != 2 {
			t.Fatalf("check+queued: %d", len(js))
		}
		if js, _, _ := s.ListJobs(ctx, store.JobFilter{Since: time.Now().Add(time.Hour)}, store.PageRequest{}); len(js) != 0 {
			t.Fatalf("future since: %d", len(js))
		}

		// Logs by range.
		lines := []protocol.LogLine{{Seq: 1, Text: "a"}, {Seq: 2, Text: "b"}, {Seq: 3, Text: "c"}}
		if _, _, err := s.AppendLogs(ctx, f.host.ID, ids[0], lines); err != nil {
			t.Fatal(err)
		}
		if ls := storetest.Must(s.LogRange(ctx, ids[0], 1, 2, 100)); len(ls) != 1 || ls[0].Text != "b" {
			t.Fatalf("log range: %+v", ls)
		}

		// Snapshots, paginated.
		var snaps []protocol.Snapshot
		base := time.Now().UTC().Truncate(time.Second)
		for i := range 5 {
			snaps = append(snaps, protocol.Snapshot{ID: fmt.Sprintf("%064d", i), Time: base.Add(time.Duration(i) * time.Minute), Paths: []string{"/etc"}})
		}
		if err := s.ReplaceSnapshots(ctx, f.host.ID, f.repo.ID, protocol.SnapshotReport{Snapshots: snaps}); err != nil {
			t.Fatal(err)
		}
		page1, next, err := s.ListSnapshots(ctx, f.host.ID, f.repo.ID, store.PageRequest{Limit: 3})
		if err != nil || len(page1) != 3 || next == "" || page1[0].SnapshotID != snaps[4].ID {
			t.Fatalf("snapshots page 1: %d %q %v", len(page1), next, err)
		}
		page2, next2, _ := s.ListSnapshots(ctx, f.host.ID, f.repo.ID, store.PageRequest{Limit: 3, Cursor: next})
		if len(page2) != 2 || next2 != "" || page2[1].SnapshotID != snaps[0].ID {
			t.Fatalf("snapshots page 2: %+v %q", page2, next2)
		}

		// Delete removes the repository's schedules and snapshots.
		storetest.Must(s.CreateSchedule(ctx, f.host.ID, backupSchedule(f.repo.ID)))
		if err := s.DeleteRepository(ctx, f.host.ID, f.repo.ID); err != nil {
			t.Fatal(err)
		}
		if scs := storetest.Must(s.Schedules(ctx, f.host.ID)); len(scs) != 0 {
			t.Fatalf("schedules after delete: %d", len(scs))
		}
		if sn, _, _ := s.ListSnapshots(ctx, f.host.ID, f.repo.ID, store.PageRequest{}); len(sn) != 0 {
			t.Fatalf("snapshots after delete: %d", len(sn))
		}
		if err := s.DeleteRepository(ctx, f.host.ID, f.repo.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("delete twice: %v", err)
		}
	})
}

func TestOperatorEnrollmentTokens(t *testing.T) {
	eachDialect(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		var ids []string
		for range 3 {
			_, rec, err := s.CreateEnrollmentToken(ctx, store.NewEnrollmentToken{TTL: time.Hour, MaxUses: 2})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, rec.ID)
			time.Sleep(2 * time.Millisecond)
		}
		page, next, err := s.ListEnrollmentTokens(ctx, store.PageRequest{Limit: 2})
		if err != nil || len(page) != 2 || page[0].ID != ids[2] || next == "" {
			t.Fatalf("page 1: %v", err)
		}
		page2, _, _ := s.ListEnrollmentTokens(ctx, store.PageRequest{Limit: 2, Cursor: next})
		if len(page2) != 1 || page2[0].ID != ids[0] {
			t.Fatalf("page 2: %+v", page2)
		}
		plain, rec, _ := s.CreateEnrollmentToken(ctx, store.NewEnrollmentToken{TTL: time.Hour, MaxUses: 2})
		r := storetest.Must(s.RevokeEnrollmentToken(ctx, rec.ID))
		if r.RevokedAt == nil {
			t.Fatal("not revoked")
		}
		if _, _, err := s.Enroll(ctx, plain, protocol.EnrollRequest{Hostname: "h"}); !errors.Is(err, store.ErrTokenInvalid) {
			t.Fatalf("revoked token enrolled: %v", err)
		}
		if _, err := s.RevokeEnrollmentToken(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("unknown token: %v", err)
		}
	})
}
