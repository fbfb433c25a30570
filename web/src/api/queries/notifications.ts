// Notification channels (secrets write-only), routing rules, the delivery log with its
// attempts, "send test", and per-schedule Healthchecks-style ping URLs.
import { keepPreviousData, queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../client';

export type DeliveryParams = {
  status?: 'pending' | 'sending' | 'delivered' | 'failed';
  channel_id?: string;
  schedule_id?: string;
  event_type?: string;
  host_id?: string;
  alert_id?: string;
  limit?: number;
  cursor?: string;
};

export const notificationKeys = {
  all: ['notifications'] as const,
  channels: () => [...notificationKeys.all, 'channels'] as const,
  rules: () => [...notificationKeys.all, 'rules'] as const,
  deliveries: (p: DeliveryParams) => [...notificationKeys.all, 'deliveries', p] as const,
  delivery: (id: number) => [...notificationKeys.all, 'delivery', id] as const,
  ping: (hostId: string, sid: string) => [...notificationKeys.all, 'ping', hostId, sid] as const,
};

export const channelsQuery = () =>
  queryOptions({
    queryKey: notificationKeys.channels(),
    queryFn: () => call(api.GET('/notification-channels')),
  });

export function useSaveChannel(id?: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['NotificationChannelInput']) =>
      id
        ? call(api.PUT('/notification-channels/{id}', { params: { path: { id } }, body }))
        : call(api.POST('/notification-channels', { body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: notificationKeys.channels() }),
  });
}

export function useDeleteChannel() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/notification-channels/{id}', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: notificationKeys.all }),
  });
}

/** Sends a test message now; answers the logged delivery (delivered, or failed with last_error). */
export function useTestChannel() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => call(api.POST('/notification-channels/{id}/test', { params: { path: { id } } })),
    onSettled: () => qc.invalidateQueries({ queryKey: [...notificationKeys.all, 'deliveries'] }),
  });
}

export const rulesQuery = () =>
  queryOptions({
    queryKey: notificationKeys.rules(),
    queryFn: () => call(api.GET('/notification-rules')),
  });

export function useSaveRule(id?: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['NotificationRuleInput']) =>
      id
        ? call(api.PUT('/notification-rules/{id}', { params: { path: { id } }, body }))
        : call(api.POST('/notification-rules', { body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: notificationKeys.rules() }),
  });
}

export function useDeleteRule() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/notification-rules/{id}', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: notificationKeys.rules() }),
  });
}

export const deliveriesQuery = (p: DeliveryParams, opts: { refetchInterval?: number } = {}) =>
  queryOptions({
    queryKey: notificationKeys.deliveries(p),
    queryFn: ({ signal }) => call(api.GET('/notification-deliveries', { params: { query: p }, signal })),
    placeholderData: keepPreviousData,
    refetchInterval: opts.refetchInterval ?? 10_000,
  });

export const deliveryQuery = (id: number) =>
  queryOptions({
    queryKey: notificationKeys.delivery(id),
    queryFn: () => call(api.GET('/notification-deliveries/{id}', { params: { path: { id } } })),
    refetchInterval: (q) => (q.state.data && (q.state.data.status === 'delivered' || q.state.data.status === 'failed') ? false : 5_000),
  });

export const schedulePingQuery = (hostId: string, sid: string) =>
  queryOptions({
    queryKey: notificationKeys.ping(hostId, sid),
    queryFn: () => call(api.GET('/hosts/{id}/schedules/{sid}/ping', { params: { path: { id: hostId, sid } } })),
  });

export function useSetSchedulePing(hostId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ sid, url }: { sid: string; url: string }) =>
      call(api.PUT('/hosts/{id}/schedules/{sid}/ping', { params: { path: { id: hostId, sid } }, body: { url } })),
    onSuccess: (p) => qc.setQueryData(notificationKeys.ping(hostId, p.schedule_id), p),
  });
}

export function useDeleteSchedulePing(hostId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (sid: string) => call(api.DELETE('/hosts/{id}/schedules/{sid}/ping', { params: { path: { id: hostId, sid } } })),
    onSuccess: (p) => qc.setQueryData(notificationKeys.ping(hostId, p.schedule_id), p),
  });
}
