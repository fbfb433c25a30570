// Schedules of a host, the cron preview, enable/disable and run-now.
import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, type ScheduleInput } from '../client';
import { jobKeys } from './jobs';

export const scheduleKeys = {
  all: ['schedules'] as const,
  list: (hostId: string) => [...scheduleKeys.all, hostId, 'list'] as const,
  detail: (hostId: string, id: string) => [...scheduleKeys.all, hostId, 'detail', id] as const,
  preview: (cron: string, timezone: string) => ['cron-preview', cron, timezone] as const,
};

export const schedulesQuery = (hostId: string) =>
  queryOptions({
    queryKey: scheduleKeys.list(hostId),
    queryFn: () => call(api.GET('/hosts/{id}/schedules', { params: { path: { id: hostId } } })),
    refetchInterval: 60_000,
  });

export const scheduleQuery = (hostId: string, id: string) =>
  queryOptions({
    queryKey: scheduleKeys.detail(hostId, id),
    queryFn: () => call(api.GET('/hosts/{id}/schedules/{sid}', { params: { path: { id: hostId, sid: id } } })),
  });

/** The next fire times of a cron expression, from the server (the authority on cron). */
export const cronPreviewQuery = (cron: string, timezone: string) =>
  queryOptions({
    queryKey: scheduleKeys.preview(cron, timezone),
    queryFn: ({ signal }) =>
      call(
        api.GET('/schedules/preview', {
          params: { query: { cron, timezone: timezone || undefined, count: 5 } },
          signal,
        }),
      ),
    enabled: cron.trim() !== '',
    retry: false,
    staleTime: 30_000,
    placeholderData: keepPreviousData,
  });

export function useSaveSchedule(hostId: string, id?: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: ScheduleInput) =>
      id
        ? call(api.PUT('/hosts/{id}/schedules/{sid}', { params: { path: { id: hostId, sid: id } }, body }))
        : call(api.POST('/hosts/{id}/schedules', { params: { path: { id: hostId } }, body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: scheduleKeys.all }),
  });
}

export function useDeleteSchedule(hostId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/hosts/{id}/schedules/{sid}', { params: { path: { id: hostId, sid: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: scheduleKeys.all }),
  });
}

export function useSetScheduleEnabled(hostId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, enabled }: { id: string; enabled: boolean }) =>
      enabled
        ? call(api.POST('/hosts/{id}/schedules/{sid}/enable', { params: { path: { id: hostId, sid: id } } }))
        : call(api.POST('/hosts/{id}/schedules/{sid}/disable', { params: { path: { id: hostId, sid: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: scheduleKeys.all }),
  });
}

/** Run a schedule now; answers the new job. */
export function useRunSchedule(hostId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => call(api.POST('/hosts/{id}/schedules/{sid}/run', { params: { path: { id: hostId, sid: id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: jobKeys.lists() }),
  });
}
