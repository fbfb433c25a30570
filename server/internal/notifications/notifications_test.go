package notifications

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/server/internal/store"
)

func TestPrepare(t *testing.T) {
	cases := []struct {
		name, typ, raw, old string
		field               string // expected FieldError field; "" for success
		summary             string
	}{
		{"webhook", store.ChannelWebhook, `{"url":"https://hooks.example.com/a/secret","secret":"s"}`, "", "", "https://hooks.example.com"},
		{"webhook keeps its URL and secret", store.ChannelWebhook, `{}`, `{"url":"http://x.example/p","secret":"s","headers":{"X-A":"1"}}`, "", "http://x.example"},
		{"webhook without URL", store.ChannelWebhook, `{}`, "", "webhook.url", ""},
		{"webhook with credentials in the URL", store.ChannelWebhook, `{"url":"https://u:p@x.example"}`, "", "webhook.url", ""},
		{"webhook header spanning lines", store.ChannelWebhook, `{"url":"https://x","headers":{"X-A":"a\r\nB: c"}}`, "", "webhook.headers", ""},
		{"webhook reserved header", store.ChannelWebhook, `{"url":"https://x","headers":{"X-RM-Signature-256":"forged"}}`, "", "webhook.headers", ""},
		{"email", store.ChannelEmail, `{"host":"smtp.example.com","from":"RM <rm@example.com>","to":["a@example.com"]}`, "", "", "smtp.example.com:587 → a@example.com"},
		{"email implicit TLS", store.ChannelEmail, `{"host":"smtp.example.com","security":"tls","from":"rm@example.com","to":["a@example.com"]}`, "", "", "smtp.example.com:465 → a@example.com"},
		{"email keeps its password", store.ChannelEmail, `{"host":"h","username":"u","from":"rm@x.example","to":["a@x.example"]}`, `{"username":"u","password":"p"}`, "", "h:587 → a@x.example"},
		{"email: a new username needs its password", store.ChannelEmail, `{"host":"h","username":"v","from":"rm@x.example","to":["a@x.example"]}`, `{"username":"u","password":"p"}`, "email.password", ""},
		{"email bad security", store.ChannelEmail, `{"host":"h","security":"ssl","from":"a@x","to":["a@x"]}`, "", "email.security", ""},
		{"email bad recipient", store.ChannelEmail, `{"host":"h","from":"a@x","to":["not an address"]}`, "", "email.to", ""},
		{"email host with a path", store.ChannelEmail, `{"host":"h/x","from":"a@x","to":["a@x"]}`, "", "email.host", ""},
		{"chat", store.ChannelChat, `{"url":"ntfy://ntfy.sh/backups"}`, "", "", "ntfy"},
		{"chat unknown service", store.ChannelChat, `{"url":"carrier-pigeon://coop"}`, "", "chat.url", ""},
		{"unknown type", "fax", `{}`, "", "type", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var old []byte
			if c.old != "" {
				old = []byte(c.old)
			}
			out, summary, err := Prepare(c.typ, []byte(c.raw), old)
			var fe *FieldError
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.field != "" && (!errors.As(err, &fe) || fe.Field != c.field):
				t.Fatalf("error %v, want one about %s", err, c.field)
			case c.field == "" && summary != c.summary:
				t.Fatalf("summary %q, want %q", summary, c.summary)
			}
			if c.field == "" && c.old != "" {
				var merged map[string]any
				_ = json.Unmarshal(out, &merged)
				if merged["secret"] == nil && merged["password"] == nil {
					t.Fatalf("write-only values not kept: %s", out)
				}
			}
		})
	}
	// A service URL never appears in an error: it holds tokens.
	if _, _, err := Prepare(store.ChannelChat, []byte(`{"url":"slack://bad-token-123"}`), nil); err == nil || strings.Contains(err.Error(), "bad-token-123") {
		t.Fatalf("chat error: %v", err)
	}
}

func TestSignature(t *testing.T) {
	// RFC 4231, test case 2.
	body := []byte("what do ya want for nothing?")
	sig := Sign("Jefe", body)
	if sig != "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" {
		t.Fatalf("signature %s", sig)
	}
	if !Verify("Jefe", body, sig) || Verify("other", body, sig) || Verify("Jefe", append(body, ' '), sig) {
		t.Fatal("verify")
	}
}

func TestRenderAndMessage(t *testing.T) {
	opened := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	ev := store.NotificationEvent{Type: store.EventAlertOpened, At: opened,
		Host:  &store.EventHost{ID: "h1", Name: "web-1", Hostname: "web-1.example", Labels: map[string]string{"env": "prod", "team": "ops"}},
		Alert: &store.EventAlert{ID: "a1", Condition: store.ConditionBackupObjective, Severity: store.SeverityCritical, Message: "Backup objective violated: …", OpenedAt: opened}}
	if got := Title(ev); got != "[CRITICAL] web-1: backup objective" {
		t.Fatalf("title %q", got)
	}
	text := Text(ev, link("https://rm.example/", ev))
	for _, want := range []string{"Backup objective violated", "Host: web-1 (web-1.example) [env=prod, team=ops]", "https://rm.example/hosts/h1"} {
		if !strings.Contains(text, want) {
			t.Fatalf("text lacks %q:\n%s", want, text)
		}
	}
	job := store.NotificationEvent{Type: store.EventJobFailed, At: opened, Host: ev.Host,
		Job: &store.EventJob{ID: "j1", Kind: "backup", Status: "failed", Error: "Fatal: wrong password", RepositoryName: "offsite", FinishedAt: &opened, DurationSeconds: 75}}
	if got := Title(job); got != "[FAILED] web-1: backup job failed" {
		t.Fatalf("job title %q", got)
	}
	if text := Text(job, link("https://rm.example", job)); !strings.Contains(text, "on repository offsite") || !strings.Contains(text, "after 1m15s") ||
		!strings.Contains(text, "Error: Fatal: wrong password") || !strings.Contains(text, "https://rm.example/jobs/j1") {
		t.Fatalf("job text:\n%s", text)
	}
	msg, err := buildMessage(EmailConfig{From: "RM <rm@example.com>", To: []string{"a@example.com", "b@example.com"}}, ev, "Überwachung: "+Title(ev), "Zeile ü\nline 2", opened)
	if err != nil {
		t.Fatal(err)
	}
	m := string(msg)
	for _, want := range []string{"Subject: =?utf-8?q?", "To: a@example.com, b@example.com\r\n", "Content-Transfer-Encoding: quoted-printable\r\n",
		"Message-ID: <", "@example.com>\r\n", "Zeile =C3=BC\r\nline 2\r\n"} {
		if !strings.Contains(m, want) {
			t.Fatalf("message lacks %q:\n%s", want, m)
		}
	}
}

func TestBackoff(t *testing.T) {
	n := New(Config{BackoffBase: 30 * time.Second, BackoffMax: 10 * time.Minute}, nil, nil, Hooks{})
	for attempt, base := range map[int]time.Duration{1: 30 * time.Second, 2: time.Minute, 3: 2 * time.Minute, 5: 8 * time.Minute, 9: 10 * time.Minute} {
		for range 20 {
			if d := n.backoff(attempt); d < base || d > base+base/5 {
				t.Fatalf("backoff(%d) = %s, want %s to %s", attempt, d, base, base+base/5)
			}
		}
	}
}
