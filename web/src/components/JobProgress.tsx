// The live progress of a running job: bar, files, bytes, ETA, throughput.
import { Group, Paper, Progress as Bar, SimpleGrid, Stack, Text } from '@mantine/core';
import type { Progress } from '../api/client';
import { formatBytes, formatDuration, formatNumber, formatPercent, formatRate } from '../lib/format';

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fw={600} size="sm">
        {value}
      </Text>
    </div>
  );
}

export function JobProgress({ progress, status }: { progress?: Progress; status?: string }) {
  const pct = progress?.percent_done ?? 0;
  const running = status === 'running';
  const done = status === 'succeeded' || status === 'warning';
  const value = done ? 1 : pct;
  return (
    <Paper withBorder radius="md" p="md">
      <Stack gap="sm">
        <Group justify="space-between">
          <Text fw={600}>Progress</Text>
          <Text fw={700} data-testid="progress-percent">
            {status === 'queued' ? 'waiting for the agent' : formatPercent(value)}
          </Text>
        </Group>
        <Bar
          value={value * 100}
          size="lg"
          radius="xl"
          striped={running}
          animated={running}
          color={status === 'failed' ? 'red' : status === 'cancelled' ? 'orange' : done ? 'green' : 'blue'}
          aria-label="Job progress"
          data-testid="progress-bar"
        />
        <SimpleGrid cols={{ base: 2, sm: 5 }}>
          <Stat
            label="Files"
            value={`${formatNumber(progress?.files_done)}${progress?.total_files ? ` / ${formatNumber(progress.total_files)}` : ''}`}
          />
          <Stat
            label="Bytes"
            value={`${formatBytes(progress?.bytes_done)}${progress?.total_bytes ? ` / ${formatBytes(progress.total_bytes)}` : ''}`}
          />
          <Stat label="Throughput" value={formatRate(progress?.bytes_per_second)} />
          <Stat label="Elapsed" value={formatDuration(progress?.seconds_elapsed)} />
          <Stat label="ETA" value={running ? formatDuration(progress?.seconds_remaining) : '—'} />
        </SimpleGrid>
        {running && progress?.current_files && progress.current_files.length > 0 && (
          <Text size="xs" c="dimmed" truncate="start" title={progress.current_files.join('\n')}>
            {progress.current_files[0]}
          </Text>
        )}
        {(progress?.error_count ?? 0) > 0 && (
          <Text size="sm" c="red">
            {progress?.error_count} files could not be read
          </Text>
        )}
      </Stack>
    </Paper>
  );
}
