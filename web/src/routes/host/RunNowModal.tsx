// Start a job now, outside any schedule.
import { useState } from 'react';
import { Alert, Button, Group, Modal, Select, Stack, TagsInput, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { repositoriesQuery } from '../../api/queries/repositories';
import { useRunJob } from '../../api/queries/jobs';
import { RetentionBuilder } from '../../components/RetentionBuilder';
import { defaultRetention, retentionErrors, retentionToApi } from '../../lib/retention';
import { errorMessage, isApiError, type Schemas } from '../../api/client';

const kinds = [
  { value: 'backup', label: 'Backup' },
  { value: 'forget', label: 'Forget (apply retention)' },
  { value: 'prune', label: 'Prune' },
  { value: 'check', label: 'Check' },
  { value: 'unlock', label: 'Unlock' },
  { value: 'init', label: 'Initialise repository' },
  { value: 'snapshots', label: 'Refresh snapshot list' },
  { value: 'stats', label: 'Refresh size statistics' },
];

export function RunNowModal({ hostId, opened, onClose }: { hostId: string; opened: boolean; onClose: () => void }) {
  const repos = useQuery(repositoriesQuery(hostId));
  const run = useRunJob(hostId);
  const navigate = useNavigate();
  const [kind, setKind] = useState('backup');
  const [repo, setRepo] = useState<string | null>(null);
  const [paths, setPaths] = useState<string[]>([]);
  const [retention, setRetention] = useState({ ...defaultRetention });
  const repoItems = (repos.data?.items ?? []).map((r) => ({ value: r.id!, label: r.name ?? r.url ?? r.id! }));
  const repoId = repo ?? repoItems[0]?.value ?? null;
  const field = isApiError(run.error) ? run.error.field : undefined;
  const retErr = kind === 'forget' ? retentionErrors(retention, true) : {};

  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={700}>Run a job now</Text>} size="lg" centered>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!repoId || Object.keys(retErr).length) return;
          const body: Schemas['RunRequest'] = { kind: kind as Schemas['RunRequest']['kind'], repository_id: repoId };
          if (kind === 'backup') body.paths = paths;
          if (kind === 'forget') body.retention = retentionToApi(retention);
          run.mutate(body, { onSuccess: (j) => navigate(`/jobs/${j.id}`) });
        }}
      >
        <Stack>
          {repos.isSuccess && repoItems.length === 0 && (
            <Alert color="yellow" variant="light">
              This host has no repository yet. Add one in the Repositories tab first.
            </Alert>
          )}
          <Select label="Kind" data={kinds} value={kind} onChange={(v) => v && setKind(v)} allowDeselect={false} />
          <Select
            label="Repository"
            data={repoItems}
            value={repoId}
            onChange={setRepo}
            allowDeselect={false}
            error={field === 'repository_id' ? errorMessage(run.error) : undefined}
          />
          {kind === 'backup' && (
            <TagsInput
              label="Paths"
              description="Absolute paths on the host; press Enter after each"
              value={paths}
              onChange={setPaths}
              error={field === 'paths' ? errorMessage(run.error) : undefined}
              required
            />
          )}
          {kind === 'forget' && <RetentionBuilder value={retention} onChange={setRetention} required />}
          {run.isError && !field && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(run.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={run.isPending} disabled={!repoId}>
              Run now
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
