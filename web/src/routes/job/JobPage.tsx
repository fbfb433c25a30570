import { useState } from 'react';
import { Alert, Anchor, Badge, Button, Code, Group, Paper, SimpleGrid, Stack, Text, Textarea, Title } from '@mantine/core';
import { IconAlertTriangle, IconPlayerStop, IconWifi, IconWifiOff } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { isTerminal, jobQuery, useCancelJob } from '../../api/queries/jobs';
import { hostQuery } from '../../api/queries/hosts';
import { useJobStream } from '../../api/useJobStream';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState, FullPageLoader } from '../../components/States';
import { JobStatusBadge } from '../../components/StatusBadge';
import { JobProgress } from '../../components/JobProgress';
import { LogViewer } from '../../components/LogViewer';
import { ConfirmModal } from '../../components/ConfirmModal';
import { useCan } from '../../auth';
import { errorMessage } from '../../api/client';
import { formatDateTime, formatDuration, formatNumber, secondsBetween } from '../../lib/format';
import { describeRetention } from '../../lib/retention';
import { progressFromSummary, summaryStats } from '../../lib/summary';

export function JobPage() {
  const { jobId = '' } = useParams();
  const job = useQuery(jobQuery(jobId));
  const stream = useJobStream(jobId);
  const host = useQuery({ ...hostQuery(job.data?.host_id ?? ''), enabled: !!job.data?.host_id && !job.data?.host_name });
  const cancel = useCancelJob(jobId);
  const canOperate = useCan('operator');
  const [confirm, setConfirm] = useState(false);
  const [reason, setReason] = useState('');

  if (job.isPending) return <FullPageLoader label="Loading job…" />;
  if (job.isError) return <ErrorState error={job.error} onRetry={() => job.refetch()} />;
  const j = { ...job.data, ...stream.job };
  const progress = stream.progress ?? j.progress ?? progressFromSummary(j.summary);
  const done = isTerminal(j.status);
  const stats = summaryStats(j.kind, j.summary);
  const hostName = j.host_name || host.data?.name || host.data?.hostname || (j.host_id ?? '').slice(0, 8);
  const rs = j.spec?.restore;
  const live = !done && (stream.state === 'live' || stream.state === 'polling');

  return (
    <>
      <PageHeader
        crumbs={[
          { label: 'Hosts', to: '/hosts' },
          { label: hostName, to: `/hosts/${j.host_id}` },
          { label: 'Jobs', to: `/hosts/${j.host_id}/jobs` },
          { label: (j.id ?? '').slice(0, 8) },
        ]}
        title={
          <Group gap="sm">
            <span>
              {j.kind} job
            </span>
            <JobStatusBadge status={j.status} size="lg" />
            {j.cancel_requested_at && !done && (
              <Badge color="orange" variant="light">
                cancelling…
              </Badge>
            )}
          </Group>
        }
        description={
          <>
            On{' '}
            <Anchor component={Link} to={`/hosts/${j.host_id}`}>
              {hostName}
            </Anchor>
            {j.spec?.repository_name ? ` into ${j.spec.repository_name}` : ''} · created {formatDateTime(j.created_at)}
            {j.actor_type === 'schedule' ? ' by its schedule' : ''}
          </>
        }
        actions={
          <>
            <Badge
              variant="light"
              color={live ? 'green' : done ? 'gray' : 'yellow'}
              leftSection={live ? <IconWifi size={12} /> : <IconWifiOff size={12} />}
              data-testid="stream-state"
            >
              {done ? 'finished' : stream.state === 'live' ? 'live' : stream.state}
            </Badge>
            {canOperate && !done && (
              <Button
                color="red"
                variant="light"
                leftSection={<IconPlayerStop size={16} />}
                onClick={() => setConfirm(true)}
                disabled={!!j.cancel_requested_at}
              >
                Cancel job
              </Button>
            )}
          </>
        }
      />
      <Stack>
        {(j.kind === 'backup' || progress) && <JobProgress progress={progress} status={j.status} />}
        {j.error && (
          <Alert color={j.status === 'warning' ? 'yellow' : 'red'} variant="light" icon={<IconAlertTriangle size={18} />} title={j.status === 'cancelled' ? 'Cancelled' : 'Error'} role="alert">
            <Text size="sm" style={{ whiteSpace: 'pre-wrap' }}>
              {j.error}
            </Text>
            {j.exit_code !== undefined && j.exit_code !== null && (
              <Text size="xs" c="dimmed" mt={4}>
                restic exit code {j.exit_code}
              </Text>
            )}
          </Alert>
        )}
        {done && (
          <Paper withBorder radius="md" p="md" data-testid="final-stats">
            <Title order={5} mb="sm">
              Result
            </Title>
            <SimpleGrid cols={{ base: 2, sm: 4 }}>
              <Stat label="Status" value={j.status ?? '—'} />
              <Stat label="Duration" value={formatDuration(secondsBetween(j.started_at, j.finished_at))} />
              <Stat label="Started" value={formatDateTime(j.started_at)} />
              <Stat label="Finished" value={formatDateTime(j.finished_at)} />
              {stats.map((s) => (
                <Stat key={s.label} label={s.label} value={s.value} mono={s.mono} />
              ))}
            </SimpleGrid>
          </Paper>
        )}
        <Paper withBorder radius="md" p="md">
          <Title order={5} mb="xs">
            What it runs
          </Title>
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            {(j.spec?.paths?.length ?? 0) > 0 && <Stat label="Paths" value={j.spec!.paths!.join(', ')} mono />}
            {(j.spec?.excludes?.length ?? 0) > 0 && <Stat label="Excludes" value={j.spec!.excludes!.join(', ')} mono />}
            {(j.spec?.tags?.length ?? 0) > 0 && <Stat label="Tags" value={j.spec!.tags!.join(', ')} />}
            {j.spec?.retention && <Stat label="Retention" value={describeRetention(j.spec.retention)} />}
            {rs && <Stat label="Snapshot" value={(rs.snapshot ?? '').slice(0, 8)} mono />}
            {rs && <Stat label="Restore" value={rs.includes?.length ? rs.includes.join(', ') : 'the whole snapshot'} mono />}
            {rs && <Stat label="Into" value={!rs.target || rs.target === '/' ? 'the original location' : rs.target} mono={!!rs.target && rs.target !== '/'} />}
            {rs && (rs.excludes?.length ?? 0) > 0 && <Stat label="Excludes" value={rs.excludes!.join(', ')} mono />}
            {rs && <Stat label="Existing files" value={rs.overwrite || 'always overwritten'} />}
            <Stat label="Repository" value={j.spec?.repository_name || '—'} />
            {j.schedule_id && (
              <div>
                <Text size="xs" c="dimmed" fw={600} tt="uppercase">
                  Schedule
                </Text>
                <Anchor component={Link} to={`/hosts/${j.host_id}/schedules/${j.schedule_id}`} size="sm">
                  open schedule
                </Anchor>
              </div>
            )}
          </SimpleGrid>
        </Paper>
        <div>
          <Group justify="space-between" mb="xs">
            <Title order={5}>Log</Title>
            <Text size="xs" c="dimmed">
              {formatNumber(stream.lines.length)} lines
              {done && j.log_lines && j.log_lines > stream.lines.length ? ` (agent produced ${formatNumber(j.log_lines)})` : ''}
            </Text>
          </Group>
          <LogViewer lines={stream.lines} live={!done} emptyText={done ? 'This job wrote no log lines.' : 'Waiting for the first log lines…'} />
        </div>
      </Stack>
      <ConfirmModal
        opened={confirm}
        onClose={() => setConfirm(false)}
        title="Cancel this job?"
        confirmLabel="Cancel job"
        loading={cancel.isPending}
        onConfirm={() => cancel.mutate(reason || undefined, { onSuccess: () => setConfirm(false) })}
      >
        <Stack gap="sm">
          <Text size="sm">
            The agent stops restic. A cancelled backup leaves no snapshot; data already uploaded is reused by the next
            backup.
          </Text>
          <Textarea label="Reason (optional, recorded in the audit log)" value={reason} onChange={(e) => setReason(e.currentTarget.value)} />
          {cancel.isError && (
            <Text c="red" size="sm" role="alert">
              {errorMessage(cancel.error)}
            </Text>
          )}
        </Stack>
      </ConfirmModal>
    </>
  );
}

function Stat({ label, value, mono }: { label: string; value: string; mono?: boolean }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={600} tt="uppercase">
        {label}
      </Text>
      {mono ? (
        <Code fz="sm">{value}</Code>
      ) : (
        <Text size="sm" fw={500}>
          {value}
        </Text>
      )}
    </div>
  );
}

