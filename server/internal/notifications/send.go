package notifications

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/nicholas-fedor/shoutrrr"
	"github.com/nicholas-fedor/shoutrrr/pkg/types"

	"github.com/restic-manager/restic-manager/common/buildinfo"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Headers of a webhook request.
const (
	HeaderEvent     = "X-RM-Event"
	HeaderDelivery  = "X-RM-Delivery"
	HeaderSignature = "X-RM-Signature-256"
)

// Sign returns the signature header value of a webhook body: "sha256=" followed by the
// hex HMAC-SHA256 of the body under the channel's secret.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against a body (for receivers written in Go).
func Verify(secret string, body []byte, header string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(header))
}

// smtpCode returns the SMTP reply code of a refused send (0: none).
func smtpCode(err error) int {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

func (n *Notifier) sendWebhook(ctx context.Context, c WebhookConfig, d store.NotificationDelivery) (int, error) {
	ev := d.Payload
	l := link(n.cfg.PublicURL, ev)
	body, err := json.Marshal(WebhookBody{DeliveryID: d.ID, Event: ev.Type, At: ev.At, Title: Title(ev), Text: Text(ev, l), URL: l,
		Host: ev.Host, Alert: ev.Alert, Job: ev.Job})
	if err != nil {
		return 0, permanent(fmt.Errorf("encode: %w", err))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return 0, permanent(err)
	}
	for k, v := range c.Headers {
		req.Header.Set(k, v)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "restic-manager/"+buildinfo.Version())
	req.Header.Set(HeaderEvent, ev.Type)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	if c.Secret != "" {
		req.Header.Set(HeaderSignature, Sign(c.Secret, body))
	}
	return n.do(req)
}

// do sends a request and reads the answer's status; anything but 2xx is an error.
func (n *Notifier) do(req *http.Request) (int, error) {
	resp, err := n.client.Do(req)
	if err != nil {
		return 0, redactURL(err)
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		msg := strings.TrimSpace(string(snippet))
		if msg != "" {
			msg = ": " + msg
		}
		return resp.StatusCode, fmt.Errorf("HTTP %d%s", resp.StatusCode, msg)
	}
	return resp.StatusCode, nil
}

// redactURL drops the URL from a client error: it may hold a token.
func redactURL(err error) error {
	var ue interface{ Unwrap() error }
	if errors.As(err, &ue) {
		if inner := ue.Unwrap(); inner != nil {
			return fmt.Errorf("request failed: %w", inner)
		}
	}
	return err
}

func (n *Notifier) sendPing(ctx context.Context, d store.NotificationDelivery) (int, error) {
	base, err := n.store.PingURL(ctx, d.TargetID)
	if err != nil {
		return 0, permanent(fmt.Errorf("the schedule has no ping URL any more"))
	}
	ev := d.Payload
	body := ""
	if ev.Job != nil {
		body = ev.Job.Kind + " " + ev.Job.Status
		if ev.Job.Error != "" {
			body += ": " + firstLines(ev.Job.Error, 20)
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(base, "/")+ev.PingPath, strings.NewReader(body))
	if err != nil {
		return 0, permanent(err)
	}
	req.Header.Set("Content-Type", "text/plain; charset=utf-8")
	req.Header.Set("User-Agent", "restic-manager/"+buildinfo.Version())
	return n.do(req)
}

func (n *Notifier) sendChat(c ChatConfig, ev store.NotificationEvent) error {
	sender, err := shoutrrr.CreateSender(c.URL)
	if err != nil {
		return permanent(fmt.Errorf("service URL: %s", redactURLError(err, c.URL)))
	}
	sender.Timeout = n.cfg.Timeout
	title := Title(ev)
	text := title + "\n" + Text(ev, link(n.cfg.PublicURL, ev))
	for _, err := range sender.Send(text, &types.Params{"title": title}) {
		if err != nil {
			return errors.New(redactURLError(err, c.URL))
		}
	}
	return nil
}

func (n *Notifier) sendEmail(ctx context.Context, c EmailConfig, d store.NotificationDelivery) error {
	ev := d.Payload
	msg, err := buildMessage(c, ev, Title(ev), Text(ev, link(n.cfg.PublicURL, ev)), n.cfg.Now())
	if err != nil {
		return permanent(err)
	}
	addr := net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
	dialer := &net.Dialer{Timeout: n.cfg.Timeout}
	var conn net.Conn
	tlsCfg := &tls.Config{ServerName: c.Host, MinVersion: tls.VersionTLS12}
	if c.Security == SecurityTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsCfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect to %s: %w", addr, err)
	}
	deadline := time.Now().Add(n.cfg.Timeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	_ = conn.SetDeadline(deadline)
	client, err := smtp.NewClient(conn, c.Host)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("smtp greeting: %w", err)
	}
	defer client.Close()
	if c.Security == SecuritySTARTTLS {
		if ok, _ := client.Extension("STARTTLS"); !ok {
			return fmt.Errorf("%s does not offer STARTTLS (use security \"tls\" or, on a trusted network, \"none\")", addr)
		}
		if err := client.StartTLS(tlsCfg); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if c.Username != "" {
		// PlainAuth refuses to send the password over an unencrypted connection unless
		// the server is on loopback.
		if err := client.Auth(smtp.PlainAuth("", c.Username, c.Password, c.Host)); err != nil {
			return fmt.Errorf("smtp auth: %w", err)
		}
	}
	from, _ := parseAddr(c.From)
	if err := client.Mail(from); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, to := range c.To {
		if err := client.Rcpt(to); err != nil {
			return fmt.Errorf("RCPT TO %s: %w", to, err)
		}
	}
	w, err := client.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	return client.Quit()
}

func parseAddr(s string) (string, error) {
	if i, j := strings.LastIndexByte(s, '<'), strings.LastIndexByte(s, '>'); i >= 0 && j > i {
		return s[i+1 : j], nil
	}
	return s, nil
}

// buildMessage writes an RFC 5322 message: UTF-8 text, quoted-printable.
func buildMessage(c EmailConfig, ev store.NotificationEvent, subject, text string, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	rnd := make([]byte, 12)
	_, _ = rand.Read(rnd)
	from, _ := parseAddr(c.From)
	domain := "restic-manager.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok {
		domain = d
	}
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", c.From)
	hdr("To", strings.Join(c.To, ", "))
	hdr("Subject", mime.QEncoding.Encode("utf-8", subject))
	hdr("Date", now.UTC().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+hex.EncodeToString(rnd)+"@"+domain+">")
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "text/plain; charset=utf-8")
	hdr("Content-Transfer-Encoding", "quoted-printable")
	hdr("Auto-Submitted", "auto-generated")
	hdr(HeaderEvent, ev.Type)
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(strings.ReplaceAll(text, "\n", "\r\n") + "\r\n")); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
