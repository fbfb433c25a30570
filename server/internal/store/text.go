package store

import (
	"strings"
	"unicode/utf8"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// sanitizeText makes agent-supplied text storable everywhere: PostgreSQL's text and
// jsonb refuse NUL and invalid UTF-8, and one such line must not fail a whole batch.
// Each NUL and each invalid byte becomes U+FFFD.
func sanitizeText(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// sanitizeProgress applies sanitizeText to the only free text of a progress report.
func sanitizeProgress(p protocol.Progress) protocol.Progress {
	if len(p.CurrentFiles) == 0 {
		return p
	}
	files := make([]string, len(p.CurrentFiles))
	for i, f := range p.CurrentFiles {
		files[i] = sanitizeText(f)
	}
	p.CurrentFiles = files
	return p
}
