import { Anchor, Group, Paper, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { Host } from '../../api/client';
import { jobsQuery } from '../../api/queries/jobs';
import { repositoriesQuery } from '../../api/queries/repositories';
import { JobsTable } from '../../components/JobsTable';
import { RepoCharts } from '../../components/RepoCharts';
import { CardSkeleton, EmptyState, ErrorState } from '../../components/States';
import { Labels } from '../../components/Labels';
import { formatDateTime, formatRelative } from '../../lib/format';
import { HealthCard } from './HealthCard';

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={600} tt="uppercase">
        {label}
      </Text>
      <div>{children}</div>
    </div>
  );
}

export function OverviewTab({ host }: { host: Host }) {
  const hostId = host.id!;
  const repos = useQuery(repositoriesQuery(hostId));
  const recent = useQuery(jobsQuery({ host_id: hostId, limit: 5 }));

  return (
    <Stack>
      <Paper withBorder radius="md" p="md">
        <SimpleGrid cols={{ base: 2, sm: 3, lg: 5 }}>
          <Field label="Last seen">
            <Text size="sm" title={formatDateTime(host.last_seen_at)}>
              {formatRelative(host.last_seen_at)}
            </Text>
          </Field>
          <Field label="Agent">
            <Text size="sm" ff="monospace">
              {host.agent_version || '—'}
            </Text>
          </Field>
          <Field label="restic">
            <Text size="sm" ff="monospace">
              {host.restic_version || '—'}
            </Text>
          </Field>
          <Field label="Enrolled">
            <Text size="sm">{formatDateTime(host.created_at)}</Text>
          </Field>
          <Field label="Labels">
            <Labels labels={host.labels} />
          </Field>
        </SimpleGrid>
      </Paper>

      <HealthCard hostId={hostId} />

      <Title order={4}>Repositories</Title>
      {repos.isPending ? (
        <CardSkeleton height={200} />
      ) : repos.isError ? (
        <ErrorState error={repos.error} onRetry={() => repos.refetch()} />
      ) : (repos.data.items ?? []).length === 0 ? (
        <EmptyState
          title="No repository configured"
          description="Add a repository in the Repositories tab to start backing this host up."
        />
      ) : (
        (repos.data.items ?? []).map((r) => <RepoCharts key={r.id} hostId={hostId} repo={r} />)
      )}

      <Group justify="space-between">
        <Title order={4}>Recent jobs</Title>
        <Anchor component={Link} to={`/hosts/${hostId}/jobs`} size="sm">
          All jobs
        </Anchor>
      </Group>
      {recent.isPending ? (
        <CardSkeleton height={160} />
      ) : recent.isError ? (
        <ErrorState error={recent.error} onRetry={() => recent.refetch()} />
      ) : (recent.data.items ?? []).length === 0 ? (
        <EmptyState title="No jobs yet" description="Jobs appear when a schedule fires or someone runs one." />
      ) : (
        <Paper withBorder radius="md" p="xs">
          <JobsTable jobs={recent.data.items ?? []} />
        </Paper>
      )}
    </Stack>
  );
}
