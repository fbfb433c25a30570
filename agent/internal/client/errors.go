package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// APIError is a non-2xx answer from the server.
type APIError struct {
	Op      string
	Status  int
	Code    string // protocol.Code*; empty when the body was not a protocol.Error
	Message string
}

func (e *APIError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%s: %d %s: %s", e.Op, e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("%s: %d: %s", e.Op, e.Status, e.Message)
}

// TransportError means the server could not be reached or its answer was unusable,
// after all retries.
type TransportError struct {
	Op  string
	Err error
}

func (e *TransportError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// IsTransient reports whether err may go away by itself: the server was unreachable,
// answered 408, 429 or 5xx, or sent something undecodable, or the call's own time
// budget ran out. Reports that fail this way belong in the spool.
func IsTransient(err error) bool {
	if err == nil {
		return false
	}
	var te *TransportError
	if errors.As(err, &te) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status == http.StatusRequestTimeout || ae.Status == http.StatusTooManyRequests ||
			(ae.Status >= 500 && ae.Status != http.StatusNotImplemented)
	}
	return errors.Is(err, context.DeadlineExceeded)
}

// IsUnauthorized reports a rejected credential (revoked or unknown host).
func IsUnauthorized(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == http.StatusUnauthorized
}

// HasCode reports whether err is an APIError with the given protocol error code.
func HasCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// HasStatus reports whether err is an APIError with the given HTTP status.
func HasStatus(err error, status int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Status == status
}

// IsJobFinished reports the server's "this job is already finished or cancelled".
func IsJobFinished(err error) bool {
	return HasCode(err, protocol.CodeJobFinished) || HasStatus(err, http.StatusConflict)
}
