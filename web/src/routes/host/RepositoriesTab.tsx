import { useState } from 'react';
import { Anchor, Badge, Button, Card, Group, SimpleGrid, Stack, Text } from '@mantine/core';
import { IconDatabaseOff, IconEdit, IconPlugConnected, IconPlus, IconTrash, IconCheck, IconX } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { repositoriesQuery, useDeleteRepository, useTestRepository } from '../../api/queries/repositories';
import { isTerminal, jobQuery } from '../../api/queries/jobs';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import { ConfirmModal } from '../../components/ConfirmModal';
import { JobStatusBadge } from '../../components/StatusBadge';
import { useCan } from '../../auth';
import type { Host, Repository } from '../../api/client';
import { formatRelative } from '../../lib/format';
import { notifyError, notifyOk } from '../../lib/notify';
import { RepositoryForm } from './RepositoryForm';

function TestResult({ jobId }: { jobId: string }) {
  const job = useQuery(jobQuery(jobId));
  const s = job.data?.status;
  return (
    <Group gap={6} data-testid="test-result" aria-live="polite">
      {s === 'succeeded' ? <IconCheck size={16} color="var(--mantine-color-green-filled)" /> : s === 'failed' ? <IconX size={16} color="var(--mantine-color-red-filled)" /> : null}
      <Text size="sm">{!s ? 'Starting test…' : isTerminal(s) ? (s === 'succeeded' ? 'Connection works' : job.data?.error || `Test ${s}`) : 'Testing…'}</Text>
      {s && <JobStatusBadge status={s} size="xs" />}
      <Anchor component={Link} to={`/jobs/${jobId}`} size="xs">
        details
      </Anchor>
    </Group>
  );
}

function RepoCard({ host, repo, onEdit, onDelete }: { host: Host; repo: Repository; onEdit: () => void; onDelete: () => void }) {
  const test = useTestRepository(host.id!);
  const canOperate = useCan('operator') && host.status !== 'decommissioned';
  return (
    <Card withBorder radius="md" padding="md" data-testid="repository-card">
      <Stack gap="xs">
        <Group justify="space-between">
          <Text fw={700}>{repo.name}</Text>
          <Group gap={4}>
            <Badge color={repo.password_set ? 'green' : 'red'} variant="light">
              {repo.password_set ? 'password set' : 'no password'}
            </Badge>
            {repo.rest_password_set && (
              <Badge color="green" variant="light">
                REST credentials
              </Badge>
            )}
          </Group>
        </Group>
        <Text size="sm" ff="monospace" style={{ wordBreak: 'break-all' }}>
          {repo.url}
        </Text>
        {(repo.env_keys?.length ?? 0) > 0 && (
          <Text size="xs" c="dimmed">
            Environment: {repo.env_keys!.join(', ')}
          </Text>
        )}
        <Text size="xs" c="dimmed">
          Updated {formatRelative(repo.updated_at)}
        </Text>
        {test.data?.id && <TestResult jobId={test.data.id} />}
        {canOperate && (
          <Group gap="xs" mt="xs">
            <Button
              size="xs"
              variant="light"
              leftSection={<IconPlugConnected size={14} />}
              loading={test.isPending}
              onClick={() => test.mutate(repo.id!, { onError: (e) => notifyError('Could not start the test', e) })}
            >
              Test connection
            </Button>
            <Button size="xs" variant="default" leftSection={<IconEdit size={14} />} onClick={onEdit}>
              Edit
            </Button>
            <Button size="xs" variant="subtle" color="red" leftSection={<IconTrash size={14} />} onClick={onDelete}>
              Delete
            </Button>
          </Group>
        )}
      </Stack>
    </Card>
  );
}

export function RepositoriesTab({ host }: { host: Host }) {
  const hostId = host.id!;
  const repos = useQuery(repositoriesQuery(hostId));
  const del = useDeleteRepository(hostId);
  const [editing, setEditing] = useState<Repository | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Repository | null>(null);
  const canOperate = useCan('operator') && host.status !== 'decommissioned';
  const items = repos.data?.items ?? [];
  const addButton = canOperate && (
    <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
      Add repository
    </Button>
  );

  return (
    <>
      {repos.isPending ? (
        <TableSkeleton rows={3} label="Loading repositories" />
      ) : repos.isError ? (
        <ErrorState error={repos.error} onRetry={() => repos.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState
          icon={<IconDatabaseOff size={24} />}
          title="No repositories"
          description="A repository is where restic stores this host’s snapshots: a local path, SFTP, a REST server or a cloud bucket."
          action={addButton || undefined}
        />
      ) : (
        <Stack>
          <Group justify="flex-end">{addButton}</Group>
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            {items.map((r) => (
              <RepoCard key={r.id} host={host} repo={r} onEdit={() => setEditing(r)} onDelete={() => setDeleting(r)} />
            ))}
          </SimpleGrid>
        </Stack>
      )}
      {editing && (
        <RepositoryForm hostId={hostId} repo={editing === 'new' ? undefined : editing} opened onClose={() => setEditing(null)} />
      )}
      <ConfirmModal
        opened={!!deleting}
        onClose={() => setDeleting(null)}
        title={`Delete repository ${deleting?.name ?? ''}?`}
        confirmLabel="Delete"
        loading={del.isPending}
        onConfirm={() =>
          deleting &&
          del.mutate(deleting.id!, {
            onSuccess: () => (notifyOk('Repository removed'), setDeleting(null)),
            onError: (e) => notifyError('Could not delete', e),
          })
        }
      >
        <Text size="sm">
          Restic Manager forgets this repository and the schedules that use it. The data in the repository itself is
          not touched.
        </Text>
      </ConfirmModal>
    </>
  );
}
