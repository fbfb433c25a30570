import { act, renderHook, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useJobStream, type EventSourceLike } from './useJobStream';
import { jobKeys } from './queries/jobs';
import { mockFetch } from '../test/render';

class FakeEventSource implements EventSourceLike {
  static last: FakeEventSource;
  listeners: Record<string, ((e: MessageEvent) => void)[]> = {};
  onerror: ((e: Event) => void) | null = null;
  onopen: ((e: Event) => void) | null = null;
  readyState = 0;
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  addEventListener(type: string, l: (e: MessageEvent) => void) {
    (this.listeners[type] ??= []).push(l);
  }
  close() {
    this.closed = true;
  }
  emit(type: string, data: unknown) {
    for (const l of this.listeners[type] ?? []) l(new MessageEvent(type, { data: JSON.stringify(data) }));
  }
}

function wrapper(qc: QueryClient) {
  return ({ children }: { children: ReactNode }) => <QueryClientProvider client={qc}>{children}</QueryClientProvider>;
}

afterEach(() => vi.unstubAllGlobals());

describe('useJobStream', () => {
  it('follows job, log, progress and end events', async () => {
    const qc = new QueryClient();
    const { result } = renderHook(() => useJobStream('j1', { factory: (u) => new FakeEventSource(u) }), { wrapper: wrapper(qc) });
    const es = FakeEventSource.last;
    expect(es.url).toBe('/api/v1/jobs/j1/events');
    act(() => {
      es.onopen?.(new Event('open'));
      es.emit('job', { id: 'j1', status: 'running', kind: 'backup' });
      es.emit('progress', { percent_done: 0.5, files_done: 3 });
      es.emit('log', { seq: 1, text: 'one' });
      es.emit('log', { seq: 2, text: 'two' });
      es.emit('log', { seq: 2, text: 'two' }); // a resend after a reconnect
    });
    expect(result.current.state).toBe('live');
    expect(result.current.job?.status).toBe('running');
    expect(result.current.progress?.percent_done).toBe(0.5);
    await waitFor(() => expect(result.current.lines.map((l) => l.seq)).toEqual([1, 2]));
    expect(qc.getQueryData<{ status: string }>(jobKeys.detail('j1'))?.status).toBe('running');
    act(() => {
      es.emit('log', { seq: 3, text: 'three' });
      es.emit('end', { id: 'j1', status: 'succeeded' });
    });
    expect(es.closed).toBe(true);
    expect(result.current.state).toBe('ended');
    expect(result.current.job?.status).toBe('succeeded');
    expect(result.current.lines.map((l) => l.seq)).toEqual([1, 2, 3]);
  });

  it('polls the log by range when EventSource is unavailable', async () => {
    let logCalls = 0;
    mockFetch((url) => {
      if (url.pathname === '/api/v1/jobs/j2/logs') {
        logCalls++;
        const after = Number(url.searchParams.get('after'));
        return { body: { items: after === 0 ? [{ seq: 1, text: 'a' }, { seq: 2, text: 'b' }] : [], next_cursor: '' } };
      }
      if (url.pathname === '/api/v1/jobs/j2') {
        return { body: { id: 'j2', status: logCalls > 1 ? 'succeeded' : 'running', progress: { percent_done: 0.25 } } };
      }
      return undefined;
    });
    const qc = new QueryClient();
    const { result } = renderHook(() => useJobStream('j2', { factory: null, pollMs: 20 }), { wrapper: wrapper(qc) });
    await waitFor(() => expect(result.current.state).toBe('ended'));
    expect(result.current.lines.map((l) => l.text)).toEqual(['a', 'b']);
    expect(result.current.job?.status).toBe('succeeded');
  });

  it('falls back to polling after repeated stream errors', async () => {
    mockFetch((url) => {
      if (url.pathname.endsWith('/logs')) return { body: { items: [], next_cursor: '' } };
      return { body: { id: 'j3', status: 'failed' } };
    });
    const qc = new QueryClient();
    const { result } = renderHook(() => useJobStream('j3', { factory: (u) => new FakeEventSource(u), pollMs: 20 }), { wrapper: wrapper(qc) });
    const es = FakeEventSource.last;
    act(() => {
      for (let i = 0; i < 5; i++) es.onerror?.(new Event('error'));
    });
    expect(es.closed).toBe(true);
    await waitFor(() => expect(result.current.state).toBe('ended'));
    expect(result.current.job?.status).toBe('failed');
  });
});
