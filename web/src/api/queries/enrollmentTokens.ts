// Enrollment tokens: what a new host's agent exchanges for its credential.
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../client';

export const enrollmentKeys = {
  all: ['enrollment-tokens'] as const,
  list: () => [...enrollmentKeys.all, 'list'] as const,
};

export const enrollmentTokensQuery = () =>
  queryOptions({
    queryKey: enrollmentKeys.list(),
    queryFn: () => call(api.GET('/enrollment-tokens', { params: { query: { limit: 100 } } })),
    refetchInterval: 10_000,
  });

export function useCreateEnrollmentToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['EnrollmentTokenCreate']) => call(api.POST('/enrollment-tokens', { body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: enrollmentKeys.all }),
  });
}

export function useRevokeEnrollmentToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/enrollment-tokens/{id}', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: enrollmentKeys.all }),
  });
}
