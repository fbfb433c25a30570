import { useState } from 'react';
import { Badge, Button, Group, Paper, Select, Stack, Table, Text, Tooltip } from '@mantine/core';
import { IconCamera } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { repositoriesQuery, snapshotsQuery } from '../../api/queries/repositories';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import type { Snapshot } from '../../api/client';
import { formatBytes, formatDateTime, formatNumber, formatRelative } from '../../lib/format';

/** Size and file count from restic's snapshot summary (restic 0.17 and later). */
export function snapshotSize(s: Snapshot): { bytes?: number; files?: number; added?: number } {
  const sum = (s.summary ?? {}) as Record<string, unknown>;
  const num = (k: string) => (typeof sum[k] === 'number' ? (sum[k] as number) : undefined);
  return { bytes: num('total_bytes_processed'), files: num('total_files_processed'), added: num('data_added') };
}

export function SnapshotsTab({ hostId }: { hostId: string }) {
  const repos = useQuery(repositoriesQuery(hostId));
  const [repoSel, setRepoSel] = useState<string | null>(null);
  const [cursors, setCursors] = useState<string[]>([]);
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
            onChange={(v) => (setRepoSel(v), setCursors([]))}
            allowDeselect={false}
            w={260}
          />
          <Text size="xs" c="dimmed">
            As last reported by the agent after each backup or forget
          </Text>
        </Group>
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
                  <Table.Th>Time</Table.Th>
                  <Table.Th>ID</Table.Th>
                  <Table.Th>Paths</Table.Th>
                  <Table.Th>Tags</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Size</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Files</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Added</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {list.map((s) => {
                  const sz = snapshotSize(s);
                  return (
                    <Table.Tr key={s.id} data-testid="snapshot-row">
                      <Table.Td>
                        <Tooltip label={formatRelative(s.time)} withArrow>
                          <Text size="sm">{formatDateTime(s.time)}</Text>
                        </Tooltip>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" ff="monospace">
                          {s.short_id}
                        </Text>
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
