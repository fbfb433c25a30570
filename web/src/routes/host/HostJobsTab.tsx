import { useState } from 'react';
import { Button, Group, Paper, Select, Stack } from '@mantine/core';
import { IconActivity } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { jobsQuery, type JobListParams } from '../../api/queries/jobs';
import { JobsTable } from '../../components/JobsTable';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';

export const statusFilter = [
  { value: '', label: 'Any status' },
  { value: 'queued,running', label: 'Active' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'warning', label: 'Warning' },
  { value: 'failed', label: 'Failed' },
  { value: 'cancelled', label: 'Cancelled' },
];
export const kindFilter = [
  { value: '', label: 'Any kind' },
  ...['backup', 'restore', 'forget', 'prune', 'check', 'unlock', 'init', 'snapshots', 'stats'].map((k) => ({ value: k, label: k })),
];

/** Filters and keyset pages of a job list; hostId narrows it to one host. */
export function JobList({ hostId, showHost, hostNames }: { hostId?: string; showHost?: boolean; hostNames?: Record<string, string> }) {
  const [status, setStatus] = useState('');
  const [kind, setKind] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const params: JobListParams = {
    host_id: hostId,
    status: status || undefined,
    kind: (kind || undefined) as JobListParams['kind'],
    limit: 25,
    cursor: cursors[cursors.length - 1],
  };
  const jobs = useQuery(jobsQuery(params));
  const items = jobs.data?.items ?? [];
  return (
    <Paper withBorder radius="md" p="md">
      <Stack>
        <Group gap="sm">
          <Select
            aria-label="Filter by status"
            data={statusFilter}
            value={status}
            onChange={(v) => (setStatus(v ?? ''), setCursors([]))}
            w={170}
            allowDeselect={false}
          />
          <Select
            aria-label="Filter by kind"
            data={kindFilter}
            value={kind}
            onChange={(v) => (setKind(v ?? ''), setCursors([]))}
            w={170}
            allowDeselect={false}
          />
        </Group>
        {jobs.isPending ? (
          <TableSkeleton rows={6} label="Loading jobs" />
        ) : jobs.isError ? (
          <ErrorState error={jobs.error} onRetry={() => jobs.refetch()} />
        ) : items.length === 0 ? (
          <EmptyState
            icon={<IconActivity size={24} />}
            title={status || kind ? 'No job matches' : 'No jobs yet'}
            description={status || kind ? 'Try another filter.' : 'Jobs appear here when a schedule fires or someone runs one.'}
          />
        ) : (
          <JobsTable jobs={items} showHost={showHost} hostNames={hostNames} />
        )}
        <Group justify="flex-end" gap="xs">
          <Button size="xs" variant="default" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer
          </Button>
          <Button
            size="xs"
            variant="default"
            disabled={!jobs.data?.next_cursor}
            onClick={() => jobs.data?.next_cursor && setCursors([...cursors, jobs.data.next_cursor])}
          >
            Older
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

export function HostJobsTab({ hostId }: { hostId: string }) {
  return <JobList hostId={hostId} />;
}
