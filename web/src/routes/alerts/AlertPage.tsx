// One alert: what happened, its details, when it opened and resolved, the notifications
// it caused, and the history of the same condition on the same host.
import { Anchor, Badge, Code, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { alertQuery, alertsQuery } from '../../api/queries/health';
import { deliveriesQuery } from '../../api/queries/notifications';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState, FullPageLoader, TableSkeleton } from '../../components/States';
import { SeverityBadge } from '../../components/HealthBadges';
import { formatDateTime, formatDuration, formatRelative, secondsBetween } from '../../lib/format';
import { conditionLabel } from '../../lib/health';
import { AlertsTable } from './AlertsPage';
import { DeliveriesTable } from '../settings/DeliveriesTab';

function detailValue(k: string, v: unknown): string {
  if (typeof v === 'number' && /seconds$/.test(k)) return `${formatDuration(v)} (${v} s)`;
  if (typeof v === 'string' && /_at$/.test(k)) return `${formatDateTime(v)} (${formatRelative(v)})`;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function AlertPage() {
  const { alertId = '' } = useParams();
  const alert = useQuery(alertQuery(alertId));
  const a = alert.data;
  const history = useQuery({ ...alertsQuery({ host_id: a?.host_id, condition: a?.condition, limit: 10 }), enabled: !!a });
  const deliveries = useQuery({ ...deliveriesQuery({ alert_id: alertId, limit: 20 }), enabled: !!a });
  if (alert.isPending) return <FullPageLoader label="Loading alert…" />;
  if (alert.isError || !a) return <ErrorState error={alert.error} onRetry={() => alert.refetch()} />;
  const details = Object.entries(a.details ?? {});
  const others = (history.data?.items ?? []).filter((x) => x.id !== a.id);

  return (
    <>
      <PageHeader
        crumbs={[{ label: 'Alerts', to: '/alerts' }, { label: conditionLabel[a.condition] ?? a.condition }]}
        title={
          <Group gap="sm">
            <span>
              {conditionLabel[a.condition] ?? a.condition} on {a.host_name || a.host_id.slice(0, 8)}
            </span>
            <SeverityBadge severity={a.severity} size="md" />
            <Badge color={a.state === 'open' ? 'red' : 'green'} variant="light" size="lg" data-testid="alert-state">
              {a.state}
            </Badge>
          </Group>
        }
        description={a.message}
      />
      <Stack>
        <Paper withBorder radius="md" p="md">
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 4 }}>
            <div>
              <Text size="xs" c="dimmed" fw={600} tt="uppercase">
                Host
              </Text>
              <Anchor component={Link} to={`/hosts/${a.host_id}`} size="sm" fw={600}>
                {a.host_name || a.host_id}
              </Anchor>
            </div>
            <div>
              <Text size="xs" c="dimmed" fw={600} tt="uppercase">
                Opened
              </Text>
              <Text size="sm">{formatDateTime(a.opened_at)}</Text>
            </div>
            <div>
              <Text size="xs" c="dimmed" fw={600} tt="uppercase">
                {a.resolved_at ? 'Resolved' : 'Open for'}
              </Text>
              <Text size="sm">
                {a.resolved_at
                  ? `${formatDateTime(a.resolved_at)} — after ${formatDuration(secondsBetween(a.opened_at, a.resolved_at))}`
                  : formatDuration(secondsBetween(a.opened_at))}
              </Text>
              {a.resolution && (
                <Text size="xs" c="dimmed">
                  {a.resolution}
                </Text>
              )}
            </div>
            <div>
              <Text size="xs" c="dimmed" fw={600} tt="uppercase">
                Severity
              </Text>
              <Text size="sm">{a.severity} (the highest while open)</Text>
            </div>
          </SimpleGrid>
          {details.length > 0 && (
            <Table mt="md" verticalSpacing={4} aria-label="Alert details" withRowBorders={false}>
              <Table.Tbody>
                {details.map(([k, v]) => (
                  <Table.Tr key={k}>
                    <Table.Td w={220}>
                      <Code>{k}</Code>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{detailValue(k, v)}</Text>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </Paper>

        <Title order={4}>Notifications</Title>
        <Paper withBorder radius="md" p="md">
          {deliveries.isPending ? (
            <TableSkeleton rows={2} />
          ) : deliveries.isError ? (
            <ErrorState error={deliveries.error} />
          ) : (deliveries.data.items ?? []).length === 0 ? (
            <Text size="sm" c="dimmed">
              No notification was sent for this alert: no rule routes it to a channel (Settings → Notifications).
            </Text>
          ) : (
            <DeliveriesTable deliveries={deliveries.data.items ?? []} />
          )}
        </Paper>

        <Title order={4}>Earlier alerts of this condition on this host</Title>
        {history.isPending ? (
          <TableSkeleton rows={2} />
        ) : others.length === 0 ? (
          <Text size="sm" c="dimmed">
            None.
          </Text>
        ) : (
          <Paper withBorder radius="md" p="xs">
            <AlertsTable alerts={others} showHost={false} />
          </Paper>
        )}
      </Stack>
    </>
  );
}
