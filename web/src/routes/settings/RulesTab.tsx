// Routing rules: which events (alert opened/escalated/resolved, job succeeded/warning/
// failed), for which hosts, conditions, severities and job kinds, go to which channel.
import { useState } from 'react';
import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  Modal,
  MultiSelect,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Switch,
  Table,
  TagsInput,
  Text,
  TextInput,
} from '@mantine/core';
import { IconEdit, IconPlus, IconRoute, IconTrash } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { channelsQuery, rulesQuery, useDeleteRule, useSaveRule } from '../../api/queries/notifications';
import { hostsQuery } from '../../api/queries/hosts';
import { Can, useCan } from '../../auth';
import { errorMessage, isApiError, type NotificationRule, type NotificationRuleInput } from '../../api/client';
import { ConfirmModal } from '../../components/ConfirmModal';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import { conditionLabel, conditions } from '../../lib/health';
import { notifyError, notifyOk } from '../../lib/notify';

export const eventTypes = [
  { value: 'alert.opened', label: 'Alert opened' },
  { value: 'alert.escalated', label: 'Alert escalated' },
  { value: 'alert.resolved', label: 'Alert resolved' },
  { value: 'job.failed', label: 'Job failed' },
  { value: 'job.warning', label: 'Job warning' },
  { value: 'job.succeeded', label: 'Job succeeded' },
];
const jobKinds = ['backup', 'forget', 'prune', 'check', 'unlock', 'init', 'restore', 'snapshots', 'stats'];

function labelsToTags(l?: Record<string, string>) {
  return Object.entries(l ?? {}).map(([k, v]) => (v ? `${k}=${v}` : k));
}
function tagsToLabels(t: string[]) {
  const out: Record<string, string> = {};
  for (const s of t) {
    const i = s.indexOf('=');
    if (i < 0) out[s.trim()] = '';
    else out[s.slice(0, i).trim()] = s.slice(i + 1).trim();
  }
  return out;
}

function RuleForm({ rule, onDone }: { rule?: NotificationRule; onDone: () => void }) {
  const channels = useQuery(channelsQuery());
  const hosts = useQuery(hostsQuery({ sort: 'name', limit: 200 }, { refetchInterval: 0 }));
  const save = useSaveRule(rule?.id);
  const [name, setName] = useState(rule?.name ?? '');
  const [channelId, setChannelId] = useState(rule?.channel_id ?? channels.data?.items?.[0]?.id ?? '');
  const [events, setEvents] = useState<string[]>(rule?.events?.length ? rule.events : ['alert.opened', 'alert.escalated', 'alert.resolved']);
  const [conds, setConds] = useState<string[]>(rule?.conditions ?? []);
  const [minSeverity, setMinSeverity] = useState<string>(rule?.min_severity ?? '');
  const [kinds, setKinds] = useState<string[]>(rule?.job_kinds ?? []);
  const [labels, setLabels] = useState<string[]>(labelsToTags(rule?.labels));
  const [hostIds, setHostIds] = useState<string[]>(rule?.host_ids ?? []);
  const [enabled, setEnabled] = useState(rule?.enabled ?? true);
  const [submitted, setSubmitted] = useState(false);
  const hasAlerts = events.some((e) => e.startsWith('alert.'));
  const hasJobs = events.some((e) => e.startsWith('job.'));
  const hostData = [
    ...(hosts.data?.items ?? []).map((h) => ({ value: h.id, label: h.name || h.hostname })),
    ...hostIds.filter((id) => !(hosts.data?.items ?? []).some((h) => h.id === id)).map((id) => ({ value: id, label: id.slice(0, 8) })),
  ];
  const field = isApiError(save.error) ? save.error.field : undefined;
  const serverErr = (f: string) => (field === f ? errorMessage(save.error) : undefined);
  const localErr = {
    name: submitted && !name.trim() ? 'Required' : undefined,
    channel: submitted && !channelId ? 'Choose a channel' : undefined,
    events: submitted && events.length === 0 ? 'Choose at least one event' : undefined,
  };
  const submit = () => {
    setSubmitted(true);
    if (!name.trim() || !channelId || events.length === 0) return;
    const body: NotificationRuleInput = {
      name: name.trim(),
      channel_id: channelId,
      events,
      conditions: hasAlerts ? conds : [],
      job_kinds: hasJobs ? kinds : [],
      labels: tagsToLabels(labels),
      host_ids: hostIds,
      enabled,
    };
    if (hasAlerts && minSeverity) body.min_severity = minSeverity as NotificationRuleInput['min_severity'];
    save.mutate(body, { onSuccess: () => (notifyOk(rule ? 'Rule saved' : 'Rule added'), onDone()) });
  };
  return (
    <form
      aria-label="Notification rule"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <Stack>
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={localErr.name ?? serverErr('name')} placeholder="e.g. prod critical to on-call" data-autofocus />
        <Select
          label="Channel"
          required
          data={(channels.data?.items ?? []).map((c) => ({ value: c.id, label: `${c.name} (${c.type})` }))}
          value={channelId || null}
          onChange={(v) => setChannelId(v ?? '')}
          error={localErr.channel ?? serverErr('channel_id')}
          allowDeselect={false}
        />
        <Checkbox.Group label="Events" value={events} onChange={setEvents} error={localErr.events ?? serverErr('events')}>
          <SimpleGrid cols={3} mt={6} spacing="xs">
            {eventTypes.map((e) => (
              <Checkbox key={e.value} value={e.value} label={e.label} />
            ))}
          </SimpleGrid>
        </Checkbox.Group>
        {hasAlerts && (
          <Group grow align="flex-start">
            <MultiSelect
              label="Conditions"
              description="Empty: every condition"
              data={conditions.map((c) => ({ value: c, label: conditionLabel[c] }))}
              value={conds}
              onChange={setConds}
              error={serverErr('conditions')}
              clearable
            />
            <Select
              label="Minimum severity"
              description="An alert's severity is its highest while open"
              data={[
                { value: '', label: 'Any' },
                { value: 'warning', label: 'warning' },
                { value: 'critical', label: 'critical' },
              ]}
              value={minSeverity}
              onChange={(v) => setMinSeverity(v ?? '')}
              allowDeselect={false}
            />
          </Group>
        )}
        {hasJobs && (
          <MultiSelect label="Job kinds" description="Empty: every kind" data={jobKinds} value={kinds} onChange={setKinds} error={serverErr('job_kinds')} clearable />
        )}
        <MultiSelect
          label="Hosts"
          description="Empty: every host"
          data={hostData}
          value={hostIds}
          onChange={setHostIds}
          searchable
          clearable
          error={serverErr('host_ids')}
          nothingFoundMessage="No host by that name"
        />
        <TagsInput label="Labels" description="key=value; a host must have all of them. Press Enter after each" value={labels} onChange={setLabels} error={serverErr('labels')} />
        <Switch label="Enabled" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        {save.isError && !field && (
          <Alert color="red" variant="light" role="alert">
            {errorMessage(save.error)}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onDone}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            {rule ? 'Save rule' : 'Add rule'}
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function RulesTab() {
  const rules = useQuery(rulesQuery());
  const channels = useQuery(channelsQuery());
  const [editing, setEditing] = useState<NotificationRule | 'new' | null>(null);
  const [deleting, setDeleting] = useState<NotificationRule | null>(null);
  const del = useDeleteRule();
  const canEdit = useCan('operator');
  const channelName = Object.fromEntries((channels.data?.items ?? []).map((c) => [c.id, c.name]));
  const items = rules.data?.items ?? [];
  const noChannels = channels.isSuccess && (channels.data.items ?? []).length === 0;

  return (
    <Paper withBorder radius="md" p="md">
      <Stack>
        <Group justify="space-between">
          <Text size="sm" c="dimmed">
            Which events go to which channel. An event reaches a channel once, even when several rules route it there.
          </Text>
          <Can role="operator">
            <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')} disabled={noChannels}>
              Add rule
            </Button>
          </Can>
        </Group>
        {rules.isPending ? (
          <TableSkeleton rows={3} label="Loading rules" />
        ) : rules.isError ? (
          <ErrorState error={rules.error} onRetry={() => rules.refetch()} />
        ) : items.length === 0 ? (
          <EmptyState
            icon={<IconRoute size={24} />}
            title="No rules yet"
            description={noChannels ? 'Add a channel first, then a rule that routes events to it.' : 'Add a rule to route alerts and job results to a channel.'}
          />
        ) : (
          <Table verticalSpacing="xs" aria-label="Notification rules">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Events</Table.Th>
                <Table.Th>Filters</Table.Th>
                <Table.Th>Channel</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((r) => {
                const filters = [
                  r.conditions.length ? r.conditions.map((c) => conditionLabel[c] ?? c).join(', ') : '',
                  r.min_severity ? `≥ ${r.min_severity}` : '',
                  r.job_kinds.length ? `kinds: ${r.job_kinds.join(', ')}` : '',
                  r.host_ids.length ? `${r.host_ids.length} host${r.host_ids.length > 1 ? 's' : ''}` : '',
                  Object.keys(r.labels ?? {}).length ? labelsToTags(r.labels).join(', ') : '',
                ].filter(Boolean);
                return (
                  <Table.Tr key={r.id} data-testid="rule-row">
                    <Table.Td>
                      <Group gap={6}>
                        <Text size="sm" fw={600}>
                          {r.name}
                        </Text>
                        {!r.enabled && (
                          <Badge size="xs" color="gray">
                            disabled
                          </Badge>
                        )}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4}>
                        {r.events.map((e) => (
                          <Badge key={e} size="xs" variant="light" tt="none">
                            {e}
                          </Badge>
                        ))}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" c="dimmed">
                        {filters.length ? filters.join(' · ') : 'every host'}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{channelName[r.channel_id] ?? r.channel_id.slice(0, 8)}</Text>
                    </Table.Td>
                    <Table.Td>
                      {canEdit && (
                        <Group gap={4} justify="flex-end" wrap="nowrap">
                          <ActionIcon variant="subtle" aria-label={`Edit ${r.name}`} onClick={() => setEditing(r)}>
                            <IconEdit size={16} />
                          </ActionIcon>
                          <ActionIcon variant="subtle" color="red" aria-label={`Delete ${r.name}`} onClick={() => setDeleting(r)}>
                            <IconTrash size={16} />
                          </ActionIcon>
                        </Group>
                      )}
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
      <Modal
        opened={editing !== null}
        onClose={() => setEditing(null)}
        title={<Text fw={700}>{editing === 'new' ? 'Add a notification rule' : `Edit ${editing?.name ?? ''}`}</Text>}
        size="lg"
        centered
      >
        {editing !== null && <RuleForm rule={editing === 'new' ? undefined : editing} onDone={() => setEditing(null)} />}
      </Modal>
      <ConfirmModal
        opened={!!deleting}
        onClose={() => setDeleting(null)}
        title={`Delete rule ${deleting?.name ?? ''}?`}
        confirmLabel="Delete"
        loading={del.isPending}
        onConfirm={() =>
          deleting &&
          del.mutate(deleting.id, {
            onSuccess: () => (notifyOk('Rule deleted'), setDeleting(null)),
            onError: (e) => notifyError('Could not delete', e),
          })
        }
      >
        <Text size="sm">Its channel stops receiving the events it routed.</Text>
      </ConfirmModal>
    </Paper>
  );
}
