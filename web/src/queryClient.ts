import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { isApiError } from './api/client';
import { authKeys } from './api/queries/auth';

/** The app's QueryClient: a 401 anywhere means the session ended, so forget who we were. */
export function createQueryClient(): QueryClient {
  const onError = (e: unknown) => {
    if (isApiError(e, 401)) qc.setQueryData(authKeys.me, null);
  };
  const qc: QueryClient = new QueryClient({
    queryCache: new QueryCache({ onError }),
    mutationCache: new MutationCache({ onError }),
    defaultOptions: {
      queries: {
        staleTime: 5_000,
        refetchOnWindowFocus: true,
        retry: (n, e) => !(isApiError(e) && e.status >= 400 && e.status < 500) && n < 2,
      },
      mutations: { retry: false },
    },
  });
  return qc;
}
