import { Anchor, Group, Table, Text, Tooltip } from '@mantine/core';
import { Link } from 'react-router';
import type { Job } from '../api/client';
import { JobStatusBadge } from './StatusBadge';
import { formatDateTime, formatDuration, formatRelative, secondsBetween } from '../lib/format';

export function JobsTable({ jobs, showHost, hostNames }: { jobs: Job[]; showHost?: boolean; hostNames?: Record<string, string> }) {
  return (
    <Table.ScrollContainer minWidth={720}>
      <Table highlightOnHover verticalSpacing="xs" aria-label="Jobs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Status</Table.Th>
            <Table.Th>Kind</Table.Th>
            {showHost && <Table.Th>Host</Table.Th>}
            <Table.Th>Repository</Table.Th>
            <Table.Th>Started by</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>Duration</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {jobs.map((j) => (
            <Table.Tr key={j.id} data-testid="job-row" data-status={j.status}>
              <Table.Td>
                <Anchor component={Link} to={`/jobs/${j.id}`} aria-label={`Job ${j.kind} ${j.status}`}>
                  <JobStatusBadge status={j.status} />
                </Anchor>
              </Table.Td>
              <Table.Td>
                <Anchor component={Link} to={`/jobs/${j.id}`} fw={600}>
                  {j.kind}
                </Anchor>
              </Table.Td>
              {showHost && (
                <Table.Td>
                  <Anchor component={Link} to={`/hosts/${j.host_id}`} size="sm">
                    {j.host_name || hostNames?.[j.host_id ?? ''] || (j.host_id ?? '').slice(0, 8)}
                  </Anchor>
                </Table.Td>
              )}
              <Table.Td>
                <Text size="sm">{j.spec?.repository_name || '—'}</Text>
              </Table.Td>
              <Table.Td>
                <Group gap={4}>
                  <Text size="sm">{j.actor_type === 'schedule' ? 'schedule' : j.actor_type === 'api' ? 'API token' : 'user'}</Text>
                  {j.ran_offline && (
                    <Text size="xs" c="dimmed">
                      (offline)
                    </Text>
                  )}
                </Group>
              </Table.Td>
              <Table.Td>
                <Tooltip label={formatDateTime(j.created_at)} withArrow>
                  <Text size="sm">{formatRelative(j.created_at)}</Text>
                </Tooltip>
              </Table.Td>
              <Table.Td>
                <Text size="sm">
                  {j.started_at ? formatDuration(secondsBetween(j.started_at, j.finished_at)) : '—'}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
