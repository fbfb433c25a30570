import { useState } from 'react';
import { Anchor, Badge, Button, Checkbox, Group, Paper, Select, Stack, Table, Text, TextInput, Tooltip } from '@mantine/core';
import { IconArrowsDiff, IconCamera, IconFolderOpen, IconSearch } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { repositoriesQuery, snapshotsQuery } from '../../api/queries/repositories';
import { useFind } from '../../api/queries/browse';
import { AgentWait } from '../../components/AgentWait';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import type { Snapshot } from '../../api/client';
import { formatBytes, formatDateTime, formatNumber, formatRelative } from '../../lib/format';
import { findPattern } from '../../lib/browsePath';
import { EntriesTable } from '../browse/EntriesTable';
import { browseURL } from '../browse/SnapshotBrowserPage';

/** Size and file count from restic's snapshot summary (restic 0.17 and later). */
export function snapshotSize(s: Snapshot): { bytes?: number; files?: number; added?: number } {
  const sum = (s.summary ?? {}) as Record<string, unknown>;
  const num = (k: string) => (typeof sum[k] === 'number' ? (sum[k] as number) : undefined);
  return { bytes: num('total_bytes_processed'), files: num('total_files_processed'), added: num('data_added') };
}

/** restic find over every snapshot of a repository (through the host's agent). */
function FindAcrossSnapshots({ hostId, repoId, snapshots }: { hostId: string; repoId: string; snapshots: Snapshot[] }) {
  const [term, setTerm] = useState('');
  const [pattern, setPattern] = useState('');
  const { query, pending } = useFind(hostId, repoId, pattern ? [pattern] : [], '', !!pattern);
  const short = (id?: string) => snapshots.find((s) => s.id === id)?.short_id ?? (id ?? '').slice(0, 8);
  const timeOf = (id?: string) => snapshots.find((s) => s.id === id)?.time;
  return (
    <Stack gap="xs">
      <form
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setPattern(findPattern(term));
        }}
      >
        <Group gap="xs" align="flex-end">
          <TextInput
            label="Find a file in every snapshot"
            description="A name or a glob (*.conf); restic find runs on the host"
            value={term}
            onChange={(e) => setTerm(e.currentTarget.value)}
            leftSection={<IconSearch size={14} />}
            w={360}
          />
          <Button type="submit" variant="light" disabled={!term.trim()}>
            Find
          </Button>
          {pattern && (
            <Button variant="subtle" onClick={() => (setPattern(''), setTerm(''))}>
              Clear
            </Button>
          )}
        </Group>
      </form>
      {pattern &&
        (query.isPending ? (
          <AgentWait pending={pending} what={`Finding “${pattern}” in every snapshot`} />
        ) : query.isError ? (
          <ErrorState error={query.error} onRetry={() => query.refetch()} />
        ) : (query.data.items ?? []).length === 0 ? (
          <Text size="sm" c="dimmed">
            No snapshot holds “{pattern}”.
          </Text>
        ) : (
          <>
            <Text size="sm" data-testid="find-summary">
              {formatNumber(query.data.total)} matches in {formatNumber(query.data.snapshots)} snapshots
              {query.data.truncated ? ` (showing ${formatNumber(query.data.items.length)})` : ''}
            </Text>
            <EntriesTable
              entries={query.data.items}
              showPath
              dirLink={(e) => browseURL(hostId, repoId, e.snapshot ?? '', e.path)}
              extraColumn={{
                title: 'Snapshot',
                cell: (e) => (
                  <Tooltip label={formatDateTime(timeOf(e.snapshot))} withArrow>
                    <Text size="sm" ff="monospace">
                      {short(e.snapshot)}
                    </Text>
                  </Tooltip>
                ),
              }}
              label="Found files"
            />
          </>
        ))}
    </Stack>
  );
}

export function SnapshotsTab({ hostId }: { hostId: string }) {
  const repos = useQuery(repositoriesQuery(hostId));
  const navigate = useNavigate();
  const [repoSel, setRepoSel] = useState<string | null>(null);
  const [cursors, setCursors] = useState<string[]>([]);
  const [compare, setCompare] = useState<string[]>([]);
  const items = repos.data?.items ?? [];
  const repoId = repoSel ?? items[0]?.id ?? '';
  const snaps = useQuery({ ...snapshotsQuery(hostId, repoId, cursors[cursors.length - 1]), enabled: !!repoId });

  if (repos.isPending) return <TableSkeleton rows={4} label="Loading repositories" />;
  if (repos.isError) return <ErrorState error={repos.error} onRetry={() => repos.refetch()} />;
  if (items.length === 0)
    return <EmptyState icon={<IconCamera size={24} />} title="No repositories" description="Snapshots appear once a repository is configured and backed up into." />;

  const list = snaps.data?.items ?? [];
  return (
    <Paper withBorder radius="md" p="md">
      <Stack>
        <Group justify="space-between">
          <Select
            label="Repository"
            data={items.map((r) => ({ value: r.id!, label: r.name ?? r.id! }))}
            value={repoId}
            onChange={(v) => (setRepoSel(v), setCursors([]), setCompare([]))}
            allowDeselect={false}
            w={260}
          />
          <Group gap="sm">
            <Text size="xs" c="dimmed">
              As last reported by the agent after each backup or forget
            </Text>
            <Button
              size="xs"
              variant="light"
              leftSection={<IconArrowsDiff size={14} />}
              disabled={compare.length !== 2}
              onClick={() => {
                const [a, b] = [...compare].sort((x, y) => Date.parse(list.find((s) => s.id === x)?.time ?? '') - Date.parse(list.find((s) => s.id === y)?.time ?? ''));
                navigate(`/hosts/${hostId}/repositories/${repoId}/diff?from=${a}&to=${b}`);
              }}
            >
              Compare selected{compare.length ? ` (${compare.length}/2)` : ''}
            </Button>
          </Group>
        </Group>
        {repoId && list.length > 0 && <FindAcrossSnapshots key={repoId} hostId={hostId} repoId={repoId} snapshots={list} />}
        {snaps.isPending ? (
          <TableSkeleton rows={5} label="Loading snapshots" />
        ) : snaps.isError ? (
          <ErrorState error={snaps.error} onRetry={() => snaps.refetch()} />
        ) : list.length === 0 ? (
          <EmptyState icon={<IconCamera size={24} />} title="No snapshots yet" description="Run a backup into this repository and its snapshot appears here." />
        ) : (
          <Table.ScrollContainer minWidth={760}>
            <Table verticalSpacing="xs" highlightOnHover aria-label="Snapshots">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={36} />
                  <Table.Th>Time</Table.Th>
                  <Table.Th>ID</Table.Th>
                  <Table.Th>Paths</Table.Th>
                  <Table.Th>Tags</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Size</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Files</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Added</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((s) => {
                  const sz = snapshotSize(s);
                  return (
                    <Table.Tr key={s.id} data-testid="snapshot-row">
                      <Table.Td>
                        <Checkbox
                          aria-label={`Compare ${s.short_id}`}
                          checked={compare.includes(s.id)}
                          disabled={!compare.includes(s.id) && compare.length >= 2}
                          onChange={(e) => setCompare(e.currentTarget.checked ? [...compare, s.id] : compare.filter((x) => x !== s.id))}
                        />
                      </Table.Td>
                      <Table.Td>
                        <Tooltip label={formatRelative(s.time)} withArrow>
                          <Text size="sm">{formatDateTime(s.time)}</Text>
                        </Tooltip>
                      </Table.Td>
                      <Table.Td>
                        <Anchor component={Link} to={browseURL(hostId, repoId, s.id)} size="sm" ff="monospace">
                          {s.short_id}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" lineClamp={2}>
                          {(s.paths ?? []).join(', ')}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Group gap={4}>
                          {(s.tags ?? []).map((t) => (
                            <Badge key={t} size="sm" variant="outline" tt="none">
                              {t}
                            </Badge>
                          ))}
                        </Group>
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Text size="sm">{formatBytes(sz.bytes)}</Text>
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Text size="sm">{formatNumber(sz.files)}</Text>
                      </Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>
                        <Text size="sm">{formatBytes(sz.added)}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Button
                          size="xs"
                          variant="light"
                          component={Link}
                          to={browseURL(hostId, repoId, s.id)}
                          leftSection={<IconFolderOpen size={14} />}
                          aria-label={`Browse snapshot ${s.short_id}`}
                        >
                          Browse
                        </Button>
                      </Table.Td>
                    </Table.Tr>
                  );
                })}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
        <Group justify="flex-end" gap="xs">
          <Button size="xs" variant="default" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer
          </Button>
          <Button
            size="xs"
            variant="default"
            disabled={!snaps.data?.next_cursor}
            onClick={() => snaps.data?.next_cursor && setCursors([...cursors, snaps.data.next_cursor])}
          >
            Older
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
