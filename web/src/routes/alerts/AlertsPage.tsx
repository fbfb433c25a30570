// Alerts: open ones first (the default view), resolved ones as history; filters by
// condition, severity and host live in the URL so a view can be shared.
import { useState } from 'react';
import { Anchor, Button, CloseButton, Group, Paper, SegmentedControl, Select, Stack, Table, Text, Tooltip } from '@mantine/core';
import { IconBellOff } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { alertsQuery, healthSummaryQuery, type AlertParams } from '../../api/queries/health';
import { hostQuery } from '../../api/queries/hosts';
import { PageHeader } from '../../components/PageHeader';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import { SeverityBadge } from '../../components/HealthBadges';
import type { Alert } from '../../api/client';
import { formatDateTime, formatDuration, formatRelative, secondsBetween } from '../../lib/format';
import { conditionLabel, conditions, severities } from '../../lib/health';

export function AlertsTable({ alerts, showHost = true }: { alerts: Alert[]; showHost?: boolean }) {
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table highlightOnHover verticalSpacing="xs" aria-label="Alerts">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Severity</Table.Th>
            <Table.Th>Condition</Table.Th>
            {showHost && <Table.Th>Host</Table.Th>}
            <Table.Th>Message</Table.Th>
            <Table.Th>Opened</Table.Th>
            <Table.Th>Resolved</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {alerts.map((a) => (
            <Table.Tr key={a.id} data-testid="alert-row" data-state={a.state} data-condition={a.condition}>
              <Table.Td>
                <SeverityBadge severity={a.severity} />
              </Table.Td>
              <Table.Td>
                <Anchor component={Link} to={`/alerts/${a.id}`} fw={600} size="sm">
                  {conditionLabel[a.condition] ?? a.condition}
                </Anchor>
              </Table.Td>
              {showHost && (
                <Table.Td>
                  <Anchor component={Link} to={`/hosts/${a.host_id}`} size="sm">
                    {a.host_name || a.host_id.slice(0, 8)}
                  </Anchor>
                </Table.Td>
              )}
              <Table.Td maw={420}>
                <Text size="sm" lineClamp={2}>
                  {a.message}
                </Text>
              </Table.Td>
              <Table.Td>
                <Tooltip label={formatDateTime(a.opened_at)} withArrow>
                  <Text size="sm">{formatRelative(a.opened_at)}</Text>
                </Tooltip>
              </Table.Td>
              <Table.Td>
                {a.resolved_at ? (
                  <Tooltip label={`${formatDateTime(a.resolved_at)}${a.resolution ? ` — ${a.resolution}` : ''}`} withArrow>
                    <Text size="sm" c="dimmed">
                      after {formatDuration(secondsBetween(a.opened_at, a.resolved_at))}
                    </Text>
                  </Tooltip>
                ) : (
                  <Text size="sm" c="red" fw={600}>
                    open {formatDuration(secondsBetween(a.opened_at))}
                  </Text>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

export function AlertsPage() {
  const [sp, setSp] = useSearchParams();
  const [cursors, setCursors] = useState<string[]>([]);
  const state = (sp.get('state') ?? 'open') as 'open' | 'resolved' | 'all';
  const condition = sp.get('condition') ?? '';
  const severity = sp.get('severity') ?? '';
  const hostId = sp.get('host_id') ?? '';
  const host = useQuery({ ...hostQuery(hostId), enabled: !!hostId });
  const summary = useQuery(healthSummaryQuery());
  const params: AlertParams = {
    state: state === 'all' ? undefined : state,
    condition: (condition || undefined) as AlertParams['condition'],
    severity: (severity || undefined) as AlertParams['severity'],
    host_id: hostId || undefined,
    limit: 25,
    cursor: cursors[cursors.length - 1],
  };
  const alerts = useQuery(alertsQuery(params));
  const items = alerts.data?.items ?? [];
  const setParam = (k: string, v: string) => {
    const next = new URLSearchParams(sp);
    if (v) next.set(k, v);
    else next.delete(k);
    setSp(next, { replace: true });
    setCursors([]);
  };
  const filtered = !!(condition || severity || hostId);

  return (
    <>
      <PageHeader
        title="Alerts"
        description={
          summary.data
            ? `${summary.data.open_alerts} open. One alert per host and condition: it opens when the condition starts and resolves when it ends.`
            : 'One alert per host and condition: it opens when the condition starts and resolves when it ends.'
        }
      />
      <Paper withBorder radius="md" p="md">
        <Stack>
          <Group gap="sm">
            <SegmentedControl
              aria-label="Alert state"
              value={state}
              onChange={(v) => setParam('state', v === 'open' ? '' : v)}
              data={[
                { value: 'open', label: 'Open' },
                { value: 'resolved', label: 'Resolved' },
                { value: 'all', label: 'All' },
              ]}
            />
            <Select
              aria-label="Filter by condition"
              data={[{ value: '', label: 'Any condition' }, ...conditions.map((c) => ({ value: c, label: conditionLabel[c] }))]}
              value={condition}
              onChange={(v) => setParam('condition', v ?? '')}
              w={200}
              allowDeselect={false}
            />
            <Select
              aria-label="Filter by severity"
              data={[{ value: '', label: 'Any severity' }, ...severities.map((s) => ({ value: s, label: s }))]}
              value={severity}
              onChange={(v) => setParam('severity', v ?? '')}
              w={160}
              allowDeselect={false}
            />
            {hostId && (
              <Group gap={4} px="sm" py={4} style={{ border: '1px solid var(--mantine-color-default-border)', borderRadius: 'var(--mantine-radius-sm)' }}>
                <Text size="sm">Host: {host.data?.name || host.data?.hostname || hostId.slice(0, 8)}</Text>
                <CloseButton size="sm" aria-label="Show every host" onClick={() => setParam('host_id', '')} />
              </Group>
            )}
          </Group>
          {alerts.isPending ? (
            <TableSkeleton rows={5} label="Loading alerts" />
          ) : alerts.isError ? (
            <ErrorState error={alerts.error} onRetry={() => alerts.refetch()} />
          ) : items.length === 0 ? (
            <EmptyState
              icon={<IconBellOff size={24} />}
              title={state === 'open' && !filtered ? 'No open alerts' : 'No alert matches'}
              description={
                state === 'open' && !filtered
                  ? 'Every host meets its backup objective and no other condition holds.'
                  : 'Try another filter, or look at the resolved ones.'
              }
            />
          ) : (
            <AlertsTable alerts={items} showHost={!hostId} />
          )}
          <Group justify="flex-end" gap="xs">
            <Button size="xs" variant="default" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
              Newer
            </Button>
            <Button
              size="xs"
              variant="default"
              disabled={!alerts.data?.next_cursor}
              onClick={() => alerts.data?.next_cursor && setCursors([...cursors, alerts.data.next_cursor])}
            >
              Older
            </Button>
          </Group>
        </Stack>
      </Paper>
    </>
  );
}
