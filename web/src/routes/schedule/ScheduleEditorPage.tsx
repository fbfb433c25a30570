import { useEffect, useMemo, useState } from 'react';
import {
  Alert,
  Button,
  Checkbox,
  Divider,
  Grid,
  Group,
  Paper,
  SegmentedControl,
  Select,
  Stack,
  Switch,
  TagsInput,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { IconAlertTriangle, IconTrash } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { useNavigate, useParams } from 'react-router';
import { hostQuery } from '../../api/queries/hosts';
import { repositoriesQuery } from '../../api/queries/repositories';
import { scheduleQuery, useDeleteSchedule, useSaveSchedule } from '../../api/queries/schedules';
import { PageHeader } from '../../components/PageHeader';
import { CronField } from '../../components/CronField';
import { RetentionBuilder } from '../../components/RetentionBuilder';
import { ConfirmModal } from '../../components/ConfirmModal';
import { ErrorState, FullPageLoader } from '../../components/States';
import { useCan } from '../../auth';
import { errorMessage, isApiError } from '../../api/client';
import {
  clientErrors,
  fieldForServerError,
  formToInput,
  newScheduleForm,
  scheduleKinds,
  scheduleToForm,
  type FormField,
  type ScheduleForm,
} from '../../lib/scheduleForm';
import { notifyError, notifyOk } from '../../lib/notify';
import { useSetSchedulePing } from '../../api/queries/notifications';
import { NewPingCard, PingCard, pingURLError } from './PingCard';

const kindHelp: Record<string, string> = {
  backup: 'Back up paths into the repository.',
  forget: 'Apply the retention policy: remove snapshots it does not keep (optionally prune).',
  prune: 'Remove data no snapshot references any more.',
  check: 'Verify the repository’s structure (and optionally a subset of its data).',
  unlock: 'Remove stale locks left by crashed restic processes.',
};

function timezones(): string[] {
  try {
    return (Intl as unknown as { supportedValuesOf(k: string): string[] }).supportedValuesOf('timeZone');
  } catch {
    return ['UTC'];
  }
}

export function ScheduleEditorPage() {
  const { hostId = '', scheduleId } = useParams();
  const isNew = !scheduleId || scheduleId === 'new';
  const navigate = useNavigate();
  const host = useQuery(hostQuery(hostId));
  const repos = useQuery(repositoriesQuery(hostId));
  const existing = useQuery({ ...scheduleQuery(hostId, scheduleId ?? ''), enabled: !isNew });
  const save = useSaveSchedule(hostId, isNew ? undefined : scheduleId);
  const del = useDeleteSchedule(hostId);
  const canEdit = useCan('operator') && host.data?.status !== 'decommissioned';
  const [form, setForm] = useState<ScheduleForm | null>(null);
  const [submitted, setSubmitted] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [pingUrl, setPingUrl] = useState('');
  const setPing = useSetSchedulePing(hostId);
  const tzs = useMemo(() => ['UTC', ...timezones().filter((t) => t !== 'UTC')], []);

  useEffect(() => {
    if (form) return;
    if (isNew && repos.isSuccess) {
      const localTz = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
      setForm(newScheduleForm(repos.data.items?.[0]?.id ?? '', localTz));
    } else if (!isNew && existing.isSuccess) {
      setForm(scheduleToForm(existing.data));
    }
  }, [form, isNew, repos.isSuccess, repos.data, existing.isSuccess, existing.data]);

  if (host.isError) return <ErrorState error={host.error} onRetry={() => host.refetch()} />;
  if (existing.isError) return <ErrorState error={existing.error} onRetry={() => existing.refetch()} />;
  if (repos.isError) return <ErrorState error={repos.error} onRetry={() => repos.refetch()} />;
  if (!form || host.isPending) return <FullPageLoader label="Loading schedule…" />;

  const set = <K extends keyof ScheduleForm>(k: K, v: ScheduleForm[K]) => setForm({ ...form, [k]: v });
  const local = submitted ? clientErrors(form) : {};
  const serverField = isApiError(save.error) ? fieldForServerError(save.error.field) : undefined;
  const serverMsg = save.error ? errorMessage(save.error) : undefined;
  const err = (f: FormField): string | undefined => local[f] ?? (serverField === f ? serverMsg : undefined);
  const repoItems = (repos.data?.items ?? []).map((r) => ({ value: r.id!, label: r.name ?? r.id! }));
  const hostName = host.data.name || host.data.hostname || hostId;

  const submit = () => {
    setSubmitted(true);
    if (Object.keys(clientErrors(form)).length > 0 || (isNew && pingURLError(pingUrl))) return;
    save.mutate(formToInput(form), {
      onSuccess: async (sch) => {
        if (isNew && pingUrl.trim()) {
          try {
            await setPing.mutateAsync({ sid: sch.id, url: pingUrl.trim() });
          } catch (e) {
            notifyError('The schedule was created, but its ping URL was refused', e);
          }
        }
        notifyOk(isNew ? 'Schedule created' : 'Schedule saved');
        navigate(`/hosts/${hostId}/schedules`);
      },
    });
  };

  return (
    <>
      <PageHeader
        crumbs={[
          { label: 'Hosts', to: '/hosts' },
          { label: hostName, to: `/hosts/${hostId}` },
          { label: 'Schedules', to: `/hosts/${hostId}/schedules` },
          { label: isNew ? 'New' : form.name },
        ]}
        title={isNew ? 'New schedule' : `Schedule: ${existing.data?.name ?? ''}`}
        description={`On ${hostName}. The agent keeps running it while the server is unreachable.`}
      />
      {repoItems.length === 0 && (
        <Alert color="yellow" variant="light" mb="md" icon={<IconAlertTriangle size={18} />}>
          This host has no repository yet. Add one in the host’s Repositories tab first.
        </Alert>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
        aria-label="Schedule"
        noValidate
      >
        <fieldset disabled={!canEdit} style={{ border: 0, padding: 0, margin: 0 }}>
          <Grid gap="lg">
            <Grid.Col span={{ base: 12, lg: 7 }}>
              <Paper withBorder radius="md" p="lg">
                <Stack>
                  <TextInput label="Name" required value={form.name} onChange={(e) => set('name', e.currentTarget.value)} error={err('name')} placeholder="e.g. Nightly /etc and /home" />
                  <div>
                    <Text size="sm" fw={500} mb={4} id="kind-label">
                      Kind
                    </Text>
                    <SegmentedControl
                      aria-labelledby="kind-label"
                      fullWidth
                      value={form.kind}
                      onChange={(v) => set('kind', v as ScheduleForm['kind'])}
                      data={scheduleKinds.map((k) => ({ value: k, label: k[0].toUpperCase() + k.slice(1) }))}
                    />
                    <Text size="xs" c={err('kind') ? 'red' : 'dimmed'} mt={4}>
                      {err('kind') ?? kindHelp[form.kind]}
                    </Text>
                  </div>
                  <Select
                    label="Repository"
                    data={repoItems}
                    value={form.repository_id || null}
                    onChange={(v) => set('repository_id', v ?? '')}
                    error={err('repository_id')}
                    required
                    allowDeselect={false}
                  />
                  {form.kind === 'backup' && (
                    <>
                      <TagsInput
                        label="Paths"
                        description="Absolute paths on the host; press Enter after each"
                        value={form.paths}
                        onChange={(v) => set('paths', v)}
                        error={err('paths')}
                        required
                        placeholder="/etc"
                      />
                      <TagsInput
                        label="Excludes"
                        description="restic --exclude patterns"
                        value={form.excludes}
                        onChange={(v) => set('excludes', v)}
                        error={err('excludes')}
                        placeholder="*.tmp"
                      />
                    </>
                  )}
                  {(form.kind === 'backup' || form.kind === 'forget') && (
                    <TagsInput
                      label="Tags"
                      description={form.kind === 'backup' ? 'Tags added to each snapshot' : 'Only forget snapshots with these tags'}
                      value={form.tags}
                      onChange={(v) => set('tags', v)}
                      error={err('tags')}
                    />
                  )}
                  {form.kind === 'forget' && (
                    <>
                      <Divider label="Retention policy" labelPosition="left" />
                      <RetentionBuilder
                        value={form.retention}
                        onChange={(v) => set('retention', v)}
                        required
                        serverError={err('retention_policy') ?? (serverField === 'keep_within' ? serverMsg : undefined)}
                      />
                      <Checkbox
                        label="Prune after forgetting (frees space; takes longer)"
                        checked={form.prune}
                        onChange={(e) => set('prune', e.currentTarget.checked)}
                      />
                    </>
                  )}
                  {form.kind === 'check' && (
                    <TextInput
                      label="Read data subset"
                      description="Also read this part of the data, e.g. 5% or 1/10 (empty: structure only)"
                      value={form.read_data_subset}
                      onChange={(e) => set('read_data_subset', e.currentTarget.value)}
                      error={err('read_data_subset')}
                    />
                  )}
                  {form.kind === 'prune' && (
                    <TextInput
                      label="Max unused"
                      description="restic --max-unused, e.g. 5% or 1G"
                      value={form.max_unused}
                      onChange={(e) => set('max_unused', e.currentTarget.value)}
                      error={err('max_unused')}
                    />
                  )}
                  <Divider label="Hooks" labelPosition="left" />
                  <Text size="xs" c="dimmed">
                    Hook names refer to commands defined in the agent’s local configuration, so the server can never make a
                    host run an arbitrary command.
                  </Text>
                  <Group grow align="flex-start">
                    <TextInput label="Before (hook name)" value={form.pre_hook} onChange={(e) => set('pre_hook', e.currentTarget.value)} error={err('pre_hook')} />
                    <TextInput label="After (hook name)" value={form.post_hook} onChange={(e) => set('post_hook', e.currentTarget.value)} error={err('post_hook')} />
                  </Group>
                </Stack>
              </Paper>
            </Grid.Col>
            <Grid.Col span={{ base: 12, lg: 5 }}>
              <Paper withBorder radius="md" p="lg">
                <Stack>
                  <Title order={5}>When</Title>
                  <Switch
                    label="Manual only (runs only when started by hand)"
                    checked={form.manual}
                    onChange={(e) => set('manual', e.currentTarget.checked)}
                  />
                  {!form.manual && (
                    <>
                      <CronField value={form.cron} timezone={form.timezone} onChange={(v) => set('cron', v)} error={err('cron')} />
                      <Select
                        label="Time zone"
                        data={tzs}
                        searchable
                        value={form.timezone}
                        onChange={(v) => set('timezone', v ?? 'UTC')}
                        error={err('timezone')}
                        allowDeselect={false}
                        limit={50}
                      />
                    </>
                  )}
                  <Switch label="Enabled" checked={form.enabled} onChange={(e) => set('enabled', e.currentTarget.checked)} />
                </Stack>
              </Paper>
              <div style={{ height: 'var(--mantine-spacing-lg)' }} />
              {isNew ? (
                canEdit && <NewPingCard value={pingUrl} onChange={setPingUrl} error={submitted ? pingURLError(pingUrl) : undefined} />
              ) : (
                <PingCard hostId={hostId} scheduleId={scheduleId!} canEdit={canEdit} />
              )}
            </Grid.Col>
          </Grid>
          {(err('form') || (save.isError && serverField === 'form')) && (
            <Alert color="red" variant="light" mt="md" role="alert" title="The server refused the schedule">
              {err('form') ?? serverMsg}
            </Alert>
          )}
          {canEdit && (
            <Group justify="space-between" mt="lg">
              <div>
                {!isNew && (
                  <Button variant="subtle" color="red" leftSection={<IconTrash size={16} />} onClick={() => setConfirmDelete(true)}>
                    Delete schedule
                  </Button>
                )}
              </div>
              <Group>
                <Button variant="default" onClick={() => navigate(`/hosts/${hostId}/schedules`)}>
                  Cancel
                </Button>
                <Button type="submit" loading={save.isPending}>
                  {isNew ? 'Create schedule' : 'Save schedule'}
                </Button>
              </Group>
            </Group>
          )}
        </fieldset>
      </form>
      <ConfirmModal
        opened={confirmDelete}
        onClose={() => setConfirmDelete(false)}
        title="Delete this schedule?"
        confirmLabel="Delete"
        loading={del.isPending}
        onConfirm={() =>
          del.mutate(scheduleId!, {
            onSuccess: () => {
              notifyOk('Schedule deleted');
              navigate(`/hosts/${hostId}/schedules`);
            },
          })
        }
      >
        <Text size="sm">The agent stops running it. Past jobs stay in the history.</Text>
      </ConfirmModal>
    </>
  );
}
