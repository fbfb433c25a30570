// Operator accounts (admin only).
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../client';

export const userKeys = {
  all: ['users'] as const,
  list: (cursor?: string) => [...userKeys.all, 'list', cursor ?? ''] as const,
};

export const usersQuery = (cursor?: string) =>
  queryOptions({
    queryKey: userKeys.list(cursor),
    queryFn: () => call(api.GET('/users', { params: { query: { limit: 100, cursor } } })),
  });

export function useCreateUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['UserCreate']) => call(api.POST('/users', { body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useUpdateUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: ({ id, ...body }: Schemas['UserUpdate'] & { id: string }) =>
      call(api.PATCH('/users/{id}', { params: { path: { id } }, body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useDeleteUser() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/users/{id}', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: userKeys.all }),
  });
}

export function useRevokeUserSessions() {
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/users/{id}/sessions', { params: { path: { id } } })),
  });
}
