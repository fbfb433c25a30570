// What changed between two snapshots of a repository (restic diff through the host's
// agent): added, removed and changed paths, and restic's totals. Kept on the server for
// good once computed.
import { useState } from 'react';
import { Anchor, Badge, Button, Group, Paper, SegmentedControl, Select, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { IconArrowsDiff } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams, useSearchParams } from 'react-router';
import { hostQuery } from '../../api/queries/hosts';
import { repositoriesQuery, snapshotsQuery } from '../../api/queries/repositories';
import { useDiff } from '../../api/queries/browse';
import { AgentWait } from '../../components/AgentWait';
import { PageHeader } from '../../components/PageHeader';
import { EmptyState, ErrorState, FullPageLoader } from '../../components/States';
import { formatBytes, formatDateTime, formatNumber } from '../../lib/format';
import { parentPath } from '../../lib/browsePath';
import { browseURL } from './SnapshotBrowserPage';

export const modifierInfo: Record<string, { label: string; color: string }> = {
  '+': { label: 'added', color: 'green' },
  '-': { label: 'removed', color: 'red' },
  M: { label: 'changed', color: 'yellow' },
  T: { label: 'type changed', color: 'orange' },
  U: { label: 'metadata', color: 'gray' },
};

/** restic's diff statistics as label/value pairs. */
export function diffStats(stats: Record<string, unknown> | undefined): { label: string; value: string }[] {
  if (!stats) return [];
  const out: { label: string; value: string }[] = [];
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  if (num(stats.changed_files) !== undefined) out.push({ label: 'Changed files', value: formatNumber(num(stats.changed_files)) });
  for (const side of ['added', 'removed'] as const) {
    const s = stats[side] as Record<string, unknown> | undefined;
    if (!s) continue;
    out.push({ label: `${side === 'added' ? 'Added' : 'Removed'} files / dirs`, value: `${formatNumber(num(s.files) ?? 0)} / ${formatNumber(num(s.dirs) ?? 0)}` });
    out.push({ label: `${side === 'added' ? 'Added' : 'Removed'} bytes`, value: formatBytes(num(s.bytes) ?? 0) });
  }
  return out;
}

export function DiffPage() {
  const { hostId = '', repoId = '' } = useParams();
  const [sp, setSp] = useSearchParams();
  const host = useQuery(hostQuery(hostId));
  const repos = useQuery(repositoriesQuery(hostId));
  const snaps = useQuery(snapshotsQuery(hostId, repoId));
  const list = snaps.data?.items ?? [];
  const to = sp.get('to') ?? list[0]?.id ?? '';
  const toIdx = list.findIndex((s) => s.id === to || s.short_id === to);
  const from = sp.get('from') ?? (toIdx >= 0 ? list[toIdx + 1]?.id : list[1]?.id) ?? '';
  const [cursors, setCursors] = useState<string[]>([]);
  const [filter, setFilter] = useState('all');
  const { query, pending } = useDiff(hostId, repoId, from, to, cursors[cursors.length - 1] ?? '');
  if (host.isPending || snaps.isPending) return <FullPageLoader label="Loading snapshots…" />;
  if (host.isError) return <ErrorState error={host.error} />;
  const repo = repos.data?.items?.find((r) => r.id === repoId);
  const opts = list.map((s) => ({ value: s.id, label: `${s.short_id} · ${formatDateTime(s.time)}` }));
  const set = (k: 'from' | 'to', v: string | null) => {
    const n = new URLSearchParams(sp);
    n.set('from', from);
    n.set('to', to);
    if (v) n.set(k, v);
    setSp(n, { replace: true });
    setCursors([]);
  };
  const d = query.data;
  const items = (d?.items ?? []).filter((c) => filter === 'all' || c.modifier === filter);
  const short = (id: string) => list.find((s) => s.id === id)?.short_id ?? id.slice(0, 8);

  return (
    <>
      <PageHeader
        crumbs={[
          { label: 'Hosts', to: '/hosts' },
          { label: host.data.name || host.data.hostname, to: `/hosts/${hostId}` },
          { label: 'Snapshots', to: `/hosts/${hostId}/snapshots` },
          { label: 'Compare' },
        ]}
        title="Compare snapshots"
        description={repo ? `In ${repo.name}: what changed from the older snapshot to the newer one.` : undefined}
      />
      <Stack>
        <Paper withBorder radius="md" p="md">
          <Group align="flex-end">
            <Select label="From (older)" data={opts} value={from || null} onChange={(v) => set('from', v)} w={300} searchable allowDeselect={false} />
            <IconArrowsDiff size={20} style={{ marginBottom: 8 }} aria-hidden="true" />
            <Select label="To (newer)" data={opts} value={to || null} onChange={(v) => set('to', v)} w={300} searchable allowDeselect={false} />
          </Group>
        </Paper>
        {list.length < 2 ? (
          <EmptyState icon={<IconArrowsDiff size={24} />} title="Nothing to compare" description="This repository needs two snapshots." />
        ) : from === to ? (
          <Text c="dimmed">Choose two different snapshots.</Text>
        ) : query.isPending ? (
          <AgentWait pending={pending} what={`Comparing ${short(from)} with ${short(to)}`} />
        ) : query.isError ? (
          <ErrorState error={query.error} onRetry={() => query.refetch()} />
        ) : (
          <Paper withBorder radius="md" p="md" data-testid="diff">
            <Stack>
              <SimpleGrid cols={{ base: 2, sm: 3, lg: 5 }}>
                {diffStats(d?.stats).map((s) => (
                  <div key={s.label}>
                    <Text size="xs" c="dimmed" fw={600} tt="uppercase">
                      {s.label}
                    </Text>
                    <Text fw={700}>{s.value}</Text>
                  </div>
                ))}
              </SimpleGrid>
              <Group justify="space-between">
                <SegmentedControl
                  size="xs"
                  aria-label="Show changes"
                  value={filter}
                  onChange={setFilter}
                  data={[{ value: 'all', label: `All (${formatNumber(d?.total)})` }, ...Object.entries(modifierInfo).map(([k, v]) => ({ value: k, label: v.label }))]}
                />
                {d?.truncated && (
                  <Text size="xs" c="dimmed">
                    The server keeps the first {formatNumber(d.items.length)} changes of {formatNumber(d.total)}.
                  </Text>
                )}
              </Group>
              {items.length === 0 ? (
                <Text size="sm" c="dimmed">
                  {d?.total ? 'No change of this kind.' : 'The two snapshots hold the same files.'}
                </Text>
              ) : (
                <Table verticalSpacing={4} aria-label="Changes">
                  <Table.Tbody>
                    {items.map((c) => {
                      const m = modifierInfo[c.modifier] ?? { label: c.modifier, color: 'gray' };
                      const isDir = c.path.endsWith('/');
                      const snap = c.modifier === '-' ? from : to;
                      const dir = isDir ? c.path.replace(/\/+$/, '') || '/' : parentPath(c.path);
                      return (
                        <Table.Tr key={c.path} data-testid="change-row" data-modifier={c.modifier}>
                          <Table.Td w={130}>
                            <Badge color={m.color} variant="light" tt="none" leftSection={<b>{c.modifier}</b>}>
                              {m.label}
                            </Badge>
                          </Table.Td>
                          <Table.Td>
                            <Anchor component={Link} to={browseURL(hostId, repoId, snap, dir)} size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
                              {c.path}
                            </Anchor>
                          </Table.Td>
                        </Table.Tr>
                      );
                    })}
                  </Table.Tbody>
                </Table>
              )}
              {(cursors.length > 0 || d?.next_cursor) && (
                <Group justify="flex-end" gap="xs">
                  <Button size="xs" variant="default" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
                    Previous page
                  </Button>
                  <Button size="xs" variant="default" disabled={!d?.next_cursor} onClick={() => d?.next_cursor && setCursors([...cursors, d.next_cursor])}>
                    Next page
                  </Button>
                </Group>
              )}
            </Stack>
          </Paper>
        )}
      </Stack>
    </>
  );
}
