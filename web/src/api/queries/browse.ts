// Snapshots' contents through the host's agent: directory listings (cached on the server
// for good), the optional index and its name search, find in one or every snapshot, the
// diff of two snapshots; restore jobs and downloads. Requests the agent answers go through
// useAgentQuery (202 → ask the same again). See docs/restore.md.
import { queryOptions, useMutation, useQueryClient } from '@tanstack/react-query';
import { api, call, callAgent, type Schemas } from '../client';
import { AGENT_WAIT_SECONDS, useAgentQuery } from '../useAgentQuery';
import { jobKeys } from './jobs';

export const TREE_PAGE = 200;

export const browseKeys = {
  all: ['browse'] as const,
  snapshot: (h: string, r: string, s: string) => [...browseKeys.all, h, r, s] as const,
  tree: (h: string, r: string, s: string, path: string, cursor: string) => [...browseKeys.snapshot(h, r, s), 'tree', path, cursor] as const,
  index: (h: string, r: string, s: string) => [...browseKeys.snapshot(h, r, s), 'index'] as const,
  search: (h: string, r: string, s: string, q: string, path: string) => [...browseKeys.snapshot(h, r, s), 'search', q, path] as const,
  find: (h: string, r: string, patterns: string[], snapshot: string) => [...browseKeys.all, h, r, 'find', patterns.join('\n'), snapshot] as const,
  diff: (h: string, r: string, from: string, to: string, cursor: string) => [...browseKeys.all, h, r, 'diff', from, to, cursor] as const,
};

/** One page of a directory of a snapshot. */
export function useTree(h: string, r: string, s: string, path: string, cursor = '', enabled = true) {
  return useAgentQuery({
    queryKey: browseKeys.tree(h, r, s, path, cursor),
    enabled: enabled && !!h && !!r && !!s,
    fetchOnce: (signal) =>
      callAgent<Schemas['DirPage']>(
        api.GET('/hosts/{id}/repositories/{rid}/snapshots/{sid}/tree', {
          params: { path: { id: h, rid: r, sid: s }, query: { path, cursor: cursor || undefined, limit: TREE_PAGE, wait: AGENT_WAIT_SECONDS } },
          signal,
        }),
      ),
  });
}

/** Whether the snapshot's whole tree is on the server; polled while it is being built. */
export const indexQuery = (h: string, r: string, s: string) =>
  queryOptions({
    queryKey: browseKeys.index(h, r, s),
    queryFn: () => call(api.GET('/hosts/{id}/repositories/{rid}/snapshots/{sid}/index', { params: { path: { id: h, rid: r, sid: s } } })),
    refetchInterval: (q) => (q.state.data?.state === 'building' ? 2_000 : false),
  });

export function useBuildIndex(h: string, r: string, s: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: () =>
      call(
        api.POST('/hosts/{id}/repositories/{rid}/snapshots/{sid}/index', {
          params: { path: { id: h, rid: r, sid: s }, query: { wait: AGENT_WAIT_SECONDS } },
        }),
      ),
    onSuccess: (idx) => {
      qc.setQueryData(browseKeys.index(h, r, s), idx);
      if (idx.state === 'ready') return qc.invalidateQueries({ queryKey: [...browseKeys.snapshot(h, r, s), 'tree'] });
    },
  });
}

/** Name search in the snapshot's index (no agent involved). */
export const searchQuery = (h: string, r: string, s: string, q: string, path: string) =>
  queryOptions({
    queryKey: browseKeys.search(h, r, s, q, path),
    queryFn: () =>
      call(
        api.GET('/hosts/{id}/repositories/{rid}/snapshots/{sid}/search', {
          params: { path: { id: h, rid: r, sid: s }, query: { q, path: path || undefined, limit: 500 } },
        }),
      ),
    enabled: q.trim() !== '',
    staleTime: Infinity,
  });

/** restic find: in one snapshot, or in every snapshot of the repository (snapshot ''). */
export function useFind(h: string, r: string, patterns: string[], snapshot = '', enabled = true) {
  return useAgentQuery({
    queryKey: browseKeys.find(h, r, patterns, snapshot),
    enabled: enabled && patterns.length > 0 && !!r,
    // Over all snapshots the server keeps the answer for a minute only.
    staleTime: snapshot ? Infinity : 60_000,
    fetchOnce: (signal) =>
      callAgent<Schemas['FindPage']>(
        api.GET('/hosts/{id}/repositories/{rid}/find', {
          params: { path: { id: h, rid: r }, query: { pattern: patterns, snapshot: snapshot || undefined, limit: 1000, wait: AGENT_WAIT_SECONDS } },
          signal,
        }),
      ),
  });
}

export function useDiff(h: string, r: string, from: string, to: string, cursor = '') {
  return useAgentQuery({
    queryKey: browseKeys.diff(h, r, from, to, cursor),
    enabled: !!from && !!to && from !== to,
    fetchOnce: (signal) =>
      callAgent<Schemas['DiffPage']>(
        api.GET('/hosts/{id}/repositories/{rid}/diff', {
          params: { path: { id: h, rid: r }, query: { from, to, cursor: cursor || undefined, limit: 500, wait: AGENT_WAIT_SECONDS } },
          signal,
        }),
      ),
  });
}

/** Queues a restore job; answers the job to follow. */
export function useRestore(h: string, r: string, s: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: Schemas['RestoreRequest']) =>
      call(api.POST('/hosts/{id}/repositories/{rid}/snapshots/{sid}/restore', { params: { path: { id: h, rid: r, sid: s } }, body })),
    onSuccess: () => qc.invalidateQueries({ queryKey: jobKeys.lists() }),
  });
}

/** Starts a download; answers it with a single-use ticket URL for the browser. */
export function useCreateDownload(h: string, r: string, s: string) {
  return useMutation({
    mutationFn: (body: Schemas['DownloadCreate']) =>
      call(api.POST('/hosts/{id}/repositories/{rid}/snapshots/{sid}/downloads', { params: { path: { id: h, rid: r, sid: s } }, body })),
  });
}

/** Has the browser fetch a URL as a download, without leaving the page. */
export function saveFromURL(url: string) {
  const a = document.createElement('a');
  a.href = url;
  a.download = '';
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
}
