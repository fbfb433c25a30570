// Requests the host's agent answers (browse a directory, find, diff): the server holds
// the request up to `wait` seconds, then answers 202 BrowsePending when the agent has not
// answered yet. The same request asked again joins the same question on the server, so
// nothing runs twice: untilAnswered repeats it, after retry_after_seconds, until the
// answer comes. useAgentQuery is that as a TanStack query, with the latest pending state
// (has the agent picked the question up?) for the UI to show while it waits.
import { useQuery, useQueryClient, type QueryKey } from '@tanstack/react-query';
import type { AgentAnswer, BrowsePending } from './client';

/** How long the server may hold one request for the agent (the server caps it at 60). */
export const AGENT_WAIT_SECONDS = 20;

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const sleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
      },
      { once: true },
    );
  });

/** The pause before asking again: the server's hint, kept between 250 ms and 5 s. */
export function retryDelayMs(p: BrowsePending | undefined): number {
  const s = p?.retry_after_seconds;
  if (typeof s !== 'number' || !Number.isFinite(s)) return 1000;
  return Math.min(Math.max(s * 1000, 250), 5000);
}

/** Asks fetchOnce until it answers 200; reports each 202 to onPending (undefined at the end). */
export async function untilAnswered<T>(
  fetchOnce: (signal?: AbortSignal) => Promise<AgentAnswer<T>>,
  opts: { signal?: AbortSignal; onPending?: (p: BrowsePending | undefined) => void; sleep?: Sleep } = {},
): Promise<T> {
  const pause = opts.sleep ?? sleep;
  for (;;) {
    const r = await fetchOnce(opts.signal);
    if (r.status === 200) {
      opts.onPending?.(undefined);
      return r.data;
    }
    opts.onPending?.(r.pending);
    await pause(retryDelayMs(r.pending), opts.signal);
  }
}

export type AgentQueryOptions<T> = {
  queryKey: QueryKey;
  fetchOnce: (signal?: AbortSignal) => Promise<AgentAnswer<T>>;
  enabled?: boolean;
  /** Snapshots never change: answers stay fresh for good unless told otherwise. */
  staleTime?: number;
};

export function useAgentQuery<T>({ queryKey, fetchOnce, enabled = true, staleTime = Infinity }: AgentQueryOptions<T>) {
  const qc = useQueryClient();
  const pendingKey = [...queryKey, '$pending'];
  const q = useQuery({
    queryKey,
    queryFn: ({ signal }) =>
      untilAnswered(fetchOnce, { signal, onPending: (p) => qc.setQueryData(pendingKey, p ?? null) }),
    enabled,
    staleTime,
    retry: false,
    refetchOnWindowFocus: false,
  });
  const pending = useQuery<BrowsePending | null>({ queryKey: pendingKey, queryFn: () => null, enabled: false, staleTime: Infinity });
  return { query: q, pending: q.isFetching ? (pending.data ?? undefined) : undefined };
}
