// Hosts: the server-paginated list, the fleet summary, one host, rename/labels, decommission.
import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../client';

export type HostListParams = {
  q?: string;
  status?: 'online' | 'offline' | 'decommissioned' | 'all';
  sort?: 'name' | 'hostname' | 'last_seen' | 'created_at';
  order?: 'asc' | 'desc';
  label?: string[];
  limit?: number;
  cursor?: string;
};

export const hostKeys = {
  all: ['hosts'] as const,
  lists: () => [...hostKeys.all, 'list'] as const,
  list: (p: HostListParams) => [...hostKeys.lists(), p] as const,
  summary: () => [...hostKeys.all, 'summary'] as const,
  detail: (id: string) => [...hostKeys.all, 'detail', id] as const,
};

function clean(p: HostListParams): HostListParams {
  const out: HostListParams = {};
  for (const [k, v] of Object.entries(p)) {
    if (v === undefined || v === '' || (Array.isArray(v) && v.length === 0)) continue;
    (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

export const hostsQuery = (p: HostListParams, opts: { refetchInterval?: number } = {}) =>
  queryOptions({
    queryKey: hostKeys.list(clean(p)),
    queryFn: ({ signal }) => call(api.GET('/hosts', { params: { query: clean(p) }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: opts.refetchInterval ?? 15_000,
  });

export const hostSummaryQuery = () =>
  queryOptions({
    queryKey: hostKeys.summary(),
    queryFn: () => call(api.GET('/hosts/summary')),
    refetchInterval: 10_000,
  });

export const hostQuery = (id: string) =>
  queryOptions({
    queryKey: hostKeys.detail(id),
    queryFn: () => call(api.GET('/hosts/{id}', { params: { path: { id } } })),
    // A host whose agent has not polled yet (just enrolled) is watched closely.
    refetchInterval: (q) => (q.state.data && !q.state.data.last_seen_at ? 3_000 : 15_000),
  });

export function useUpdateHost(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['HostUpdate']) => call(api.PATCH('/hosts/{id}', { params: { path: { id } }, body })),
    onSuccess: (h) => {
      qc.setQueryData(hostKeys.detail(id), h);
      return qc.invalidateQueries({ queryKey: hostKeys.lists() });
    },
  });
}

export function useDecommissionHost(id: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => call(api.POST('/hosts/{id}/decommission', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: hostKeys.all }),
  });
}
