import { ActionIcon, Anchor, Badge, Button, Group, Paper, Switch, Table, Text, Tooltip } from '@mantine/core';
import { IconCalendarOff, IconEdit, IconPlayerPlay, IconPlus } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from 'react-router';
import { schedulesQuery, useRunSchedule, useSetScheduleEnabled } from '../../api/queries/schedules';
import { repositoriesQuery } from '../../api/queries/repositories';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import { Can, useCan } from '../../auth';
import type { Host } from '../../api/client';
import { describeCron } from '../../lib/cron';
import { describeRetention } from '../../lib/retention';
import { formatDateTime, formatRelative } from '../../lib/format';
import { notifyError } from '../../lib/notify';

export function SchedulesTab({ host }: { host: Host }) {
  const hostId = host.id!;
  const schedules = useQuery(schedulesQuery(hostId));
  const repos = useQuery(repositoriesQuery(hostId));
  const setEnabled = useSetScheduleEnabled(hostId);
  const runSchedule = useRunSchedule(hostId);
  const navigate = useNavigate();
  const canOperate = useCan('operator') && host.status !== 'decommissioned';
  const repoName = Object.fromEntries((repos.data?.items ?? []).map((r) => [r.id, r.name]));
  const items = schedules.data?.items ?? [];

  const newButton = (
    <Can role="operator">
      <Button component={Link} to={`/hosts/${hostId}/schedules/new`} leftSection={<IconPlus size={16} />}>
        New schedule
      </Button>
    </Can>
  );

  if (schedules.isPending) return <TableSkeleton rows={3} label="Loading schedules" />;
  if (schedules.isError) return <ErrorState error={schedules.error} onRetry={() => schedules.refetch()} />;
  if (items.length === 0)
    return (
      <EmptyState
        icon={<IconCalendarOff size={24} />}
        title="No schedules"
        description={
          (repos.data?.items ?? []).length === 0
            ? 'Add a repository first, then schedule backups, retention and checks into it.'
            : 'Schedule backups, retention (forget), prune and check runs. The agent keeps the schedule even while the server is unreachable.'
        }
        action={canOperate ? newButton : undefined}
      />
    );

  return (
    <Paper withBorder radius="md" p="md">
      <Group justify="flex-end" mb="sm">
        {canOperate && newButton}
      </Group>
      <Table.ScrollContainer minWidth={800}>
        <Table verticalSpacing="sm" aria-label="Schedules">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Kind</Table.Th>
              <Table.Th>When</Table.Th>
              <Table.Th>Next run</Table.Th>
              <Table.Th>Repository</Table.Th>
              <Table.Th>Enabled</Table.Th>
              <Table.Th aria-label="Actions" />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((s) => (
              <Table.Tr key={s.id} data-testid="schedule-row">
                <Table.Td>
                  <Anchor component={Link} to={`/hosts/${hostId}/schedules/${s.id}`} fw={600}>
                    {s.name}
                  </Anchor>
                  <Text size="xs" c="dimmed" lineClamp={1}>
                    {s.kind === 'backup'
                      ? (s.paths ?? []).join(', ')
                      : s.kind === 'forget'
                        ? `keeps ${describeRetention(s.retention)}`
                        : ''}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Badge variant="light">{s.kind}</Badge>
                </Table.Td>
                <Table.Td>
                  {s.manual ? (
                    <Text size="sm" c="dimmed">
                      manual only
                    </Text>
                  ) : (
                    <>
                      <Text size="sm">{describeCron(s.cron ?? '') ?? s.cron}</Text>
                      <Text size="xs" c="dimmed" ff="monospace">
                        {s.cron} {s.timezone}
                      </Text>
                    </>
                  )}
                </Table.Td>
                <Table.Td>
                  {s.enabled && !s.manual && s.next_fires?.[0] ? (
                    <Tooltip label={formatDateTime(s.next_fires[0])} withArrow>
                      <Text size="sm">{formatRelative(s.next_fires[0])}</Text>
                    </Tooltip>
                  ) : (
                    <Text size="sm" c="dimmed">
                      —
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{repoName[s.repository_id ?? ''] ?? '—'}</Text>
                </Table.Td>
                <Table.Td>
                  <Switch
                    checked={!!s.enabled}
                    disabled={!canOperate || setEnabled.isPending}
                    onChange={(e) =>
                      setEnabled.mutate(
                        { id: s.id!, enabled: e.currentTarget.checked },
                        { onError: (err) => notifyError('Could not change the schedule', err) },
                      )
                    }
                    aria-label={`Enable schedule ${s.name}`}
                  />
                </Table.Td>
                <Table.Td>
                  {canOperate && (
                    <Group gap={4} justify="flex-end" wrap="nowrap">
                      <Tooltip label="Run now" withArrow>
                        <ActionIcon
                          variant="light"
                          aria-label={`Run ${s.name} now`}
                          loading={runSchedule.isPending && runSchedule.variables === s.id}
                          onClick={() =>
                            runSchedule.mutate(s.id!, {
                              onSuccess: (j) => navigate(`/jobs/${j.id}`),
                              onError: (err) => notifyError('Could not start the job', err),
                            })
                          }
                        >
                          <IconPlayerPlay size={16} />
                        </ActionIcon>
                      </Tooltip>
                      <Tooltip label="Edit" withArrow>
                        <ActionIcon
                          variant="subtle"
                          component={Link}
                          to={`/hosts/${hostId}/schedules/${s.id}`}
                          aria-label={`Edit ${s.name}`}
                        >
                          <IconEdit size={16} />
                        </ActionIcon>
                      </Tooltip>
                    </Group>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Paper>
  );
}
