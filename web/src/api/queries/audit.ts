// The audit log (admin only), newest first.
import { keepPreviousData, queryOptions } from '@tanstack/react-query';
import { api, call } from '../client';

export const auditKeys = {
  all: ['audit'] as const,
  page: (cursor?: string) => [...auditKeys.all, cursor ?? ''] as const,
};

export const auditQuery = (cursor?: string) =>
  queryOptions({
    queryKey: auditKeys.page(cursor),
    queryFn: () => call(api.GET('/audit', { params: { query: { limit: 50, cursor } } })),
    placeholderData: keepPreviousData,
    refetchInterval: 15_000,
  });
