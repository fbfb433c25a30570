package notifications

import (
	"encoding/json"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/nicholas-fedor/shoutrrr"

	"github.com/restic-manager/restic-manager/server/internal/store"
)

// WebhookConfig posts the event as JSON to URL. With a Secret, the body is signed:
// header X-RM-Signature-256 is "sha256=" + hex(HMAC-SHA256(secret, body)).
type WebhookConfig struct {
	URL     string            `json:"url"`
	Secret  string            `json:"secret,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

// EmailConfig sends mail through an SMTP server. Security is "starttls" (default: the
// server must offer it), "tls" (implicit TLS, usually port 465) or "none" (only for a
// relay on a trusted network; no authentication is sent over it unless the server is
// on loopback).
type EmailConfig struct {
	Host     string   `json:"host"`
	Port     int      `json:"port,omitempty"`
	Security string   `json:"security,omitempty"`
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
	From     string   `json:"from"`
	To       []string `json:"to"`
}

// ChatConfig sends a text message through a shoutrrr service URL (slack://, discord://,
// telegram://, gotify://, ntfy://, matrix://, teams://, generic://, …).
type ChatConfig struct {
	URL string `json:"url"`
}

// Email security modes.
const (
	SecuritySTARTTLS = "starttls"
	SecurityTLS      = "tls"
	SecurityNone     = "none"
)

// FieldError is a configuration error about one field.
type FieldError struct {
	Field   string
	Message string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Message }

func fieldErr(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Message: fmt.Sprintf(format, args...)}
}

var headerNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]{0,63}$`)

// reservedHeaders are set by the server and cannot be overridden.
var reservedHeaders = []string{"content-type", "content-length", "host", "user-agent", "x-rm-event", "x-rm-delivery", "x-rm-signature-256", "transfer-encoding", "connection"}

// Prepare validates a channel's settings (JSON of WebhookConfig, EmailConfig or
// ChatConfig) and returns them normalised, with a summary that may be shown to anyone
// who can read channels (no secrets). old, when not nil, holds the current settings: a
// secret left empty keeps its old value.
func Prepare(typ string, raw, old []byte) ([]byte, string, error) {
	switch typ {
	case store.ChannelWebhook:
		var c, prev WebhookConfig
		if err := unmarshal(raw, &c, old, &prev); err != nil {
			return nil, "", err
		}
		// The URL (which may hold a token), the secret and the header values are
		// write-only: left out, they keep their values.
		if c.URL == "" {
			c.URL = prev.URL
		}
		if c.Secret == "" {
			c.Secret = prev.Secret
		}
		if c.Headers == nil {
			c.Headers = prev.Headers
		}
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(c.URL) > 2000 {
			return nil, "", fieldErr("webhook.url", "must be an http:// or https:// URL")
		}
		if u.User != nil {
			return nil, "", fieldErr("webhook.url", "may not carry credentials: use headers")
		}
		if len(c.Secret) > 512 {
			return nil, "", fieldErr("webhook.secret", "at most 512 characters")
		}
		if len(c.Headers) > 20 {
			return nil, "", fieldErr("webhook.headers", "at most 20 headers")
		}
		for k, v := range c.Headers {
			if !headerNameRE.MatchString(k) || slices.Contains(reservedHeaders, strings.ToLower(k)) {
				return nil, "", fieldErr("webhook.headers", "%q is not a header name that may be set", k)
			}
			if len(v) > 4096 || strings.ContainsAny(v, "\r\n\x00") {
				return nil, "", fieldErr("webhook.headers", "the value of %q is too long or spans lines", k)
			}
		}
		out, err := json.Marshal(c)
		return out, u.Scheme + "://" + u.Host, err
	case store.ChannelEmail:
		var c, prev EmailConfig
		if err := unmarshal(raw, &c, old, &prev); err != nil {
			return nil, "", err
		}
		if c.Password == "" && c.Username != "" && c.Username == prev.Username {
			c.Password = prev.Password
		}
		if c.Security == "" {
			c.Security = SecuritySTARTTLS
		}
		if !slices.Contains([]string{SecuritySTARTTLS, SecurityTLS, SecurityNone}, c.Security) {
			return nil, "", fieldErr("email.security", "must be starttls, tls or none")
		}
		if c.Port == 0 {
			c.Port = map[string]int{SecuritySTARTTLS: 587, SecurityTLS: 465, SecurityNone: 25}[c.Security]
		}
		c.Host = strings.TrimSpace(c.Host)
		if c.Host == "" || len(c.Host) > 253 || strings.ContainsAny(c.Host, " /[]\r\n\x00") {
			return nil, "", fieldErr("email.host", "required: the SMTP server's host name or address")
		}
		if c.Port < 1 || c.Port > 65535 {
			return nil, "", fieldErr("email.port", "must be from 1 to 65535")
		}
		if (c.Username == "") != (c.Password == "") {
			return nil, "", fieldErr("email.password", "username and password go together")
		}
		from, err := mail.ParseAddress(c.From)
		if err != nil {
			return nil, "", fieldErr("email.from", "is not an email address")
		}
		c.From = from.String()
		if len(c.To) == 0 || len(c.To) > 50 {
			return nil, "", fieldErr("email.to", "one to 50 recipients")
		}
		for i, t := range c.To {
			a, err := mail.ParseAddress(t)
			if err != nil {
				return nil, "", fieldErr("email.to", "%q is not an email address", t)
			}
			c.To[i] = a.Address
		}
		out, err := json.Marshal(c)
		return out, fmt.Sprintf("%s:%d → %s", c.Host, c.Port, strings.Join(c.To, ", ")), err
	case store.ChannelChat:
		var c, prev ChatConfig
		if err := unmarshal(raw, &c, old, &prev); err != nil {
			return nil, "", err
		}
		if c.URL == "" {
			c.URL = prev.URL
		}
		if len(c.URL) > 4000 {
			return nil, "", fieldErr("chat.url", "at most 4000 characters")
		}
		if _, err := shoutrrr.CreateSender(c.URL); err != nil {
			return nil, "", fieldErr("chat.url", "not a service URL shoutrrr understands: %s", redactURLError(err, c.URL))
		}
		scheme, _, _ := strings.Cut(c.URL, "://")
		out, err := json.Marshal(c)
		return out, scheme, err
	}
	return nil, "", fieldErr("type", "must be one of %s", strings.Join(store.ChannelTypes, ", "))
}

func unmarshal(raw []byte, v any, old []byte, prev any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fieldErr("config", "invalid settings: %v", err)
	}
	if len(old) > 0 {
		if err := json.Unmarshal(old, prev); err != nil {
			return fmt.Errorf("notifications: stored settings: %w", err)
		}
	}
	return nil
}

// redactURLError keeps a service URL (which holds tokens) out of an error message.
func redactURLError(err error, raw string) string {
	msg := err.Error()
	if raw != "" {
		msg = strings.ReplaceAll(msg, raw, "(url)")
	}
	return msg
}
