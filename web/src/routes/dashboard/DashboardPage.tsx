import { useMemo, useState } from 'react';
import { AreaChart } from '@mantine/charts';
import {
  Anchor,
  Badge,
  Button,
  Group,
  Paper,
  Progress,
  RingProgress,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Table,
  Text,
  ThemeIcon,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconAlertTriangle, IconBell, IconCircleCheck, IconServer } from '@tabler/icons-react';
import { useQueries, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { hostsQuery, hostSummaryQuery } from '../../api/queries/hosts';
import { jobQuery, jobsQuery } from '../../api/queries/jobs';
import { repositoriesQuery, repoStatsQuery } from '../../api/queries/repositories';
import { healthSummaryQuery, hostsHealthQuery, type ObjectiveState } from '../../api/queries/health';
import { PageHeader } from '../../components/PageHeader';
import { CardSkeleton, EmptyState, ErrorState } from '../../components/States';
import { JobStatusBadge } from '../../components/StatusBadge';
import { ConditionBadge, ObjectiveBadge } from '../../components/HealthBadges';
import type { Host, HostHealth, Job } from '../../api/client';
import { formatBytes, formatDuration, formatNumber, formatPercent, formatRate, formatRelative } from '../../lib/format';
import { formatObjective, objectiveColor, objectiveLabel } from '../../lib/health';
import { sumSizeByDay } from '../../lib/fleetStats';

/** How many hosts the size trend sums (their repositories' statistics are read one by one). */
const TREND_HOSTS = 50;
/** Rows per objective state in the "needs attention" view. */
const ATTENTION_ROWS = 8;

function StatCard({ title, value, sub, icon, color }: { title: string; value: React.ReactNode; sub?: React.ReactNode; icon: React.ReactNode; color: string }) {
  return (
    <Paper withBorder radius="md" p="md">
      <Group justify="space-between" align="flex-start">
        <div>
          <Text size="xs" c="dimmed" fw={700} tt="uppercase">
            {title}
          </Text>
          <Text fw={700} fz={28} lh={1.2}>
            {value}
          </Text>
          {sub && (
            <Text size="sm" c="dimmed">
              {sub}
            </Text>
          )}
        </div>
        <ThemeIcon variant="light" color={color} size={38} radius="md" aria-hidden="true">
          {icon}
        </ThemeIcon>
      </Group>
    </Paper>
  );
}

function jobHost(j: Job): string {
  return j.host_name || (j.host_id ?? '').slice(0, 8);
}

function RunningJobRow({ job, hostName }: { job: Job; hostName: string }) {
  const detail = useQuery(jobQuery(job.id!));
  const p = detail.data?.progress;
  return (
    <Table.Tr data-testid="running-job">
      <Table.Td>
        <Anchor component={Link} to={`/jobs/${job.id}`} fw={600}>
          {job.kind}
        </Anchor>{' '}
        <Text span size="sm" c="dimmed">
          on {hostName}
        </Text>
      </Table.Td>
      <Table.Td w="40%">
        <Progress value={(p?.percent_done ?? 0) * 100} striped animated aria-label={`Progress of ${job.kind} on ${hostName}`} />
      </Table.Td>
      <Table.Td>
        <Text size="sm">{formatPercent(p?.percent_done ?? 0)}</Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{formatRate(p?.bytes_per_second)}</Text>
      </Table.Td>
      <Table.Td>
        <Text size="sm">{p?.seconds_remaining ? `ETA ${formatDuration(p.seconds_remaining)}` : '—'}</Text>
      </Table.Td>
    </Table.Tr>
  );
}

export function DashboardPage() {
  const summary = useQuery(hostSummaryQuery());
  const health = useQuery(healthSummaryQuery());
  const since = useMemo(() => new Date(Date.now() - 86400_000).toISOString().replace(/\.\d+Z$/, 'Z'), []);
  const failed = useQuery(jobsQuery({ status: 'failed', since, limit: 100 }, { refetchInterval: 15_000 }));
  const running = useQuery(jobsQuery({ status: 'queued,running', limit: 50 }, { refetchInterval: 3_000 }));
  // The size trend sums the repositories of the first hosts by name.
  const hosts = useQuery(hostsQuery({ sort: 'name', limit: TREND_HOSTS }, { refetchInterval: 60_000 }));
  const hostList: Host[] = hosts.data?.items ?? [];
  const repos = useQueries({ queries: hostList.map((h) => repositoriesQuery(h.id!)) });
  const repoPairs = repos.flatMap((r, i) => (r.data?.items ?? []).map((repo) => ({ hostId: hostList[i].id!, repoId: repo.id! })));
  const stats = useQueries({ queries: repoPairs.map((p) => repoStatsQuery(p.hostId, p.repoId)) });

  const trend = sumSizeByDay(stats.map((s) => s.data?.items ?? []));
  const totalSize = trend.length ? trend[trend.length - 1].size : undefined;
  const s = summary.data;
  const hs = health.data;
  const byState = hs?.hosts ?? {};
  const judged = (byState.ok ?? 0) + (byState.at_risk ?? 0) + (byState.violated ?? 0);
  const onlinePct = s?.total ? ((s.online ?? 0) / s.total) * 100 : 0;
  const failedCount = failed.data?.items?.length ?? 0;
  const runningJobs = running.data?.items ?? [];
  const openAlerts = hs?.open_alerts ?? 0;
  const critical = hs?.open_alerts_by_severity?.critical ?? 0;

  if (summary.isError) return <ErrorState error={summary.error} onRetry={() => summary.refetch()} />;

  return (
    <>
      <PageHeader
        title="Fleet dashboard"
        description={
          <>
            Live: refreshes every few seconds.
            {hs?.evaluated_at ? ` Backup objectives evaluated ${formatRelative(hs.evaluated_at)}.` : ''}
          </>
        }
      />
      <Stack gap="lg">
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
          {summary.isPending ? (
            <CardSkeleton height={100} />
          ) : (
            <Paper withBorder radius="md" p="md">
              <Group justify="space-between">
                <div>
                  <Text size="xs" c="dimmed" fw={700} tt="uppercase">
                    Hosts online
                  </Text>
                  <Text fw={700} fz={28} lh={1.2} data-testid="hosts-online">
                    {s?.online ?? 0} / {s?.total ?? 0}
                  </Text>
                  <Text size="sm" c={(s?.offline ?? 0) > 0 ? 'red' : 'dimmed'}>
                    {s?.offline ?? 0} offline
                  </Text>
                </div>
                <RingProgress
                  size={72}
                  thickness={8}
                  roundCaps
                  sections={s?.total ? [{ value: onlinePct, color: 'green' }, { value: 100 - onlinePct, color: 'red' }].filter((x) => x.value > 0) : [{ value: 100, color: 'gray' }]}
                  aria-label={`${Math.round(onlinePct)}% of hosts online`}
                />
              </Group>
            </Paper>
          )}
          {health.isPending ? (
            <CardSkeleton height={100} />
          ) : (
            <Paper withBorder radius="md" p="md" data-testid="objective-summary">
              <Group justify="space-between" wrap="nowrap">
                <div>
                  <Text size="xs" c="dimmed" fw={700} tt="uppercase">
                    Backup objectives
                  </Text>
                  <Text fw={700} fz={28} lh={1.2}>
                    {byState.ok ?? 0} / {judged}
                  </Text>
                  <Text size="sm" c={(byState.violated ?? 0) > 0 ? 'red' : (byState.at_risk ?? 0) > 0 ? 'yellow.8' : 'dimmed'}>
                    {byState.violated ?? 0} violated · {byState.at_risk ?? 0} at risk
                  </Text>
                </div>
                <RingProgress
                  size={72}
                  thickness={8}
                  roundCaps
                  sections={
                    judged
                      ? (['ok', 'at_risk', 'violated'] as const)
                          .map((k) => ({ value: ((byState[k] ?? 0) / judged) * 100, color: objectiveColor[k] }))
                          .filter((x) => x.value > 0)
                      : [{ value: 100, color: 'gray' }]
                  }
                  aria-label={`${byState.ok ?? 0} of ${judged} judged hosts meet their backup objective`}
                />
              </Group>
            </Paper>
          )}
          <Paper withBorder radius="md" p="md" component={Link} to="/alerts" style={{ color: 'inherit', textDecoration: 'none' }} aria-label={`${openAlerts} open alerts`}>
            <Group justify="space-between" align="flex-start">
              <div>
                <Text size="xs" c="dimmed" fw={700} tt="uppercase">
                  Open alerts
                </Text>
                <Text fw={700} fz={28} lh={1.2} data-testid="open-alerts">
                  {health.isPending ? '…' : openAlerts}
                </Text>
                <Text size="sm" c={critical ? 'red' : 'dimmed'}>
                  {critical ? `${critical} critical` : openAlerts ? 'warnings only' : 'all quiet'}
                </Text>
              </div>
              <ThemeIcon variant="light" color={critical ? 'red' : openAlerts ? 'yellow' : 'green'} size={38} radius="md" aria-hidden="true">
                <IconBell size={22} />
              </ThemeIcon>
            </Group>
          </Paper>
          <StatCard
            title="Failed jobs (24 h)"
            value={failed.isPending ? '…' : failedCount >= 100 ? '100+' : failedCount}
            sub={failedCount === 0 ? 'all good' : 'need a look'}
            icon={failedCount ? <IconAlertTriangle size={22} /> : <IconCircleCheck size={22} />}
            color={failedCount ? 'red' : 'green'}
          />
        </SimpleGrid>

        <Paper withBorder radius="md" p="md">
          <Group justify="space-between" mb="sm">
            <Group gap="xs">
              <Title order={4}>Running jobs</Title>
              {runningJobs.length > 0 && (
                <Badge variant="light" color="blue">
                  {runningJobs.length}
                </Badge>
              )}
            </Group>
            <Anchor component={Link} to="/jobs" size="sm">
              All jobs
            </Anchor>
          </Group>
          {running.isPending ? (
            <CardSkeleton height={60} />
          ) : running.isError ? (
            <ErrorState error={running.error} onRetry={() => running.refetch()} />
          ) : runningJobs.length === 0 ? (
            <Text size="sm" c="dimmed">
              Nothing is running right now.
            </Text>
          ) : (
            <Table verticalSpacing="xs" aria-label="Running jobs">
              <Table.Tbody>
                {runningJobs.map((j) => (
                  <RunningJobRow key={j.id} job={j} hostName={jobHost(j)} />
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Paper>

        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <ObjectivesPanel counts={byState} fleetEmpty={s?.total === 0} />

          <Paper withBorder radius="md" p="md">
            <Title order={4} mb="sm">
              Failed in the last 24 hours
            </Title>
            {failed.isPending ? (
              <CardSkeleton height={160} />
            ) : failed.isError ? (
              <ErrorState error={failed.error} onRetry={() => failed.refetch()} />
            ) : failedCount === 0 ? (
              <Group gap="xs" c="green">
                <IconCircleCheck size={18} />
                <Text size="sm">No failed jobs.</Text>
              </Group>
            ) : (
              <Table verticalSpacing={6} aria-label="Failed jobs">
                <Table.Tbody>
                  {(failed.data?.items ?? []).slice(0, 10).map((j) => (
                    <Table.Tr key={j.id}>
                      <Table.Td>
                        <JobStatusBadge status={j.status} size="xs" />
                      </Table.Td>
                      <Table.Td>
                        <Anchor component={Link} to={`/jobs/${j.id}`} size="sm" fw={600}>
                          {j.kind}
                        </Anchor>{' '}
                        <Text span size="sm" c="dimmed">
                          on {jobHost(j)}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Tooltip label={j.error || 'no message'} withArrow multiline w={320}>
                          <Text size="sm" c="dimmed" lineClamp={1}>
                            {j.error || '—'}
                          </Text>
                        </Tooltip>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{formatRelative(j.finished_at ?? j.created_at)}</Text>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Paper>
        </SimpleGrid>

        <Paper withBorder radius="md" p="md">
          <Group justify="space-between" mb="sm">
            <div>
              <Title order={4}>Total repository size</Title>
              <Text size="sm" c="dimmed">
                {totalSize === undefined ? '—' : formatBytes(totalSize)} in {repoPairs.length} repositories
                {(s?.total ?? 0) > TREND_HOSTS ? ` of the first ${TREND_HOSTS} hosts by name` : ''}
              </Text>
            </div>
            <Text size="sm" c="dimmed">
              last 30 days
            </Text>
          </Group>
          {trend.length === 0 ? (
            <Text size="sm" c="dimmed" ta="center" py="xl">
              Size statistics appear after the first backups.
            </Text>
          ) : (
            <AreaChart
              h={220}
              data={trend}
              dataKey="day"
              series={[{ name: 'size', label: 'Total size', color: 'grape.6' }]}
              valueFormatter={(v) => formatBytes(v)}
              curveType="monotone"
              yAxisProps={{ width: 80 }}
              withDots={trend.length < 20}
            />
          )}
        </Paper>
      </Stack>
    </>
  );
}

type Filter = 'attention' | ObjectiveState;

function HealthRows({ rows }: { rows: HostHealth[] }) {
  return (
    <>
      {rows.map((h) => (
        <Table.Tr key={h.host_id} data-testid="objective-row" data-state={h.objective_state}>
          <Table.Td>
            <Anchor component={Link} to={`/hosts/${h.host_id}`} size="sm" fw={600}>
              {h.name || h.hostname}
            </Anchor>
          </Table.Td>
          <Table.Td>
            <ObjectiveBadge state={h.objective_state} size="sm" />
          </Table.Td>
          <Table.Td>
            <Text size="sm">{h.last_backup_at ? formatRelative(h.last_backup_at) : 'never'}</Text>
          </Table.Td>
          <Table.Td>
            <Text size="sm" c="dimmed">
              {formatObjective(h.objective_seconds)}
            </Text>
          </Table.Td>
          <Table.Td>
            <Group gap={4}>
              {(h.open_alerts ?? []).slice(0, 2).map((a) => (
                <ConditionBadge key={a.id} condition={a.condition} severity={a.severity} size="xs" />
              ))}
              {(h.open_alerts ?? []).length > 2 && (
                <Text size="xs" c="dimmed">
                  +{(h.open_alerts ?? []).length - 2}
                </Text>
              )}
            </Group>
          </Table.Td>
        </Table.Tr>
      ))}
    </>
  );
}

/** Hosts by backup objective state, evaluated by the server (GET /health/hosts), keyset-paged. */
function ObjectivesPanel({ counts, fleetEmpty }: { counts: Record<string, number>; fleetEmpty: boolean }) {
  const [filter, setFilter] = useState<Filter>('attention');
  const [cursors, setCursors] = useState<string[]>([]);
  const attention = filter === 'attention';
  const violated = useQuery({ ...hostsHealthQuery({ state: 'violated', limit: ATTENTION_ROWS }), enabled: attention });
  const atRisk = useQuery({ ...hostsHealthQuery({ state: 'at_risk', limit: ATTENTION_ROWS }), enabled: attention });
  const one = useQuery({
    ...hostsHealthQuery({ state: attention ? undefined : filter, limit: 10, cursor: cursors[cursors.length - 1] }),
    enabled: !attention,
  });
  const rows = attention ? [...(violated.data?.items ?? []), ...(atRisk.data?.items ?? [])] : (one.data?.items ?? []);
  const loading = attention ? violated.isPending || atRisk.isPending : one.isPending;
  const error = attention ? violated.error ?? atRisk.error : one.error;
  const needAttention = (counts.violated ?? 0) + (counts.at_risk ?? 0);
  const label = (k: ObjectiveState) => `${objectiveLabel[k]} (${formatNumber(counts[k] ?? 0)})`;

  return (
    <Paper withBorder radius="md" p="md">
      <Group justify="space-between" mb="sm" gap="xs">
        <Title order={4}>Backup objectives</Title>
        <SegmentedControl
          size="xs"
          aria-label="Show hosts"
          value={filter}
          onChange={(v) => (setFilter(v as Filter), setCursors([]))}
          data={[
            { value: 'attention', label: `Needs attention (${formatNumber(needAttention)})` },
            { value: 'violated', label: label('violated') },
            { value: 'at_risk', label: label('at_risk') },
            { value: 'ok', label: label('ok') },
            { value: 'none', label: label('none') },
          ]}
        />
      </Group>
      {fleetEmpty ? (
        <EmptyState
          icon={<IconServer size={24} />}
          title="No hosts yet"
          description="Add a host to start backing it up."
          action={
            <Anchor component={Link} to="/add-host">
              Add a host
            </Anchor>
          }
        />
      ) : loading ? (
        <CardSkeleton height={160} />
      ) : error ? (
        <ErrorState error={error} />
      ) : rows.length === 0 ? (
        <Group gap="xs" c={attention ? 'green' : 'dimmed'} py="md">
          {attention && <IconCircleCheck size={18} />}
          <Text size="sm">{attention ? 'Every judged host meets its backup objective.' : 'No host in this state.'}</Text>
        </Group>
      ) : (
        <Table verticalSpacing={6} aria-label="Backup objectives">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Host</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Last success</Table.Th>
              <Table.Th>Objective</Table.Th>
              <Table.Th>Alerts</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            <HealthRows rows={rows} />
          </Table.Tbody>
        </Table>
      )}
      {attention ? (
        needAttention > rows.length && (
          <Text size="xs" c="dimmed" mt="xs">
            Showing {rows.length} of {needAttention}: pick a state to page through all of them.
          </Text>
        )
      ) : (
        <Group justify="flex-end" gap="xs" mt="xs">
          <Button size="xs" variant="default" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            Previous
          </Button>
          <Button size="xs" variant="default" disabled={!one.data?.next_cursor} onClick={() => one.data?.next_cursor && setCursors([...cursors, one.data.next_cursor])}>
            Next
          </Button>
        </Group>
      )}
    </Paper>
  );
}
