import { describe, expect, it } from 'vitest';
import { changeFilter, hostsViewToQuery, hostsViewToSearch, nextPage, parseHostsView, prevPage, toggleSort } from './hostsParams';

describe('hosts list URL state', () => {
  it('parses defaults and ignores junk', () => {
    const v = parseHostsView(new URLSearchParams('sort=bogus&limit=7&status=weird'));
    expect(v).toMatchObject({ q: '', status: '', sort: 'name', order: 'asc', limit: 50, cursors: [] });
  });
  it('round-trips through the URL', () => {
    const v = parseHostsView(new URLSearchParams('q=web&status=offline&label=env%3Dprod&label=rack&sort=last_seen&order=desc&limit=100&c=abc'));
    expect(parseHostsView(hostsViewToSearch(v))).toEqual(v);
    expect(hostsViewToQuery(v)).toEqual({ q: 'web', status: 'offline', label: ['env=prod', 'rack'], sort: 'last_seen', order: 'desc', limit: 100, cursor: 'abc' });
  });
  it('pages with a cursor stack and resets it on any filter change', () => {
    let v = parseHostsView(new URLSearchParams());
    v = nextPage(nextPage(v, 'c1'), 'c2');
    expect(hostsViewToQuery(v).cursor).toBe('c2');
    expect(hostsViewToQuery(prevPage(v)).cursor).toBe('c1');
    expect(changeFilter(v, { q: 'db' }).cursors).toEqual([]);
  });
  it('toggles sort order on the same column, newest first for times', () => {
    const v = parseHostsView(new URLSearchParams());
    expect(toggleSort(v, 'name').order).toBe('desc');
    expect(toggleSort(v, 'last_seen')).toMatchObject({ sort: 'last_seen', order: 'desc' });
    expect(toggleSort(v, 'hostname')).toMatchObject({ sort: 'hostname', order: 'asc' });
  });
});
