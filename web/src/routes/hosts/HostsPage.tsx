import { useEffect, useState } from 'react';
import {
  Anchor,
  Button,
  Group,
  Paper,
  SegmentedControl,
  Select,
  Stack,
  Table,
  TagsInput,
  Text,
  TextInput,
  UnstyledButton,
  Center,
  Loader,
} from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import {
  IconChevronDown,
  IconChevronLeft,
  IconChevronRight,
  IconChevronUp,
  IconPlus,
  IconSearch,
  IconSelector,
  IconServerOff,
} from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { hostsQuery, hostSummaryQuery } from '../../api/queries/hosts';
import { PageHeader } from '../../components/PageHeader';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import { HostStatusBadge } from '../../components/StatusBadge';
import { Labels } from '../../components/Labels';
import { Can } from '../../auth';
import { formatRelative } from '../../lib/format';
import {
  changeFilter,
  hostsViewToQuery,
  hostsViewToSearch,
  nextPage,
  pageSizes,
  parseHostsView,
  prevPage,
  toggleSort,
  type HostsView,
  type SortKey,
} from '../../lib/hostsParams';

function SortHeader({ view, k, label, onSort }: { view: HostsView; k: SortKey; label: string; onSort: (k: SortKey) => void }) {
  const active = view.sort === k;
  const Icon = active ? (view.order === 'asc' ? IconChevronUp : IconChevronDown) : IconSelector;
  return (
    <Table.Th aria-sort={active ? (view.order === 'asc' ? 'ascending' : 'descending') : 'none'}>
      <UnstyledButton onClick={() => onSort(k)} aria-label={`Sort by ${label}`}>
        <Group gap={4} wrap="nowrap">
          <Text fw={700} size="sm">
            {label}
          </Text>
          <Icon size={14} aria-hidden="true" />
        </Group>
      </UnstyledButton>
    </Table.Th>
  );
}

export function HostsPage() {
  const [sp, setSp] = useSearchParams();
  const view = parseHostsView(sp);
  const setView = (v: HostsView) => setSp(hostsViewToSearch(v), { replace: false });
  const [search, setSearch] = useState(view.q);
  const [debounced] = useDebouncedValue(search, 300);
  useEffect(() => {
    if (debounced.trim() !== view.q) setView(changeFilter(view, { q: debounced.trim() }));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [debounced]);

  const hosts = useQuery(hostsQuery(hostsViewToQuery(view)));
  const summary = useQuery(hostSummaryQuery());
  const items = hosts.data?.items ?? [];
  const filtered = view.q !== '' || view.status !== '' || view.labels.length > 0;

  return (
    <>
      <PageHeader
        title="Hosts"
        description={
          summary.data
            ? `${summary.data.total ?? 0} hosts · ${summary.data.online ?? 0} online · ${summary.data.offline ?? 0} offline`
            : 'Every enrolled machine'
        }
        actions={
          <Can role="operator">
            <Button component={Link} to="/add-host" leftSection={<IconPlus size={16} />}>
              Add a host
            </Button>
          </Can>
        }
      />
      <Paper withBorder radius="md" p="md">
        <Stack gap="md">
          <Group gap="sm" align="flex-end" wrap="wrap">
            <TextInput
              label="Search"
              placeholder="Name, hostname or id"
              leftSection={<IconSearch size={16} />}
              value={search}
              onChange={(e) => setSearch(e.currentTarget.value)}
              w={280}
            />
            <div>
              <Text size="sm" fw={500} mb={4} id="status-filter-label">
                Status
              </Text>
              <SegmentedControl
                aria-labelledby="status-filter-label"
                value={view.status || 'active'}
                onChange={(v) => setView(changeFilter(view, { status: (v === 'active' ? '' : v) as HostsView['status'] }))}
                data={[
                  { value: 'active', label: 'Active' },
                  { value: 'online', label: 'Online' },
                  { value: 'offline', label: 'Offline' },
                  { value: 'decommissioned', label: 'Decommissioned' },
                ]}
              />
            </div>
            <TagsInput
              label="Labels"
              placeholder="key=value or key"
              value={view.labels}
              onChange={(labels) => setView(changeFilter(view, { labels }))}
              w={260}
              clearable
            />
          </Group>

          {hosts.isPending ? (
            <TableSkeleton rows={8} label="Loading hosts" />
          ) : hosts.isError ? (
            <ErrorState error={hosts.error} onRetry={() => hosts.refetch()} />
          ) : items.length === 0 ? (
            filtered ? (
              <EmptyState
                icon={<IconSearch size={24} />}
                title="No host matches"
                description="Try another search or remove a filter."
                action={
                  <Button
                    variant="default"
                    onClick={() => {
                      setSearch('');
                      setView(changeFilter(view, { q: '', status: '', labels: [] }));
                    }}
                  >
                    Clear filters
                  </Button>
                }
              />
            ) : (
              <EmptyState
                icon={<IconServerOff size={24} />}
                title="No hosts yet"
                description="Enrol a machine: create an enrollment token and run two commands on it."
                action={
                  <Can role="operator">
                    <Button component={Link} to="/add-host" leftSection={<IconPlus size={16} />}>
                      Add a host
                    </Button>
                  </Can>
                }
              />
            )
          ) : (
            <Table.ScrollContainer minWidth={900}>
              <Table highlightOnHover verticalSpacing="xs" aria-label="Hosts" aria-busy={hosts.isFetching}>
                <Table.Thead>
                  <Table.Tr>
                    <SortHeader view={view} k="name" label="Name" onSort={(k) => setView(toggleSort(view, k))} />
                    <SortHeader view={view} k="hostname" label="Hostname" onSort={(k) => setView(toggleSort(view, k))} />
                    <Table.Th>Status</Table.Th>
                    <Table.Th>Labels</Table.Th>
                    <Table.Th>Platform</Table.Th>
                    <Table.Th>Agent</Table.Th>
                    <Table.Th>restic</Table.Th>
                    <SortHeader view={view} k="last_seen" label="Last seen" onSort={(k) => setView(toggleSort(view, k))} />
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {items.map((h) => (
                    <Table.Tr key={h.id} data-testid="host-row">
                      <Table.Td>
                        <Anchor component={Link} to={`/hosts/${h.id}`} fw={600}>
                          {h.name || h.hostname}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" c="dimmed">
                          {h.hostname}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <HostStatusBadge status={h.status} lastSeen={h.last_seen_at} />
                      </Table.Td>
                      <Table.Td>
                        <Labels labels={h.labels} />
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{[h.os, h.arch].filter(Boolean).join('/') || '—'}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" ff="monospace">
                          {h.agent_version || '—'}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm" ff="monospace">
                          {h.restic_version || '—'}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{formatRelative(h.last_seen_at)}</Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          )}

          <Group justify="space-between">
            <Group gap="xs">
              <Text size="sm" c="dimmed">
                Per page
              </Text>
              <Select
                aria-label="Hosts per page"
                w={90}
                size="xs"
                data={pageSizes.map(String)}
                value={String(view.limit)}
                onChange={(v) => v && setView(changeFilter(view, { limit: Number(v) }))}
                allowDeselect={false}
              />
              {hosts.isFetching && !hosts.isPending && <Loader size="xs" aria-label="Refreshing" />}
            </Group>
            <Group gap="xs">
              <Text size="sm" c="dimmed">
                Page {view.cursors.length + 1}
              </Text>
              <Button
                variant="default"
                size="xs"
                leftSection={<IconChevronLeft size={14} />}
                disabled={view.cursors.length === 0}
                onClick={() => setView(prevPage(view))}
              >
                Previous
              </Button>
              <Button
                variant="default"
                size="xs"
                rightSection={<IconChevronRight size={14} />}
                disabled={!hosts.data?.next_cursor}
                onClick={() => hosts.data?.next_cursor && setView(nextPage(view, hosts.data.next_cursor))}
              >
                Next
              </Button>
            </Group>
          </Group>
        </Stack>
      </Paper>
      <Center mt="xs">
        <Text size="xs" c="dimmed">
          Lists are paged on the server, so they stay fast with tens of thousands of hosts.
        </Text>
      </Center>
    </>
  );
}
