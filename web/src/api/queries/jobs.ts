// Jobs: lists with filters, one job (with its latest progress), its log by range,
// run-now, cancel. The live follow (Server-Sent Events) is useJobStream in ../useJobStream.ts.
import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, type Job, type Schemas } from '../client';

export type JobStatus = NonNullable<Job['status']>;
export const terminalStatuses: JobStatus[] = ['succeeded', 'warning', 'failed', 'cancelled'];
export const activeStatuses: JobStatus[] = ['queued', 'running'];
export const isTerminal = (s: string | undefined) => !!s && (terminalStatuses as string[]).includes(s);

export type JobListParams = {
  host_id?: string;
  kind?: 'init' | 'backup' | 'forget' | 'prune' | 'check' | 'unlock' | 'snapshots' | 'stats' | 'restore';
  status?: string; // one or several, comma-separated
  schedule_id?: string;
  repository_id?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
};

export const jobKeys = {
  all: ['jobs'] as const,
  lists: () => [...jobKeys.all, 'list'] as const,
  list: (p: JobListParams) => [...jobKeys.lists(), p] as const,
  detail: (id: string) => [...jobKeys.all, 'detail', id] as const,
  logs: (id: string) => [...jobKeys.all, 'logs', id] as const,
};

export const jobsQuery = (p: JobListParams, opts: { refetchInterval?: number | false } = {}) =>
  queryOptions({
    queryKey: jobKeys.list(p),
    queryFn: ({ signal }) => call(api.GET('/jobs', { params: { query: p }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: opts.refetchInterval ?? 5_000,
  });

/** One job; polled while it is active (the job page also follows it live over SSE). */
export const jobQuery = (id: string) =>
  queryOptions({
    queryKey: jobKeys.detail(id),
    queryFn: () => call(api.GET('/jobs/{id}', { params: { path: { id } } })),
    refetchInterval: (q) => (isTerminal(q.state.data?.status) ? false : 3_000),
  });

export const jobLogsQuery = (id: string, after = 0) =>
  queryOptions({
    queryKey: [...jobKeys.logs(id), after] as const,
    queryFn: () => call(api.GET('/jobs/{id}/logs', { params: { path: { id }, query: { after, limit: 5000 } } })),
  });

export function useRunJob(hostId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['RunRequest']) => call(api.POST('/hosts/{id}/jobs', { params: { path: { id: hostId } }, body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: jobKeys.lists() }),
  });
}

export function useCancelJob(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (reason?: string) =>
      call(api.POST('/jobs/{id}/cancel', { params: { path: { id } }, body: reason ? { reason } : {} })),
    onSuccess: (j) => {
      qc.setQueryData(jobKeys.detail(id), (old: Job | undefined) => ({ ...old, ...j, progress: old?.progress }));
      return qc.invalidateQueries({ queryKey: jobKeys.lists() });
    },
  });
}
