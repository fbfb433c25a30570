// API tokens for automation; the secret is returned once, by the create call.
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../client';

export const apiTokenKeys = {
  all: ['api-tokens'] as const,
  list: (all: boolean) => [...apiTokenKeys.all, 'list', all] as const,
};

export const apiTokensQuery = (all: boolean) =>
  queryOptions({
    queryKey: apiTokenKeys.list(all),
    queryFn: () => call(api.GET('/api-tokens', { params: { query: { all: all || undefined, limit: 200 } } })),
  });

export function useCreateAPIToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['APITokenCreate']) => call(api.POST('/api-tokens', { body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: apiTokenKeys.all }),
  });
}

export function useRevokeAPIToken() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/api-tokens/{id}', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: apiTokenKeys.all }),
  });
}
