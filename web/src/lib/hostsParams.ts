// The hosts list's state lives in the URL (shareable, survives reload): search, status,
// labels, sort, order, page size and the cursor of the current page. Keyset pagination
// has no page numbers, so "previous" pops a stack of cursors kept in the URL too.
import type { HostListParams } from '../api/queries/hosts';

export const sortKeys = ['name', 'hostname', 'last_seen', 'created_at'] as const;
export type SortKey = (typeof sortKeys)[number];
export const statuses = ['', 'online', 'offline', 'decommissioned', 'all'] as const;
export const pageSizes = [25, 50, 100, 200] as const;

export type HostsView = {
  q: string;
  status: (typeof statuses)[number];
  labels: string[];
  sort: SortKey;
  order: 'asc' | 'desc';
  limit: number;
  /** cursors of the pages before the current one, oldest first; the last is the current page's */
  cursors: string[];
};

export function parseHostsView(sp: URLSearchParams): HostsView {
  const status = sp.get('status') ?? '';
  const sort = sp.get('sort') ?? 'name';
  const limit = Number(sp.get('limit') ?? 50);
  return {
    q: sp.get('q') ?? '',
    status: (statuses as readonly string[]).includes(status) ? (status as HostsView['status']) : '',
    labels: sp.getAll('label').filter(Boolean),
    sort: (sortKeys as readonly string[]).includes(sort) ? (sort as SortKey) : 'name',
    order: sp.get('order') === 'desc' ? 'desc' : 'asc',
    limit: (pageSizes as readonly number[]).includes(limit) ? limit : 50,
    cursors: sp.getAll('c').filter(Boolean),
  };
}

export function hostsViewToSearch(v: HostsView): URLSearchParams {
  const sp = new URLSearchParams();
  if (v.q) sp.set('q', v.q);
  if (v.status) sp.set('status', v.status);
  for (const l of v.labels) sp.append('label', l);
  if (v.sort !== 'name') sp.set('sort', v.sort);
  if (v.order !== 'asc') sp.set('order', v.order);
  if (v.limit !== 50) sp.set('limit', String(v.limit));
  for (const c of v.cursors) sp.append('c', c);
  return sp;
}

export function hostsViewToQuery(v: HostsView): HostListParams {
  return {
    q: v.q || undefined,
    status: v.status || undefined,
    label: v.labels.length ? v.labels : undefined,
    sort: v.sort,
    order: v.order,
    limit: v.limit,
    cursor: v.cursors.length ? v.cursors[v.cursors.length - 1] : undefined,
  };
}

/** Any change to the filter or order starts again at the first page. */
export function changeFilter(v: HostsView, patch: Partial<Omit<HostsView, 'cursors'>>): HostsView {
  return { ...v, ...patch, cursors: [] };
}

/** Clicking a column: sort by it ascending, or flip the order when it already sorts. */
export function toggleSort(v: HostsView, key: SortKey): HostsView {
  if (v.sort === key) return changeFilter(v, { order: v.order === 'asc' ? 'desc' : 'asc' });
  return changeFilter(v, { sort: key, order: key === 'last_seen' || key === 'created_at' ? 'desc' : 'asc' });
}

export function nextPage(v: HostsView, cursor: string): HostsView {
  return { ...v, cursors: [...v.cursors, cursor] };
}

export function prevPage(v: HostsView): HostsView {
  return { ...v, cursors: v.cursors.slice(0, -1) };
}
