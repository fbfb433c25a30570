package agentapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/httpx"
)

type pollQuery struct {
	cursor, scheduleVersion, configVersion int64
	wait                                   time.Duration
}

// pollParams are the poll's query parameters, in the order of pollValues' result.
func pollParams() [4]string {
	return [4]string{protocol.QueryCursor, protocol.QueryScheduleVersion, protocol.QueryConfigVersion, protocol.QueryWait}
}

// maxPlainParams bounds the pairs plainQueryValues scans; longer queries take c.Query.
const maxPlainParams = 64

// pollValues returns the first value of each poll parameter ("" when absent), exactly
// as c.Query would. c.Query parses the whole query into a map on every request; the
// agent's query is a handful of plain name=digits pairs, read here without allocating.
func pollValues(c *gin.Context) [4]string {
	names := pollParams()
	if v, ok := plainQueryValues(c.Request.URL.RawQuery, names); ok {
		return v
	}
	var v [4]string
	for i, name := range names {
		v[i] = c.Query(name)
	}
	return v
}

// plainQueryValues looks names up in a raw query without escapes: no '%', '+' or ';'
// and at most maxPlainParams pairs, where url.ParseQuery unescapes nothing and skips
// nothing but empty pairs, so the first "name=value" pair (or bare "name") of each name
// is what c.Query returns. Any other query is not read (false). (url.ParseQuery also
// refuses queries of more than 10,000 pairs, or fewer with GODEBUG=urlmaxqueryparams;
// a limit below maxPlainParams is not honoured here.)
func plainQueryValues(raw string, names [4]string) ([4]string, bool) {
	var out [4]string
	if strings.ContainsAny(raw, "%+;") || strings.Count(raw, "&") >= maxPlainParams {
		return out, false
	}
	var seen [4]bool
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		for i, name := range names {
			if key == name && !seen[i] {
				out[i], seen[i] = value, true
			}
		}
	}
	return out, true
}

func parsePollQuery(c *gin.Context) (pollQuery, error) {
	q := pollQuery{wait: defaultWait}
	v := pollValues(c)
	for i, dst := range []*int64{&q.cursor, &q.scheduleVersion, &q.configVersion} {
		raw := v[i]
		if raw == "" {
			continue
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			return q, httpx.Validation("%s: must be a non-negative integer", pollParams()[i])
		}
		*dst = n
	}
	if raw := v[3]; raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 0 || time.Duration(n)*time.Second > maxWait {
			return q, httpx.Validation("wait: seconds between 0 and %d", int(maxWait/time.Second))
		}
		q.wait = time.Duration(n) * time.Second
	}
	return q, nil
}
