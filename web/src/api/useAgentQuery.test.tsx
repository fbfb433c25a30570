import { renderHook, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { retryDelayMs, untilAnswered } from './useAgentQuery';
import { useTree } from './queries/browse';
import { mockFetch } from '../test/render';
import type { AgentAnswer, BrowsePending } from './client';

afterEach(() => vi.unstubAllGlobals());

const pending = (status: 'pending' | 'running', retry = 0): BrowsePending => ({ request_id: 'r1', status, retry_after_seconds: retry, message: 'wait' });

function wrapper(qc: QueryClient) {
  return ({ children }: { children: ReactNode }) => <QueryClientProvider client={qc}>{children}</QueryClientProvider>;
}

describe('untilAnswered', () => {
  it('asks again after each 202, reporting the pending state, until the answer', async () => {
    const answers: AgentAnswer<string>[] = [
      { status: 202, pending: pending('pending', 2) },
      { status: 202, pending: pending('running', 1) },
      { status: 200, data: 'listing' },
    ];
    const fetchOnce = vi.fn(async () => answers.shift()!);
    const seen: (string | undefined)[] = [];
    const pauses: number[] = [];
    const out = await untilAnswered(fetchOnce, {
      onPending: (p) => seen.push(p?.status),
      sleep: async (ms) => void pauses.push(ms),
    });
    expect(out).toBe('listing');
    expect(fetchOnce).toHaveBeenCalledTimes(3);
    expect(seen).toEqual(['pending', 'running', undefined]);
    expect(pauses).toEqual([2000, 1000]);
  });

  it('stops when the request is aborted', async () => {
    const ctl = new AbortController();
    const fetchOnce = vi.fn(async (): Promise<AgentAnswer<string>> => ({ status: 202, pending: pending('pending', 1) }));
    const p = untilAnswered(fetchOnce, { signal: ctl.signal });
    ctl.abort();
    await expect(p).rejects.toBeDefined();
    expect(fetchOnce).toHaveBeenCalledTimes(1);
  });

  it('keeps the pause between 250 ms and 5 s', () => {
    expect(retryDelayMs(pending('pending', 0))).toBe(250);
    expect(retryDelayMs(pending('pending', 60))).toBe(5000);
    expect(retryDelayMs(undefined)).toBe(1000);
  });
});

describe('useTree', () => {
  it('repeats the very same request on 202 and shows the pending state meanwhile', async () => {
    let n = 0;
    const calls = mockFetch((url) => {
      if (url.pathname !== '/api/v1/hosts/h1/repositories/r1/snapshots/s1/tree') return undefined;
      n++;
      if (n === 1) return { status: 202, body: pending('pending', 0) };
      if (n === 2) return { status: 202, body: pending('running', 0) };
      return { body: { snapshot: 's1full', path: '/etc', items: [{ name: 'hosts', path: '/etc/hosts', type: 'file', size: 9 }], total: 1, next_cursor: '', cached: false, indexed: false } };
    });
    const qc = new QueryClient();
    const { result } = renderHook(() => useTree('h1', 'r1', 's1', '/etc'), { wrapper: wrapper(qc) });
    await waitFor(() => expect(result.current.pending?.status).toBeDefined());
    await waitFor(() => expect(result.current.query.isSuccess).toBe(true));
    expect(result.current.query.data?.items[0].name).toBe('hosts');
    expect(result.current.pending).toBeUndefined();
    const urls = calls.map((c) => c.url.search);
    expect(urls).toHaveLength(3);
    expect(new Set(urls).size).toBe(1);
    expect(calls[0].url.searchParams.get('path')).toBe('/etc');
    expect(Number(calls[0].url.searchParams.get('wait'))).toBeGreaterThan(0);
  });

  it('surfaces an agent failure without retrying it', async () => {
    const calls = mockFetch((url) =>
      url.pathname.endsWith('/tree') ? { status: 502, body: { code: 'agent_failed', message: 'wrong password' } } : undefined,
    );
    const qc = new QueryClient();
    const { result } = renderHook(() => useTree('h1', 'r1', 's1', '/'), { wrapper: wrapper(qc) });
    await waitFor(() => expect(result.current.query.isError).toBe(true));
    expect((result.current.query.error as { code?: string }).code).toBe('agent_failed');
    expect(calls).toHaveLength(1);
  });
});
