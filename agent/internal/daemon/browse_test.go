package daemon

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/restic-manager/restic-manager/common/protocol"
)

// fakeBrowseAPI records browse reports; the server holds what it acknowledged.
type fakeBrowseAPI struct {
	mu      sync.Mutex
	batches []protocol.BrowseDirBatch
	data    bytes.Buffer
	offsets []int64
	start   *protocol.DownloadStart
	cancel  bool // answer cancel from now on
	lose    bool // acknowledge one byte less than sent
}

func (f *fakeBrowseAPI) BrowseDirs(_ context.Context, _ string, b protocol.BrowseDirBatch) (protocol.BrowseAck, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, b)
	return protocol.BrowseAck{Cancel: f.cancel}, nil
}

func (f *fakeBrowseAPI) BrowseFinish(context.Context, string, protocol.BrowseFinish) (protocol.BrowseAck, error) {
	return protocol.BrowseAck{}, nil
}

func (f *fakeBrowseAPI) DownloadStart(_ context.Context, _ string, s protocol.DownloadStart) (protocol.BrowseAck, error) {
	f.start = &s
	return protocol.BrowseAck{}, nil
}

func (f *fakeBrowseAPI) DownloadChunk(_ context.Context, _ string, offset int64, data []byte) (protocol.DownloadChunkAck, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cancel {
		return protocol.DownloadChunkAck{BrowseAck: protocol.BrowseAck{Cancel: true}, Offset: int64(f.data.Len())}, nil
	}
	f.offsets = append(f.offsets, offset)
	f.data.Write(data)
	held := int64(f.data.Len())
	if f.lose {
		held--
	}
	return protocol.DownloadChunkAck{Offset: held}, nil
}

func newSink(api *fakeBrowseAPI) (*browseSink, context.Context) {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &browseSink{ctx: ctx, cancel: cancel, api: api, id: "r"}, ctx
}

func TestBrowseSinkChunks(t *testing.T) {
	api := &fakeBrowseAPI{}
	s, _ := newSink(api)
	if err := s.Start(protocol.DownloadStart{Type: "file", Size: 10 << 20}); err != nil {
		t.Fatal(err)
	}
	want := bytes.Repeat([]byte("0123456789abcdef"), (10<<20)/16)
	for p := want; len(p) > 0; { // restic writes in 32 KiB pieces
		n := min(len(p), 32<<10)
		if _, err := s.Write(p[:n]); err != nil {
			t.Fatal(err)
		}
		p = p[n:]
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(api.data.Bytes(), want) {
		t.Fatal("the server got other bytes")
	}
	if len(api.offsets) != 3 || api.offsets[1] != downloadChunkSize || api.offsets[2] != 2*downloadChunkSize {
		t.Fatalf("offsets %v", api.offsets)
	}

	// The server holding fewer bytes than sent fails the dump.
	api = &fakeBrowseAPI{lose: true}
	s, _ = newSink(api)
	if _, err := s.Write(make([]byte, downloadChunkSize)); err == nil {
		t.Fatal("a short acknowledgement was accepted")
	}

	// A cancel in an answer stops the operation.
	api = &fakeBrowseAPI{cancel: true}
	s, ctx := newSink(api)
	if _, err := s.Write(make([]byte, downloadChunkSize)); !errors.Is(err, errBrowseCancelled) || !errors.Is(context.Cause(ctx), errBrowseCancelled) {
		t.Fatalf("cancel: %v / %v", err, context.Cause(ctx))
	}
}

func TestBrowseSinkBatches(t *testing.T) {
	api := &fakeBrowseAPI{}
	s, _ := newSink(api)
	part := protocol.BrowseDirPart{Path: "/d", Entries: make([]protocol.BrowseEntry, 1000)}
	for i := range 12 {
		part.Offset = int64(i * 1000)
		if err := s.Dir(part); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, b := range api.batches {
		n += len(b.Dirs)
	}
	if len(api.batches) != 3 || n != 12 {
		t.Fatalf("%d batches, %d parts", len(api.batches), n)
	}
}

func TestBrowseOpsBound(t *testing.T) {
	var ops browseOps
	var mu sync.Mutex
	running, peak, done := 0, 0, 0
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		ops.submit(func() {
			defer wg.Done()
			mu.Lock()
			running++
			peak = max(peak, running)
			mu.Unlock()
			time.Sleep(20 * time.Millisecond)
			mu.Lock()
			running--
			done++
			mu.Unlock()
		})
	}
	wg.Wait()
	if peak > maxBrowseOps || done != 10 {
		t.Fatalf("peak %d, done %d", peak, done)
	}
}
