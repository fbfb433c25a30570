// Fleet health: hosts by backup objective state, one host's health, the objective
// override; alerts (open and resolved). The server evaluates; the UI only reads.
import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../client';

export type ObjectiveState = Schemas['HostHealth']['objective_state'];
export type AlertCondition = Schemas['Alert']['condition'];
export type Severity = Schemas['Alert']['severity'];

export type HostHealthParams = { state?: ObjectiveState; condition?: AlertCondition; limit?: number; cursor?: string };
export type AlertParams = { state?: 'open' | 'resolved'; host_id?: string; condition?: AlertCondition; severity?: Severity; limit?: number; cursor?: string };

export const healthKeys = {
  all: ['health'] as const,
  summary: () => [...healthKeys.all, 'summary'] as const,
  hosts: (p: HostHealthParams) => [...healthKeys.all, 'hosts', p] as const,
  host: (id: string) => [...healthKeys.all, 'host', id] as const,
};

export const alertKeys = {
  all: ['alerts'] as const,
  list: (p: AlertParams) => [...alertKeys.all, 'list', p] as const,
  detail: (id: string) => [...alertKeys.all, 'detail', id] as const,
};

export const healthSummaryQuery = () =>
  queryOptions({
    queryKey: healthKeys.summary(),
    queryFn: () => call(api.GET('/health/summary')),
    refetchInterval: 10_000,
  });

export const hostsHealthQuery = (p: HostHealthParams, opts: { refetchInterval?: number } = {}) =>
  queryOptions({
    queryKey: healthKeys.hosts(p),
    queryFn: ({ signal }) => call(api.GET('/health/hosts', { params: { query: p }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: opts.refetchInterval ?? 15_000,
  });

export const hostHealthQuery = (id: string) =>
  queryOptions({
    queryKey: healthKeys.host(id),
    queryFn: () => call(api.GET('/hosts/{id}/health', { params: { path: { id } } })),
    refetchInterval: 10_000,
  });

export function useSetObjective(hostId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (maxAgeSeconds: number) =>
      call(api.PUT('/hosts/{id}/objective', { params: { path: { id: hostId } }, body: { max_age_seconds: maxAgeSeconds } })),
    onSuccess: (h) => {
      qc.setQueryData(healthKeys.host(hostId), h);
      return qc.invalidateQueries({ queryKey: healthKeys.all });
    },
  });
}

export function useClearObjective(hostId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => call(api.DELETE('/hosts/{id}/objective', { params: { path: { id: hostId } } })),
    onSuccess: (h) => {
      qc.setQueryData(healthKeys.host(hostId), h);
      return qc.invalidateQueries({ queryKey: healthKeys.all });
    },
  });
}

export const alertsQuery = (p: AlertParams, opts: { refetchInterval?: number } = {}) =>
  queryOptions({
    queryKey: alertKeys.list(p),
    queryFn: ({ signal }) => call(api.GET('/alerts', { params: { query: p }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: opts.refetchInterval ?? 10_000,
  });

export const alertQuery = (id: string) =>
  queryOptions({
    queryKey: alertKeys.detail(id),
    queryFn: () => call(api.GET('/alerts/{id}', { params: { path: { id } } })),
    refetchInterval: 15_000,
  });
