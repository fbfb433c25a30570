// Repository size and snapshot count over time, from the stats history the agent reports.
import { AreaChart, LineChart } from '@mantine/charts';
import { Group, Paper, SimpleGrid, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { repoStatsQuery } from '../api/queries/repositories';
import type { Repository } from '../api/client';
import { formatBytes } from '../lib/format';
import { CardSkeleton, ErrorState } from './States';

const day = (iso?: string) =>
  iso ? new Date(iso).toLocaleString('en-GB', { month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit' }) : '';

export function RepoCharts({ hostId, repo }: { hostId: string; repo: Repository }) {
  const stats = useQuery(repoStatsQuery(hostId, repo.id!));
  if (stats.isPending) return <CardSkeleton height={220} />;
  if (stats.isError) return <ErrorState error={stats.error} onRetry={() => stats.refetch()} />;
  const items = stats.data.items ?? [];
  const data = items.map((s) => ({
    at: day(s.at),
    size: s.total_size ?? 0,
    snapshots: s.snapshots_count ?? 0,
  }));
  const latest = items[items.length - 1];
  return (
    <Paper withBorder radius="md" p="md" data-testid="repo-charts">
      <Group justify="space-between" mb="sm">
        <Text fw={700}>{repo.name}</Text>
        <Text size="sm" c="dimmed">
          {latest ? `${formatBytes(latest.total_size)} · ${latest.snapshots_count ?? 0} snapshots` : 'no statistics yet'}
        </Text>
      </Group>
      {data.length === 0 ? (
        <Text size="sm" c="dimmed" py="lg" ta="center">
          Statistics arrive after the first backup or a “Refresh size statistics” job.
        </Text>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <div>
            <Text size="xs" c="dimmed" fw={600} tt="uppercase" mb={4}>
              Repository size
            </Text>
            <AreaChart
              h={160}
              data={data}
              dataKey="at"
              series={[{ name: 'size', label: 'Size', color: 'blue.6' }]}
              valueFormatter={(v) => formatBytes(v)}
              curveType="monotone"
              withDots={data.length < 30}
              yAxisProps={{ width: 70 }}
              aria-label={`Size of ${repo.name} over time`}
            />
          </div>
          <div>
            <Text size="xs" c="dimmed" fw={600} tt="uppercase" mb={4}>
              Snapshots
            </Text>
            <LineChart
              h={160}
              data={data}
              dataKey="at"
              series={[{ name: 'snapshots', label: 'Snapshots', color: 'teal.6' }]}
              curveType="stepAfter"
              withDots={data.length < 30}
              yAxisProps={{ width: 40, allowDecimals: false }}
              aria-label={`Snapshot count of ${repo.name} over time`}
            />
          </div>
        </SimpleGrid>
      )}
    </Paper>
  );
}
