// Package httpx holds the HTTP plumbing every API of the server shares: one JSON error
// shape with stable codes, strict size-limited JSON decoding, and the mapping of store
// errors to statuses.
package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/restic-manager/restic-manager/common/protocol"
	"github.com/restic-manager/restic-manager/server/internal/store"
)

// Error is an error with an HTTP status and a stable code.
type Error struct {
	Status  int
	Code    string
	Message string
	Details any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an *Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common errors.
var (
	ErrNotFound     = &Error{Status: http.StatusNotFound, Code: protocol.CodeNotFound, Message: "not found"}
	ErrUnauthorized = &Error{Status: http.StatusUnauthorized, Code: protocol.CodeUnauthorized, Message: "missing or invalid credentials"}
)

// Validation returns a 400 validation_failed error.
func Validation(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, protocol.CodeValidation, format, args...)
}

// Fail aborts the request with err mapped to a status and a JSON body.
func Fail(c *gin.Context, err error) {
	e := Map(err)
	if e.Status >= 500 {
		_ = c.Error(err) // logged by the request logger; the client sees no internals
	}
	c.AbortWithStatusJSON(e.Status, protocol.Error{Code: e.Code, Message: e.Message, Details: e.Details})
}

// Map turns any error into an *Error.
func Map(err error) *Error {
	var he *Error
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &he):
		return he
	case errors.As(err, &mbe):
		return Errorf(http.StatusRequestEntityTooLarge, protocol.CodeBodyTooLarge, "request body exceeds %d bytes", mbe.Limit)
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrJobFinished):
		return Errorf(http.StatusConflict, protocol.CodeJobFinished, "the job has already finished or was cancelled")
	case errors.Is(err, store.ErrConflict):
		return Errorf(http.StatusConflict, protocol.CodeConflict, "%s", err.Error())
	case errors.Is(err, store.ErrInvalidArgument):
		return Errorf(http.StatusBadRequest, protocol.CodeValidation, "%s", strings.TrimPrefix(err.Error(), store.ErrInvalidArgument.Error()+": "))
	case errors.Is(err, store.ErrTokenInvalid):
		return Errorf(http.StatusUnauthorized, protocol.CodeEnrollmentToken, "enrollment token is invalid, expired, revoked or used up")
	}
	return Errorf(http.StatusInternalServerError, protocol.CodeInternal, "internal error")
}

// Decode reads a JSON body of at most limit bytes into v, strictly: the content type
// must be JSON, unknown fields, wrong types and trailing data are refused.
func Decode(c *gin.Context, limit int64, v any) error {
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return Errorf(http.StatusUnsupportedMediaType, protocol.CodeUnsupportedMedia, "content type must be application/json")
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Map(err)
		}
		return Errorf(http.StatusBadRequest, protocol.CodeBadRequest, "reading body: %v", err)
	}
	dec := json.NewDecoder(bytes.NewReader(replaceNULEscapes(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return Errorf(http.StatusBadRequest, protocol.CodeInvalidJSON, "unexpected data after the JSON value")
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(http.StatusBadRequest, protocol.CodeInvalidJSON, "unexpected data after the JSON value")
	}
	return nil
}

func decodeError(err error) *Error {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return Errorf(http.StatusBadRequest, protocol.CodeInvalidJSON, "malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		return &Error{Status: http.StatusBadRequest, Code: protocol.CodeInvalidJSON,
			Message: fmt.Sprintf("field %q must be %s, not %s", typ.Field, typ.Type, typ.Value), Details: map[string]string{"field": typ.Field}}
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(http.StatusBadRequest, protocol.CodeInvalidJSON, "empty or truncated JSON body")
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return Errorf(http.StatusBadRequest, protocol.CodeInvalidJSON, "%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return Errorf(http.StatusBadRequest, protocol.CodeInvalidJSON, "invalid JSON: %v", err)
}

// NoRoute answers unknown paths with the JSON error shape.
func NoRoute(c *gin.Context) {
	c.AbortWithStatusJSON(http.StatusNotFound, protocol.Error{Code: protocol.CodeNotFound, Message: "no such endpoint"})
}

// NoMethod answers a known path with a wrong method.
func NoMethod(c *gin.Context) {
	c.AbortWithStatusJSON(http.StatusMethodNotAllowed, protocol.Error{Code: "method_not_allowed", Message: "method not allowed"})
}
