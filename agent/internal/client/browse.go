package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// BrowseDirs sends directory parts of an ls or index; repeats are harmless.
func (c *Client) BrowseDirs(ctx context.Context, requestID string, b protocol.BrowseDirBatch) (protocol.BrowseAck, error) {
	var out protocol.BrowseAck
	err := c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathBrowseDirs, requestID), in: b, out: &out})
	return out, err
}

// BrowseFinish ends a browse operation; the first finish wins.
func (c *Client) BrowseFinish(ctx context.Context, requestID string, f protocol.BrowseFinish) (protocol.BrowseAck, error) {
	var out protocol.BrowseAck
	err := c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathBrowseFinish, requestID), in: f, out: &out})
	return out, err
}

// DownloadStart says what a dump is about to send.
func (c *Client) DownloadStart(ctx context.Context, requestID string, s protocol.DownloadStart) (protocol.BrowseAck, error) {
	var out protocol.BrowseAck
	err := c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathDownloadStart, requestID), in: s, out: &out})
	return out, err
}

// DownloadChunk sends the bytes of a dump at an offset. A repeat of bytes the server
// already holds is answered with its offset; a gap is a 409 (offset_mismatch).
func (c *Client) DownloadChunk(ctx context.Context, requestID string, offset int64, data []byte) (protocol.DownloadChunkAck, error) {
	var out protocol.DownloadChunkAck
	q := url.Values{}
	q.Set(protocol.QueryOffset, strconv.FormatInt(offset, 10))
	if data == nil {
		data = []byte{}
	}
	err := c.do(ctx, call{method: http.MethodPost, path: withID(protocol.PathDownloadChunks, requestID), query: q, raw: data, out: &out})
	return out, err
}
