// Host → repository → snapshot → file browser. Directories are listed by the host's agent
// the first time anyone opens them and then come from the server's cache; an optional
// index makes the whole snapshot browse and search without the agent. Operators select
// files and folders to restore or download; viewers browse only.
import { useMemo, useState } from 'react';
import {
  Alert,
  Anchor,
  Badge,
  Breadcrumbs,
  Button,
  CloseButton,
  Group,
  Loader,
  Paper,
  Stack,
  Text,
  TextInput,
  Tooltip,
} from '@mantine/core';
import { IconArrowsDiff, IconDatabaseSearch, IconDownload, IconFolderOpen, IconRestore, IconSearch, IconX } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import { hostQuery } from '../../api/queries/hosts';
import { repositoriesQuery, snapshotsQuery } from '../../api/queries/repositories';
import { indexQuery, saveFromURL, searchQuery, TREE_PAGE, useBuildIndex, useCreateDownload, useFind, useTree } from '../../api/queries/browse';
import { useCan } from '../../auth';
import { isApiError, type Host, type Repository, type Snapshot } from '../../api/client';
import { AgentWait } from '../../components/AgentWait';
import { PageHeader } from '../../components/PageHeader';
import { EmptyState, ErrorState, FullPageLoader, TableSkeleton } from '../../components/States';
import { baseName, commonDir, findPattern, normalizePath, parentPath, pathCrumbs } from '../../lib/browsePath';
import { formatDateTime, formatNumber, formatRelative } from '../../lib/format';
import { notifyError, notifyOk } from '../../lib/notify';
import { EntriesTable, type Entry } from './EntriesTable';
import { RestoreModal } from './RestoreModal';

export function browseURL(hostId: string, repoId: string, snap: string, path?: string) {
  return `/hosts/${hostId}/repositories/${repoId}/snapshots/${snap}${path ? `?path=${encodeURIComponent(path)}` : ''}`;
}

type Actions = {
  canAct: boolean;
  selected: Set<string>;
  onToggle: (e: Entry, on: boolean) => void;
  onToggleAll: (es: Entry[], on: boolean) => void;
  onDownload: (e: Entry, archive?: 'tar' | 'zip') => void;
  onRestore: (e: Entry) => void;
};

/** One directory, page by page (cursor stack), through the agent or the server's cache. */
function DirListing({ hostId, repoId, snap, path, actions }: { hostId: string; repoId: string; snap: string; path: string; actions: Actions }) {
  const [cursors, setCursors] = useState<string[]>([]);
  const cursor = cursors[cursors.length - 1] ?? '';
  const { query, pending } = useTree(hostId, repoId, snap, path, cursor);
  const link = (e: Entry) => browseURL(hostId, repoId, snap, e.path);
  if (query.isPending) return <AgentWait pending={pending} what={`Listing ${path}`} />;
  if (query.isError) {
    const notDir = isApiError(query.error) && query.error.code === 'not_directory';
    return (
      <Stack>
        <ErrorState error={query.error} title={notDir ? 'That is a file, not a folder' : undefined} onRetry={notDir ? undefined : () => query.refetch()} />
        {path !== '/' && (
          <Anchor component={Link} to={link({ path: parentPath(path) } as Entry)} size="sm">
            Open the folder above
          </Anchor>
        )}
      </Stack>
    );
  }
  const page = query.data;
  const items = page.items ?? [];
  const start = cursors.length * TREE_PAGE;
  return (
    <Stack gap="xs">
      {items.length === 0 ? (
        <EmptyState icon={<IconFolderOpen size={24} />} title="Empty folder" />
      ) : (
        <EntriesTable
          entries={items}
          dirLink={link}
          canAct={actions.canAct}
          selected={actions.selected}
          onToggle={actions.onToggle}
          onToggleAll={(on) => actions.onToggleAll(items, on)}
          onDownload={actions.onDownload}
          onRestore={actions.onRestore}
          label={`Contents of ${path}`}
        />
      )}
      <Group justify="space-between">
        <Text size="xs" c="dimmed" data-testid="listing-info" data-cached={String(page.cached)}>
          {items.length ? `${formatNumber(start + 1)}–${formatNumber(start + items.length)} of ${formatNumber(page.total)}` : '0 entries'}
          {' · '}
          {page.indexed ? 'from the snapshot’s index' : page.cached ? 'from the server’s cache' : 'listed by the host’s agent'}
        </Text>
        {(cursors.length > 0 || page.next_cursor) && (
          <Group gap="xs">
            <Button size="xs" variant="default" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
              Previous page
            </Button>
            <Button size="xs" variant="default" disabled={!page.next_cursor} onClick={() => setCursors([...cursors, page.next_cursor])}>
              Next page
            </Button>
          </Group>
        )}
      </Group>
    </Stack>
  );
}

/** Search results: the index when there is one, restic find on the host otherwise. */
function SearchResults({ hostId, repoId, snap, q, indexed, actions }: { hostId: string; repoId: string; snap: string; q: string; indexed: boolean; actions: Actions }) {
  const idx = useQuery({ ...searchQuery(hostId, repoId, snap, q, ''), enabled: indexed });
  const find = useFind(hostId, repoId, [findPattern(q)], snap, !indexed);
  const link = (e: Entry) => browseURL(hostId, repoId, snap, e.path);
  const loading = indexed ? idx.isPending : find.query.isPending;
  const error = indexed ? idx.error : find.query.error;
  const items: Entry[] = indexed ? (idx.data?.items ?? []) : (find.query.data?.items ?? []);
  if (loading) return indexed ? <TableSkeleton rows={3} label="Searching" /> : <AgentWait pending={find.pending} what={`Finding “${findPattern(q)}” with restic`} />;
  if (error) return <ErrorState error={error} />;
  return (
    <Stack gap="xs">
      {items.length === 0 ? (
        <EmptyState icon={<IconSearch size={24} />} title="Nothing found" description={`No entry of this snapshot matches “${q}”.`} />
      ) : (
        <EntriesTable
          entries={items}
          dirLink={link}
          showPath
          canAct={actions.canAct}
          selected={actions.selected}
          onToggle={actions.onToggle}
          onToggleAll={(on) => actions.onToggleAll(items, on)}
          onDownload={actions.onDownload}
          onRestore={actions.onRestore}
          label="Search results"
        />
      )}
      <Text size="xs" c="dimmed" data-testid="search-info">
        {formatNumber(items.length)} found {indexed ? 'in the snapshot’s index' : 'by restic find on the host'}
        {!indexed && find.query.data?.truncated ? ` (of ${formatNumber(find.query.data.total)}; refine the pattern)` : ''}
      </Text>
    </Stack>
  );
}

function IndexStatus({ hostId, repoId, snap }: { hostId: string; repoId: string; snap: string }) {
  const idx = useQuery(indexQuery(hostId, repoId, snap));
  const build = useBuildIndex(hostId, repoId, snap);
  const state = build.isPending ? 'building' : (idx.data?.state ?? 'none');
  if (idx.isPending) return null;
  if (state === 'ready')
    return (
      <Tooltip label={`Indexed ${formatRelative(idx.data?.indexed_at)}: every folder opens and searches by name without the agent`} withArrow multiline w={280}>
        <Badge color="teal" variant="light" data-testid="index-state">
          indexed · {formatNumber(idx.data?.entries)} entries
        </Badge>
      </Tooltip>
    );
  if (state === 'building')
    return (
      <Group gap={6} data-testid="index-state">
        <Loader size="xs" />
        <Text size="xs" c="dimmed">
          Building the index…
        </Text>
      </Group>
    );
  return (
    <Group gap={6}>
      {state === 'failed' && (
        <Tooltip label={idx.data?.error ?? 'failed'} withArrow multiline w={300}>
          <Badge color="red" variant="light">
            index failed
          </Badge>
        </Tooltip>
      )}
      <Tooltip label="The host lists the whole snapshot once; then every folder opens and name search works without the agent" withArrow multiline w={300}>
        <Button
          size="xs"
          variant="light"
          leftSection={<IconDatabaseSearch size={14} />}
          onClick={() => build.mutate(undefined, { onError: (e) => notifyError('Could not build the index', e) })}
        >
          {state === 'failed' ? 'Build the index again' : 'Build index'}
        </Button>
      </Tooltip>
    </Group>
  );
}

export function SnapshotBrowserPage() {
  const { hostId = '', repoId = '', snapId = '' } = useParams();
  const host = useQuery(hostQuery(hostId));
  const repos = useQuery(repositoriesQuery(hostId));
  const snaps = useQuery(snapshotsQuery(hostId, repoId));
  if (host.isPending || repos.isPending) return <FullPageLoader label="Loading snapshot…" />;
  if (host.isError) return <ErrorState error={host.error} onRetry={() => host.refetch()} />;
  if (repos.isError) return <ErrorState error={repos.error} onRetry={() => repos.refetch()} />;
  const repo = (repos.data.items ?? []).find((r) => r.id === repoId);
  if (!repo) return <ErrorState error={new Error('This host has no such repository.')} title="Not found" />;
  if (snaps.isPending) return <FullPageLoader label="Loading snapshot…" />;
  return <Browser host={host.data} repo={repo} snapId={snapId} snapshots={snaps.data?.items ?? []} />;
}

function Browser({ host, repo, snapId, snapshots }: { host: Host; repo: Repository; snapId: string; snapshots: Snapshot[] }) {
  const hostId = host.id;
  const repoId = repo.id;
  const [sp, setSp] = useSearchParams();
  const snap = snapshots.find((s) => s.id === snapId || s.short_id === snapId);
  const path = normalizePath(sp.get('path') ?? commonDir(snap?.paths));
  const canAct = useCan('operator') && host.status !== 'decommissioned';
  const [selected, setSelected] = useState<Map<string, Entry>>(new Map());
  const [restorePaths, setRestorePaths] = useState<string[] | null>(null);
  const [q, setQ] = useState(sp.get('q') ?? '');
  const search = sp.get('q') ?? '';
  const idx = useQuery(indexQuery(hostId, repoId, snapId));
  const download = useCreateDownload(hostId, repoId, snapId);
  const label = snap?.short_id ?? snapId.slice(0, 8);
  const hostName = host.name || host.hostname;

  const actions: Actions = useMemo(
    () => ({
      canAct,
      selected: new Set(selected.keys()),
      onToggle: (e, on) =>
        setSelected((m) => {
          const n = new Map(m);
          if (on) n.set(e.path, e);
          else n.delete(e.path);
          return n;
        }),
      onToggleAll: (es, on) =>
        setSelected((m) => {
          const n = new Map(m);
          for (const e of es) {
            if (on) n.set(e.path, e);
            else n.delete(e.path);
          }
          return n;
        }),
      onDownload: (e, archive) =>
        download.mutate(
          { path: e.path, archive: e.type === 'dir' ? (archive ?? 'tar') : undefined },
          {
            onSuccess: (d) => {
              saveFromURL(d.ticket.url);
              notifyOk(`The agent is sending ${baseName(e.path)}${e.type === 'dir' ? ` as .${archive ?? 'tar'}` : ''}; your browser saves it as it arrives.`, 'Download started');
            },
            onError: (err) => notifyError('Could not start the download', err),
          },
        ),
      onRestore: (e) => setRestorePaths([e.path]),
    }),
    [canAct, selected, download],
  );

  const setSearch = (v: string) => {
    const next = new URLSearchParams(sp);
    if (v) next.set('q', v);
    else next.delete('q');
    setSp(next);
  };
  const sel = [...selected.values()];

  return (
    <>
      <PageHeader
        crumbs={[
          { label: 'Hosts', to: '/hosts' },
          { label: hostName, to: `/hosts/${hostId}` },
          { label: 'Snapshots', to: `/hosts/${hostId}/snapshots` },
          { label: `${repo.name} · ${label}` },
        ]}
        title={
          <Group gap="sm">
            <span>Snapshot {label}</span>
            {snap && (
              <Badge variant="light" size="lg" tt="none">
                {formatDateTime(snap.time)}
              </Badge>
            )}
          </Group>
        }
        description={
          snap ? (
            <>
              {snap.paths.join(', ')} · from {snap.hostname} · {formatRelative(snap.time)}
              {snap.tags.length ? ` · tags ${snap.tags.join(', ')}` : ''}
            </>
          ) : (
            `In ${repo.name}`
          )
        }
        actions={
          <>
            <Button variant="default" leftSection={<IconArrowsDiff size={16} />} component={Link} to={`/hosts/${hostId}/repositories/${repoId}/diff?to=${snap?.id ?? snapId}`}>
              Compare
            </Button>
            {canAct && (
              <Button leftSection={<IconRestore size={16} />} onClick={() => setRestorePaths(sel.length ? sel.map((e) => e.path) : [path])}>
                Restore…
              </Button>
            )}
          </>
        }
      />
      <Stack>
        <Paper withBorder radius="md" p="sm">
          <Group justify="space-between" gap="sm">
            <Breadcrumbs separator="/" aria-label="Path" separatorMargin={4} data-testid="path-crumbs" style={{ flexWrap: 'wrap' }}>
              {pathCrumbs(path).map((c, i, all) =>
                i === all.length - 1 && !search ? (
                  <Text key={c.path} size="sm" fw={700} aria-current="page">
                    {c.name}
                  </Text>
                ) : (
                  <Anchor key={c.path} component={Link} to={browseURL(hostId, repoId, snapId, c.path)} size="sm">
                    {c.name}
                  </Anchor>
                ),
              )}
            </Breadcrumbs>
            <Group gap="sm">
              <IndexStatus hostId={hostId} repoId={repoId} snap={snapId} />
              <form
                role="search"
                onSubmit={(e) => {
                  e.preventDefault();
                  setSearch(q.trim());
                }}
              >
                <TextInput
                  aria-label="Search this snapshot"
                  placeholder={idx.data?.state === 'ready' ? 'Search by name' : 'Find by name (restic find)'}
                  value={q}
                  onChange={(e) => setQ(e.currentTarget.value)}
                  leftSection={<IconSearch size={14} />}
                  rightSection={q ? <CloseButton size="sm" aria-label="Clear the search" onClick={() => (setQ(''), setSearch(''))} /> : null}
                  w={260}
                  size="xs"
                />
              </form>
            </Group>
          </Group>
          {path === '/' && snap && snap.paths.length > 0 && !search && (
            <Group gap="xs" mt="xs">
              <Text size="xs" c="dimmed">
                Backed-up paths:
              </Text>
              {snap.paths.map((p) => (
                <Anchor key={p} component={Link} to={browseURL(hostId, repoId, snapId, p)} size="xs" ff="monospace">
                  {p}
                </Anchor>
              ))}
            </Group>
          )}
        </Paper>

        {canAct && sel.length > 0 && (
          <Alert variant="light" color="blue" p="xs" data-testid="selection-bar">
            <Group justify="space-between">
              <Text size="sm" fw={600}>
                {sel.length} selected
                <Text span size="xs" c="dimmed" fw={400}>
                  {' '}
                  — {sel.slice(0, 3).map((e) => baseName(e.path)).join(', ')}
                  {sel.length > 3 ? ', …' : ''}
                </Text>
              </Text>
              <Group gap="xs">
                {sel.length === 1 && (
                  <Button size="xs" variant="default" leftSection={<IconDownload size={14} />} onClick={() => actions.onDownload(sel[0])} loading={download.isPending}>
                    Download
                  </Button>
                )}
                <Button size="xs" leftSection={<IconRestore size={14} />} onClick={() => setRestorePaths(sel.map((e) => e.path))}>
                  Restore selected…
                </Button>
                <Button size="xs" variant="subtle" leftSection={<IconX size={14} />} onClick={() => setSelected(new Map())}>
                  Clear
                </Button>
              </Group>
            </Group>
          </Alert>
        )}

        <Paper withBorder radius="md" p="md">
          {search ? (
            <Stack gap="xs">
              <Group justify="space-between">
                <Text fw={600}>Results for “{search}”</Text>
                <Button size="xs" variant="subtle" onClick={() => (setQ(''), setSearch(''))}>
                  Back to {path}
                </Button>
              </Group>
              {idx.isPending ? (
                <Loader size="sm" />
              ) : (
                <SearchResults hostId={hostId} repoId={repoId} snap={snapId} q={search} indexed={idx.data?.state === 'ready'} actions={actions} />
              )}
            </Stack>
          ) : (
            <DirListing key={path} hostId={hostId} repoId={repoId} snap={snapId} path={path} actions={actions} />
          )}
        </Paper>
        {!canAct && (
          <Text size="xs" c="dimmed">
            Restoring and downloading need the operator role.
          </Text>
        )}
      </Stack>
      {restorePaths && (
        <RestoreModal
          opened
          onClose={() => setRestorePaths(null)}
          host={host}
          repo={repo}
          snapshotId={snap?.id ?? snapId}
          snapshotLabel={label}
          paths={restorePaths}
        />
      )}
    </>
  );
}
