package notifications

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/restic-manager/restic-manager/server/internal/store"
)

// WebhookBody is the JSON a webhook receives.
type WebhookBody struct {
	DeliveryID int64             `json:"delivery_id"`
	Event      string            `json:"event"`
	At         time.Time         `json:"at"`
	Title      string            `json:"title"`
	Text       string            `json:"text"`
	URL        string            `json:"url,omitempty"`
	Host       *store.EventHost  `json:"host,omitempty"`
	Alert      *store.EventAlert `json:"alert,omitempty"`
	Job        *store.EventJob   `json:"job,omitempty"`
}

var conditionTitles = map[string]string{
	store.ConditionBackupObjective:  "backup objective",
	store.ConditionAgentOffline:     "agent offline",
	store.ConditionRepositoryLocked: "repository locked",
	store.ConditionCheckFailed:      "check failed",
	store.ConditionResticOutdated:   "restic outdated",
}

func hostName(ev store.NotificationEvent) string {
	if ev.Host == nil {
		return "Restic Manager"
	}
	if ev.Host.Name != "" {
		return ev.Host.Name
	}
	return ev.Host.Hostname
}

// Title is a one-line summary of an event, e.g. "[CRITICAL] web-1: backup objective".
func Title(ev store.NotificationEvent) string {
	h := hostName(ev)
	switch {
	case ev.Type == store.EventTest:
		return "[TEST] Restic Manager notification test"
	case ev.Alert != nil:
		cond := conditionTitles[ev.Alert.Condition]
		if cond == "" {
			cond = ev.Alert.Condition
		}
		switch ev.Type {
		case store.EventAlertResolved:
			return fmt.Sprintf("[RESOLVED] %s: %s", h, cond)
		case store.EventAlertEscalated:
			return fmt.Sprintf("[%s] %s: %s (escalated)", strings.ToUpper(ev.Alert.Severity), h, cond)
		}
		return fmt.Sprintf("[%s] %s: %s", strings.ToUpper(ev.Alert.Severity), h, cond)
	case ev.Job != nil:
		return fmt.Sprintf("[%s] %s: %s job %s", strings.ToUpper(ev.Job.Status), h, ev.Job.Kind, ev.Job.Status)
	}
	return fmt.Sprintf("[%s] %s", ev.Type, h)
}

// Text is a plain-text description of an event, a few lines long.
func Text(ev store.NotificationEvent, link string) string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	switch {
	case ev.Type == store.EventTest:
		line("This is a test notification from Restic Manager, sent %s.", ev.At.UTC().Format(time.RFC1123))
		line("If you can read it, this channel works.")
	case ev.Alert != nil:
		a := ev.Alert
		line("%s", a.Message)
		if ev.Type == store.EventAlertResolved && a.ResolvedAt != nil {
			line("Resolved %s (%s), open since %s.", a.ResolvedAt.UTC().Format(time.RFC1123), a.Resolution, a.OpenedAt.UTC().Format(time.RFC1123))
		} else {
			line("Open since %s; severity %s.", a.OpenedAt.UTC().Format(time.RFC1123), a.Severity)
		}
	case ev.Job != nil:
		j := ev.Job
		what := j.Kind + " job " + j.Status
		if j.RepositoryName != "" {
			what += " on repository " + j.RepositoryName
		}
		line("The %s.", what)
		if j.FinishedAt != nil {
			line("Finished %s after %s.", j.FinishedAt.UTC().Format(time.RFC1123), (time.Duration(j.DurationSeconds * float64(time.Second))).Round(time.Second))
		}
		if j.Error != "" {
			line("Error: %s", firstLines(j.Error, 5))
		}
	}
	if ev.Host != nil {
		labels := make([]string, 0, len(ev.Host.Labels))
		for k, v := range ev.Host.Labels {
			labels = append(labels, k+"="+v)
		}
		sort.Strings(labels)
		host := fmt.Sprintf("Host: %s (%s)", hostName(ev), ev.Host.Hostname)
		if len(labels) > 0 {
			host += " [" + strings.Join(labels, ", ") + "]"
		}
		line("%s", host)
	}
	if link != "" {
		line("%s", link)
	}
	return strings.TrimRight(b.String(), "\n")
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.TrimSpace(s), "\n", n+1)
	if len(lines) > n {
		lines = append(lines[:n], "…")
	}
	return strings.Join(lines, "\n")
}

// link points the reader to the event in the web UI (when the public URL is known).
func link(publicURL string, ev store.NotificationEvent) string {
	if publicURL == "" {
		return ""
	}
	base := strings.TrimRight(publicURL, "/")
	switch {
	case ev.Job != nil:
		return base + "/jobs/" + ev.Job.ID
	case ev.Alert != nil && ev.Host != nil:
		return base + "/hosts/" + ev.Host.ID
	}
	return base + "/"
}
