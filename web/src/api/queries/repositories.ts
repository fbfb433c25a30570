// Repositories of a host (secrets are write-only), their snapshots and size history.
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, type Schemas } from '../client';
import { jobKeys } from './jobs';

export const repoKeys = {
  all: ['repositories'] as const,
  list: (hostId: string) => [...repoKeys.all, hostId, 'list'] as const,
  snapshots: (hostId: string, repoId: string) => [...repoKeys.all, hostId, repoId, 'snapshots'] as const,
  stats: (hostId: string, repoId: string) => [...repoKeys.all, hostId, repoId, 'stats'] as const,
};

export const repositoriesQuery = (hostId: string) =>
  queryOptions({
    queryKey: repoKeys.list(hostId),
    queryFn: () => call(api.GET('/hosts/{id}/repositories', { params: { path: { id: hostId } } })),
  });

export const snapshotsQuery = (hostId: string, repoId: string, cursor?: string) =>
  queryOptions({
    queryKey: [...repoKeys.snapshots(hostId, repoId), cursor ?? ''] as const,
    queryFn: () =>
      call(
        api.GET('/hosts/{id}/repositories/{rid}/snapshots', {
          params: { path: { id: hostId, rid: repoId }, query: { limit: 100, cursor } },
        }),
      ),
    refetchInterval: 30_000,
  });

export const repoStatsQuery = (hostId: string, repoId: string) =>
  queryOptions({
    queryKey: repoKeys.stats(hostId, repoId),
    queryFn: () => call(api.GET('/hosts/{id}/repositories/{rid}/stats', { params: { path: { id: hostId, rid: repoId } } })),
    refetchInterval: 60_000,
  });

export function useCreateRepository(hostId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['RepositoryCreate']) =>
      call(api.POST('/hosts/{id}/repositories', { params: { path: { id: hostId } }, body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: repoKeys.list(hostId) }),
  });
}

export function useUpdateRepository(hostId: string, repoId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['RepositoryUpdate']) =>
      call(api.PATCH('/hosts/{id}/repositories/{rid}', { params: { path: { id: hostId, rid: repoId } }, body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: repoKeys.list(hostId) }),
  });
}

export function useDeleteRepository(hostId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (repoId: string) =>
      call(api.DELETE('/hosts/{id}/repositories/{rid}', { params: { path: { id: hostId, rid: repoId } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: repoKeys.all }),
  });
}

/** "Test connection": a cheap probe job on the agent; answers the job to follow. */
export function useTestRepository(hostId: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (repoId: string) =>
      call(api.POST('/hosts/{id}/repositories/{rid}/test', { params: { path: { id: hostId, rid: repoId } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: jobKeys.lists() }),
  });
}
