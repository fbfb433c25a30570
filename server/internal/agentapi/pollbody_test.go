package agentapi

import (
	"bytes"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// testContext is a gin context writing into a recorder, for a request with rawQuery.
func testContext(rawQuery string) (*gin.Context, *httptest.ResponseRecorder) {
	gin.SetMode(gin.TestMode)
	rec := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(rec)
	c.Request = &http.Request{Method: http.MethodGet, URL: &url.URL{Path: protocol.PathPoll, RawQuery: rawQuery}, Header: http.Header{}}
	return c, rec
}

// The pre-encoded idle answer is byte for byte, header for header, what c.JSON writes
// for the same PollResponse.
func TestIdleBodyIsWhatCJSONWrites(t *testing.T) {
	pacings := []protocol.Pacing{
		{PollHoldSeconds: 50, ProgressIntervalSeconds: 1, LogIntervalSeconds: 2},
		{PollHoldSeconds: 25, ProgressIntervalSeconds: 1, LogIntervalSeconds: 2},
		{},
		{PollHoldSeconds: 240, ProgressIntervalSeconds: 3600, LogIntervalSeconds: 86400},
	}
	updates := []protocol.UpdateNotice{
		{LatestVersion: "1.4.0", PackageSource: "apt: restic-manager-agent"},
		{LatestVersion: "2.0.0-rc.1+build.7", PackageSource: "https://example.com/get?os=linux&arch=<amd64>",
			Changelog: "\"quoted\" & escaped \\ text, tabs\tand\nnewlines, é, \u2028 and \u2029, \x00 control"},
		{},
	}
	cursors := []int64{0, 1, 9, 10, 99, 100, 123456789, math.MaxInt64}
	for _, p := range pacings {
		for _, u := range updates {
			b, err := newIdleBody(p, u)
			if err != nil {
				t.Fatal(err)
			}
			for _, cursor := range cursors {
				for _, update := range []bool{false, true} {
					resp := protocol.PollResponse{Cursor: cursor, Commands: []protocol.Command{}, Pacing: p}
					if update {
						u := u
						resp.Update = &u
					}
					cw, want := testContext("")
					cw.JSON(http.StatusOK, resp)
					cg, got := testContext("")
					cg.Render(http.StatusOK, b.render(cursor, update))
					if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
						t.Fatalf("pacing %+v update %t cursor %d:\n got %s\nwant %s", p, update, cursor, got.Body, want.Body)
					}
					if got.Code != want.Code || !reflect.DeepEqual(got.Header(), want.Header()) {
						t.Fatalf("status/headers differ: %d %v, want %d %v", got.Code, got.Header(), want.Code, want.Header())
					}
				}
			}
		}
	}
}

// pollValues reads the poll's parameters exactly as c.Query does, on plain queries (its
// own scan) and on every other one (c.Query itself).
func TestPollValuesAreWhatCQueryReturns(t *testing.T) {
	for _, q := range pollQueryCorpus() {
		c, _ := testContext(q)
		got := pollValues(c)
		ref, _ := testContext(q)
		for i, name := range pollParams() {
			if want := ref.Query(name); got[i] != want {
				t.Errorf("query %q: %s = %q, c.Query says %q", q, name, got[i], want)
			}
		}
	}
}

func FuzzPollValues(f *testing.F) {
	for _, q := range pollQueryCorpus() {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, q string) {
		c, _ := testContext(q)
		got := pollValues(c)
		ref, _ := testContext(q)
		for i, name := range pollParams() {
			if want := ref.Query(name); got[i] != want {
				t.Fatalf("query %q: %s = %q, c.Query says %q", q, name, got[i], want)
			}
		}
	})
}

func pollQueryCorpus() []string {
	return []string{
		"",
		"cursor=12&wait=55&schedule_version=3&config_version=4",
		"wait=5",
		"cursor=1&cursor=2&wait=30&wait=31",
		"cursor&wait=&schedule_version",
		"&&cursor=5&&&wait=30&",
		"=&=5&cursor==3&config_version=4=5",
		"CURSOR=4&Wait=30",
		"cursor=%31%32&wait=3%30",
		"cursor=1+2&wait=+30",
		"cursor=1;wait=3&cursor=7",
		"wait=30;&wait=40",
		"cursor=%zz&cursor=7",
		"cursor=%&wait=%4",
		"%63ursor=9&cursor=8",
		"cursor=-1&wait=-5",
		"cursor=99999999999999999999",
		"schedule_version=1&schedule_version=2&config_version=&config_version=3",
		strings.Repeat("x=1&", 63) + "cursor=9",
		strings.Repeat("x=1&", 64) + "cursor=9",
		strings.Repeat("&", 70) + "wait=9",
		"cursor=1#frag",
		"cursor=\u00e9&wait=\x00",
	}
}
