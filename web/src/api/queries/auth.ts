// Authentication: who am I, server info, login/logout, first-admin setup, password, sessions.
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, isApiError, type Me, type Schemas } from '../client';

export const authKeys = {
  me: ['auth', 'me'] as const,
  info: ['info'] as const,
  sessions: ['auth', 'sessions'] as const,
};

/** The signed-in principal, or null when not signed in (401). */
export const meQuery = () =>
  queryOptions({
    queryKey: authKeys.me,
    queryFn: async (): Promise<Me | null> => {
      try {
        return await call(api.GET('/auth/me'));
      } catch (e) {
        if (isApiError(e, 401)) return null;
        throw e;
      }
    },
    staleTime: 60_000,
    retry: false,
  });

export const infoQuery = () =>
  queryOptions({
    queryKey: authKeys.info,
    queryFn: () => call(api.GET('/info')),
    staleTime: 5 * 60_000,
  });

export const sessionsQuery = () =>
  queryOptions({ queryKey: authKeys.sessions, queryFn: () => call(api.GET('/auth/sessions')) });

export function useLogin() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['LoginRequest']) => call(api.POST('/auth/login', { body })),
    onSuccess: async () => {
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== 'auth' });
      await qc.invalidateQueries({ queryKey: authKeys.me });
    },
  });
}

export function useSetup() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['SetupRequest']) => call(api.POST('/auth/setup', { body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: authKeys.info }),
  });
}

export function useLogout() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () => call(api.POST('/auth/logout')),
    onSettled: () => {
      qc.clear();
      qc.setQueryData(authKeys.me, null);
    },
  });
}

export function useChangePassword() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['PasswordChange']) => call(api.POST('/auth/password', { body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: authKeys.sessions }),
  });
}

export function useRevokeSession() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (id: string) => call(api.DELETE('/auth/sessions/{id}', { params: { path: { id } } })),
    onSuccess: () => qc.invalidateQueries({ queryKey: authKeys.sessions }),
  });
}
