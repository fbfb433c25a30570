package agentapi

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	ginjson "github.com/gin-gonic/gin/codec/json"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// idleHead is how every encoded PollResponse starts, up to the cursor's digits.
const idleHead = `{"cursor":`

// idleBody is the answer to a poll without news, encoded once when the API is built:
// only the cursor varies between idle polls, so they skip reflecting over the response
// (the commonest answer by far: every held poll that ends with its hold). It is byte
// for byte what c.JSON writes for the same PollResponse (pollbody_test.go proves it),
// with gin's own JSON codec.
type idleBody struct {
	tail        []byte   // after the cursor: `,"commands":[],"pacing":{…}}`
	tailUpdate  []byte   // the same with the update notice
	contentType []string // shared by every answer, as gin's JSON render shares its own
}

// newIdleBody encodes the constant part of the idle answers.
func newIdleBody(pacing protocol.Pacing, update protocol.UpdateNotice) (idleBody, error) {
	tail := func(u *protocol.UpdateNotice) ([]byte, error) {
		raw, err := ginjson.API.Marshal(protocol.PollResponse{Commands: []protocol.Command{}, Update: u, Pacing: pacing})
		if err != nil {
			return nil, fmt.Errorf("agentapi: encode the idle poll answer: %w", err)
		}
		rest, ok := bytes.CutPrefix(raw, []byte(idleHead+"0"))
		if !ok || len(rest) == 0 || (rest[0] != ',' && rest[0] != '}') {
			return nil, errors.New("agentapi: the encoded poll answer does not start with its cursor")
		}
		return rest, nil
	}
	b := idleBody{contentType: []string{"application/json; charset=utf-8"}}
	var err error
	if b.tail, err = tail(nil); err != nil {
		return idleBody{}, err
	}
	if b.tailUpdate, err = tail(&update); err != nil {
		return idleBody{}, err
	}
	return b, nil
}

// ok tells whether the body was built (newIdleBody did not fail).
func (b idleBody) ok() bool { return b.tail != nil }

// render is the answer without news for cursor, with the update notice or not, to pass
// to c.Render as c.JSON passes its render.JSON.
func (b idleBody) render(cursor int64, update bool) preEncodedJSON {
	return preEncodedJSON{body: b.encode(cursor, update), contentType: b.contentType}
}

// encode returns the body of the answer without news for cursor.
func (b idleBody) encode(cursor int64, update bool) []byte {
	tail := b.tail
	if update {
		tail = b.tailUpdate
	}
	out := make([]byte, 0, len(idleHead)+20+len(tail))
	out = append(out, idleHead...)
	out = strconv.AppendInt(out, cursor, 10)
	return append(out, tail...)
}

// preEncodedJSON is a gin renderer of JSON encoded beforehand. It writes what
// render.JSON writes, in the same calls: the Content-Type unless one is set, then the
// body (c.Data would add a Content-Length header of its own).
type preEncodedJSON struct {
	body        []byte
	contentType []string
}

// Render implements render.Render.
func (r preEncodedJSON) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	_, err := w.Write(r.body)
	return err
}

// WriteContentType implements render.Render.
func (r preEncodedJSON) WriteContentType(w http.ResponseWriter) {
	if h := w.Header(); len(h["Content-Type"]) == 0 {
		h["Content-Type"] = r.contentType
	}
}
