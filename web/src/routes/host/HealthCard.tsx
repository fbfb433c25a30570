// A host's health as the server evaluates it (GET /hosts/{id}/health): its backup
// objective and state, and its open alerts; operators override the objective.
import { useState } from 'react';
import { Alert as MAlert, Anchor, Button, Group, Modal, NumberInput, Paper, Select, SimpleGrid, Stack, Text, Title } from '@mantine/core';
import { IconAdjustments, IconBell } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { hostHealthQuery, useClearObjective, useSetObjective } from '../../api/queries/health';
import { Can } from '../../auth';
import { errorMessage, type HostHealth } from '../../api/client';
import { ConditionBadge, ObjectiveBadge } from '../../components/HealthBadges';
import { CardSkeleton, ErrorState } from '../../components/States';
import { formatDateTime, formatRelative } from '../../lib/format';
import { formatObjective, objectiveError, objectiveSourceLabel, splitDuration, unitSeconds, type DurationUnit } from '../../lib/health';
import { notifyOk } from '../../lib/notify';

function Field({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed" fw={600} tt="uppercase">
        {label}
      </Text>
      <div>{children}</div>
    </div>
  );
}

function ObjectiveModal({ health, opened, onClose }: { health: HostHealth; opened: boolean; onClose: () => void }) {
  const init = splitDuration(health.override_seconds || health.objective_seconds || 86400);
  const [value, setValue] = useState<number | string>(init.value);
  const [unit, setUnit] = useState<DurationUnit>(init.unit);
  const [submitted, setSubmitted] = useState(false);
  const set = useSetObjective(health.host_id);
  const err = submitted ? objectiveError(value, unit) : undefined;
  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={700}>Backup objective</Text>} centered>
      <form
        aria-label="Backup objective"
        onSubmit={(e) => {
          e.preventDefault();
          setSubmitted(true);
          if (objectiveError(value, unit)) return;
          set.mutate(Number(value) * unitSeconds[unit], { onSuccess: () => (notifyOk('Objective set'), onClose()) });
        }}
      >
        <Stack>
          <Text size="sm" c="dimmed">
            The longest the last successful backup of {health.name || health.hostname} may be ago. Past 75% of it the host is at
            risk; past it, violated — each opens an alert.
          </Text>
          <Group align="flex-start" grow>
            <NumberInput label="Maximum age" value={value} onChange={setValue} min={1} error={err ?? (set.isError ? errorMessage(set.error) : undefined)} data-autofocus />
            <Select
              label="Unit"
              data={[
                { value: 'minutes', label: 'minutes' },
                { value: 'hours', label: 'hours' },
                { value: 'days', label: 'days' },
              ]}
              value={unit}
              onChange={(v) => setUnit((v as DurationUnit) ?? 'hours')}
              allowDeselect={false}
            />
          </Group>
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={set.isPending}>
              Set objective
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function HealthCard({ hostId }: { hostId: string }) {
  const health = useQuery(hostHealthQuery(hostId));
  const [edit, setEdit] = useState(false);
  const clear = useClearObjective(hostId);
  if (health.isPending) return <CardSkeleton height={110} />;
  if (health.isError) return <ErrorState error={health.error} onRetry={() => health.refetch()} />;
  const h = health.data;
  const alerts = h.open_alerts ?? [];
  return (
    <Paper withBorder radius="md" p="md" data-testid="host-health">
      <Group justify="space-between" mb="sm">
        <Group gap="sm">
          <Title order={5}>Backup objective</Title>
          <ObjectiveBadge state={h.objective_state} testId="objective-state" />
        </Group>
        <Can role="operator">
          <Group gap="xs">
            {h.objective_source === 'override' && (
              <Button
                size="xs"
                variant="subtle"
                loading={clear.isPending}
                onClick={() => clear.mutate(undefined, { onSuccess: () => notifyOk('The objective is derived again') })}
              >
                Use the derived objective
              </Button>
            )}
            <Button size="xs" variant="default" leftSection={<IconAdjustments size={14} />} onClick={() => setEdit(true)}>
              Override objective
            </Button>
          </Group>
        </Can>
      </Group>
      <SimpleGrid cols={{ base: 2, sm: 4 }}>
        <Field label="Last successful backup">
          <Text size="sm" fw={600} title={formatDateTime(h.last_backup_at)} data-testid="last-backup">
            {h.last_backup_at ? formatRelative(h.last_backup_at) : 'never'}
          </Text>
        </Field>
        <Field label="Objective">
          <Text size="sm" data-testid="objective">
            {formatObjective(h.objective_seconds)}
            {h.objective_source && (
              <Text span size="xs" c="dimmed">
                {' '}
                ({objectiveSourceLabel[h.objective_source] ?? h.objective_source})
              </Text>
            )}
          </Text>
        </Field>
        <Field label="In this state since">
          <Text size="sm">{h.state_since ? formatRelative(h.state_since) : '—'}</Text>
        </Field>
        <Field label="Open alerts">
          {alerts.length === 0 ? (
            <Text size="sm" c="dimmed">
              none
            </Text>
          ) : (
            <Group gap={4}>
              {alerts.map((a) => (
                <Anchor key={a.id} component={Link} to={`/alerts/${a.id}`} aria-label={`Alert: ${a.message}`}>
                  <ConditionBadge condition={a.condition} severity={a.severity} />
                </Anchor>
              ))}
            </Group>
          )}
        </Field>
      </SimpleGrid>
      {alerts.length > 0 && (
        <Stack gap={4} mt="sm">
          {alerts.map((a) => (
            <MAlert key={a.id} color={a.severity === 'critical' ? 'red' : 'yellow'} variant="light" icon={<IconBell size={16} />} p="xs">
              <Text size="sm">
                {a.message}{' '}
                <Anchor component={Link} to={`/alerts/${a.id}`} size="sm">
                  details
                </Anchor>
              </Text>
            </MAlert>
          ))}
        </Stack>
      )}
      {edit && <ObjectiveModal health={h} opened={edit} onClose={() => setEdit(false)} />}
    </Paper>
  );
}
