// The restore dialog: what (paths of the snapshot; none means everything), where (the
// original location, or a directory restic recreates the paths below), excludes, what to
// do with existing files, and optionally another host with the same repository. It
// queues a restore job and links to it.
import { useState } from 'react';
import {
  Alert,
  Button,
  Checkbox,
  Code,
  Group,
  Modal,
  SegmentedControl,
  Select,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { IconAlertTriangle, IconCircleCheck } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { useRestore } from '../../api/queries/browse';
import { hostsQuery } from '../../api/queries/hosts';
import { repositoriesQuery } from '../../api/queries/repositories';
import { errorMessage, isApiError, type Host, type Job, type Repository } from '../../api/client';
import {
  fieldForRestoreError,
  newRestoreForm,
  overwriteLabel,
  overwriteModes,
  overwriteSupported,
  restoredTo,
  restoreErrors,
  toRestoreRequest,
  type Overwrite,
  type RestoreField,
  type RestoreForm,
} from '../../lib/restoreForm';

export type RestoreModalProps = {
  opened: boolean;
  onClose: () => void;
  host: Host;
  repo: Repository;
  snapshotId: string;
  snapshotLabel: string;
  paths: string[];
};

export function RestoreModal({ opened, onClose, host, repo, snapshotId, snapshotLabel, paths }: RestoreModalProps) {
  const [form, setForm] = useState<RestoreForm>(() => newRestoreForm(paths));
  const [submitted, setSubmitted] = useState(false);
  const [job, setJob] = useState<Job | null>(null);
  const restore = useRestore(host.id, repo.id, snapshotId);
  const hosts = useQuery({ ...hostsQuery({ sort: 'name', limit: 200 }, { refetchInterval: 0 }), enabled: form.otherHost });
  const otherRepos = useQuery({ ...repositoriesQuery(form.targetHostId), enabled: form.otherHost && !!form.targetHostId });
  const targetHost = form.otherHost ? hosts.data?.items?.find((h) => h.id === form.targetHostId) : host;
  const resticVersion = targetHost?.restic_version || undefined;
  const set = <K extends keyof RestoreForm>(k: K, v: RestoreForm[K]) => setForm((f) => ({ ...f, [k]: v }));
  const local = submitted ? restoreErrors(form, { resticVersion }) : {};
  const serverField = isApiError(restore.error) ? fieldForRestoreError(restore.error.field) : undefined;
  const serverMsg = restore.error ? errorMessage(restore.error) : undefined;
  const err = (f: RestoreField) => local[f] ?? (serverField === f ? serverMsg : undefined);
  const sameRepoFirst = (rs: Repository[]) => [...rs].sort((a, b) => Number(b.url === repo.url) - Number(a.url === repo.url));
  const example = form.paths[0] ?? '/';

  const submit = () => {
    setSubmitted(true);
    if (Object.keys(restoreErrors(form, { resticVersion })).length > 0) return;
    restore.mutate(toRestoreRequest(form), { onSuccess: setJob });
  };

  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={700}>Restore from snapshot {snapshotLabel}</Text>} size="lg" centered>
      {job ? (
        <Stack data-testid="restore-queued">
          <Group gap="xs" c="green">
            <IconCircleCheck size={20} />
            <Text fw={600}>Restore job queued</Text>
          </Group>
          <Text size="sm">
            It runs on {form.otherHost ? targetHost?.name || targetHost?.hostname : host.name || host.hostname} as soon as the repository is free. Follow its
            progress and log on the job page.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Close
            </Button>
            <Button component={Link} to={`/jobs/${job.id}`}>
              Follow the restore job
            </Button>
          </Group>
        </Stack>
      ) : (
        <form
          aria-label="Restore"
          noValidate
          onSubmit={(e) => {
            e.preventDefault();
            submit();
          }}
        >
          <Stack>
            <TagsInput
              label="What to restore"
              description="Files and folders of the snapshot; empty restores the whole snapshot"
              value={form.paths}
              onChange={(v) => set('paths', v)}
              error={err('paths')}
              placeholder={form.paths.length ? undefined : 'everything'}
            />
            <TagsInput
              label="Exclude"
              description="restic exclude patterns, e.g. *.tmp or /home/ada/cache"
              value={form.excludes}
              onChange={(v) => set('excludes', v)}
              error={err('excludes')}
            />
            <div>
              <Text size="sm" fw={500} mb={4} id="restore-target-label">
                Where to
              </Text>
              <SegmentedControl
                aria-labelledby="restore-target-label"
                fullWidth
                value={form.targetMode}
                onChange={(v) => set('targetMode', v as RestoreForm['targetMode'])}
                data={[
                  { value: 'directory', label: 'Into a directory' },
                  { value: 'original', label: 'Original location' },
                ]}
              />
            </div>
            {form.targetMode === 'directory' ? (
              <TextInput
                label="Target directory"
                required
                description={
                  <>
                    restic recreates the snapshot’s paths below it: <Code>{example}</Code> ends up in{' '}
                    <Code data-testid="restore-preview">{restoredTo(example, form) || '…'}</Code>
                  </>
                }
                value={form.target}
                onChange={(e) => set('target', e.currentTarget.value)}
                error={err('target')}
                placeholder="/srv/restore"
              />
            ) : (
              <Alert color="orange" variant="light" icon={<IconAlertTriangle size={18} />} title="Restores over what is there now">
                <Checkbox
                  label="I understand: files at their original location are replaced by the snapshot’s versions"
                  checked={form.confirmInPlace}
                  onChange={(e) => set('confirmInPlace', e.currentTarget.checked)}
                  error={err('confirm')}
                />
              </Alert>
            )}
            <Select
              label="Existing files"
              data={overwriteModes.map((m) => ({ value: m, label: overwriteLabel[m], disabled: m !== 'always' && !overwriteSupported(resticVersion) }))}
              value={form.overwrite}
              onChange={(v) => set('overwrite', (v as Overwrite) ?? 'always')}
              error={err('overwrite')}
              description={!overwriteSupported(resticVersion) ? `restic ${resticVersion} on the host always overwrites (choices need 0.17+)` : undefined}
              allowDeselect={false}
            />
            <Switch
              label="Restore on another host that has this repository"
              checked={form.otherHost}
              onChange={(e) => setForm((f) => ({ ...f, otherHost: e.currentTarget.checked, targetHostId: '', targetRepositoryId: '' }))}
            />
            {form.otherHost && (
              <Group grow align="flex-start">
                <Select
                  label="Host"
                  searchable
                  data={(hosts.data?.items ?? []).filter((h) => h.id !== host.id && h.status !== 'decommissioned').map((h) => ({ value: h.id, label: h.name || h.hostname }))}
                  value={form.targetHostId || null}
                  onChange={(v) => setForm((f) => ({ ...f, targetHostId: v ?? '', targetRepositoryId: '' }))}
                  error={err('target_host_id')}
                  nothingFoundMessage={hosts.isPending ? 'Loading…' : 'No other host'}
                />
                <Select
                  label="Its repository"
                  data={sameRepoFirst(otherRepos.data?.items ?? []).map((r) => ({ value: r.id, label: r.url === repo.url ? `${r.name} (same URL)` : r.name }))}
                  value={form.targetRepositoryId || null}
                  onChange={(v) => set('targetRepositoryId', v ?? '')}
                  error={err('target_repository_id')}
                  disabled={!form.targetHostId}
                  nothingFoundMessage="No repository on that host"
                />
              </Group>
            )}
            {(serverField === 'form' || local.form) && (
              <Alert color="red" variant="light" role="alert" title="The server refused the restore">
                {local.form ?? serverMsg}
              </Alert>
            )}
            <Group justify="space-between">
              <Text size="xs" c="dimmed">
                A restore is a job: it waits for other jobs of the repository and is audited.
              </Text>
              <Group>
                <Button variant="default" onClick={onClose}>
                  Cancel
                </Button>
                <Button type="submit" loading={restore.isPending}>
                  Restore
                </Button>
              </Group>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
