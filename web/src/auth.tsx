// Who is signed in, what their role allows, and the guard that sends everyone else
// to the login page. The server enforces every rule; the UI only hides what a role
// cannot do, so viewers are not offered actions that would fail.
import type { ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { Navigate, useLocation } from 'react-router';
import { meQuery } from './api/queries/auth';
import type { Role } from './api/client';
import { FullPageLoader, ErrorState } from './components/States';

const rank: Record<string, number> = { viewer: 1, operator: 2, admin: 3 };

export function roleAtLeast(role: string | undefined, need: Role): boolean {
  return (rank[role ?? ''] ?? 0) >= rank[need];
}

export function useMe() {
  return useQuery(meQuery());
}

/** The effective role of the signed-in principal (undefined while loading). */
export function useRole(): Role | undefined {
  const { data } = useMe();
  return (data?.role as Role | undefined) ?? undefined;
}

export function useCan(need: Role): boolean {
  return roleAtLeast(useRole(), need);
}

/** Renders children only for principals of at least `role`. */
export function Can({ role, children, fallback = null }: { role: Role; children: ReactNode; fallback?: ReactNode }) {
  return useCan(role) ? <>{children}</> : <>{fallback}</>;
}

export function RequireAuth({ children }: { children: ReactNode }) {
  const me = useMe();
  const loc = useLocation();
  if (me.isPending) return <FullPageLoader />;
  if (me.isError) return <ErrorState error={me.error} onRetry={() => me.refetch()} />;
  if (!me.data) {
    const next = loc.pathname + loc.search;
    return <Navigate to={next === '/' ? '/login' : `/login?next=${encodeURIComponent(next)}`} replace />;
  }
  return <>{children}</>;
}

export function RequireRole({ role, children }: { role: Role; children: ReactNode }) {
  const can = useCan(role);
  if (!can) {
    return (
      <ErrorState
        title="Not available to your role"
        error={new Error(`This page needs the ${role} role.`)}
      />
    );
  }
  return <>{children}</>;
}
