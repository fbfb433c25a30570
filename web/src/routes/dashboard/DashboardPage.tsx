import { useMemo } from 'react';
import { AreaChart } from '@mantine/charts';
import {
  Anchor,
  Badge,
  Group,
  Paper,
  Progress,
  RingProgress,
  SimpleGrid,
  Stack,
  Table,
  Text,
  ThemeIcon,
  Title,
  Tooltip,
} from '@mantine/core';
import { IconAlertTriangle, IconCircleCheck, IconDatabase, IconPlayerPlay, IconServer } from '@tabler/icons-react';
import { useQueries, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { hostsQuery, hostSummaryQuery } from '../../api/queries/hosts';
import { jobQuery, jobsQuery } from '../../api/queries/jobs';
import { repositoriesQuery, repoStatsQuery } from '../../api/queries/repositories';
import { schedulesQuery } from '../../api/queries/schedules';
import { PageHeader } from '../../components/PageHeader';
import { CardSkeleton, EmptyState, ErrorState } from '../../components/States';
import { JobStatusBadge } from '../../components/StatusBadge';
import type { Host, Job } from '../../api/client';
import { formatBytes, formatDuration, formatPercent, formatRate, formatRelative } from '../../lib/format';
import { freshness, freshnessColor, freshnessLabel, intervalFromFires, type Freshness } from '../../lib/freshness';
import { lastSuccessByHost, sumSizeByDay } from '../../lib/fleetStats';

/** How many hosts the dashboard looks at closely (freshness, sizes). */
const DETAIL_HOSTS = 50;

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
  const since = useMemo(() => new Date(Date.now() - 86400_000).toISOString().replace(/\.\d+Z$/, 'Z'), []);
  const failed = useQuery(jobsQuery({ status: 'failed', since, limit: 100 }, { refetchInterval: 15_000 }));
  const running = useQuery(jobsQuery({ status: 'queued,running', limit: 50 }, { refetchInterval: 3_000 }));
  const recentOk = useQuery(jobsQuery({ kind: 'backup', status: 'succeeded,warning', limit: 500 }, { refetchInterval: 30_000 }));
  const hosts = useQuery(hostsQuery({ sort: 'name', limit: DETAIL_HOSTS }, { refetchInterval: 30_000 }));
  const hostList: Host[] = hosts.data?.items ?? [];
  const hostNames = Object.fromEntries(hostList.map((h) => [h.id, h.name || h.hostname || '']));

  const schedules = useQueries({ queries: hostList.map((h) => schedulesQuery(h.id!)) });
  const repos = useQueries({ queries: hostList.map((h) => repositoriesQuery(h.id!)) });
  const repoPairs = repos.flatMap((r, i) => (r.data?.items ?? []).map((repo) => ({ hostId: hostList[i].id!, repoId: repo.id! })));
  const stats = useQueries({ queries: repoPairs.map((p) => repoStatsQuery(p.hostId, p.repoId)) });

  const lastOk = lastSuccessByHost(recentOk.data?.items ?? []);
  const freshnessRows = hostList.map((h, i) => {
    const sch = (schedules[i]?.data?.items ?? []).filter((s) => s.kind === 'backup' && s.enabled && !s.manual);
    const interval = sch.map((s) => intervalFromFires(s.next_fires)).filter((v): v is number => !!v).sort((a, b) => a - b)[0];
    return { host: h, last: lastOk[h.id!], state: freshness(lastOk[h.id!], interval, { scheduled: sch.length > 0 }) };
  });
  const order: Freshness[] = ['stale', 'never', 'late', 'ok', 'unscheduled'];
  freshnessRows.sort((a, b) => order.indexOf(a.state) - order.indexOf(b.state));
  const counts = freshnessRows.reduce<Record<string, number>>((m, r) => ((m[r.state] = (m[r.state] ?? 0) + 1), m), {});

  const trend = sumSizeByDay(stats.map((s) => s.data?.items ?? []));
  const totalSize = trend.length ? trend[trend.length - 1].size : undefined;
  const s = summary.data;
  const onlinePct = s?.total ? ((s.online ?? 0) / s.total) * 100 : 0;
  const failedCount = failed.data?.items?.length ?? 0;
  const runningJobs = running.data?.items ?? [];

  if (summary.isError) return <ErrorState error={summary.error} onRetry={() => summary.refetch()} />;

  return (
    <>
      <PageHeader title="Fleet dashboard" description="Live: refreshes every few seconds." />
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
                  sections={s?.total ? [{ value: onlinePct, color: 'green' }, { value: 100 - onlinePct, color: 'red' }] : [{ value: 100, color: 'gray' }]}
                  aria-label={`${Math.round(onlinePct)}% of hosts online`}
                />
              </Group>
            </Paper>
          )}
          <StatCard
            title="Failed jobs (24 h)"
            value={failed.isPending ? '…' : failedCount >= 100 ? '100+' : failedCount}
            sub={failedCount === 0 ? 'all good' : 'need a look'}
            icon={failedCount ? <IconAlertTriangle size={22} /> : <IconCircleCheck size={22} />}
            color={failedCount ? 'red' : 'green'}
          />
          <StatCard title="Running jobs" value={running.isPending ? '…' : runningJobs.length} sub="queued or running" icon={<IconPlayerPlay size={22} />} color="blue" />
          <StatCard
            title="Repository size"
            value={totalSize === undefined ? '—' : formatBytes(totalSize)}
            sub={`${repoPairs.length} repositories`}
            icon={<IconDatabase size={22} />}
            color="grape"
          />
        </SimpleGrid>

        <Paper withBorder radius="md" p="md">
          <Group justify="space-between" mb="sm">
            <Title order={4}>Running jobs</Title>
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
                  <RunningJobRow key={j.id} job={j} hostName={hostNames[j.host_id ?? ''] ?? (j.host_id ?? '').slice(0, 8)} />
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Paper>

        <SimpleGrid cols={{ base: 1, lg: 2 }}>
          <Paper withBorder radius="md" p="md">
            <Group justify="space-between" mb="sm">
              <Title order={4}>Last successful backup</Title>
              <Group gap={4}>
                {order
                  .filter((k) => counts[k])
                  .map((k) => (
                    <Badge key={k} color={freshnessColor[k]} variant="light">
                      {counts[k]} {freshnessLabel[k].toLowerCase()}
                    </Badge>
                  ))}
              </Group>
            </Group>
            {hosts.isPending ? (
              <CardSkeleton height={160} />
            ) : hostList.length === 0 ? (
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
            ) : (
              <Table verticalSpacing={6} aria-label="Backup freshness">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Host</Table.Th>
                    <Table.Th>Last success</Table.Th>
                    <Table.Th>Against schedule</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {freshnessRows.slice(0, 12).map((r) => (
                    <Table.Tr key={r.host.id} data-testid="freshness-row">
                      <Table.Td>
                        <Anchor component={Link} to={`/hosts/${r.host.id}`} size="sm" fw={600}>
                          {r.host.name || r.host.hostname}
                        </Anchor>
                      </Table.Td>
                      <Table.Td>
                        <Text size="sm">{r.last ? formatRelative(r.last) : 'never'}</Text>
                      </Table.Td>
                      <Table.Td>
                        <Badge color={freshnessColor[r.state]} variant="dot">
                          {freshnessLabel[r.state]}
                        </Badge>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
            {(s?.total ?? 0) > DETAIL_HOSTS && (
              <Text size="xs" c="dimmed" mt="xs">
                Showing the first {DETAIL_HOSTS} hosts by name.
              </Text>
            )}
          </Paper>

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
                          on {hostNames[j.host_id ?? ''] ?? (j.host_id ?? '').slice(0, 8)}
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
            <Title order={4}>Total repository size</Title>
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
