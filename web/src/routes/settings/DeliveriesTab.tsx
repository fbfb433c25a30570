// The delivery log: every notification and ping, its status and attempts; one delivery
// opens with its attempts (time, code, error, duration) and the event it carried.
import { useState } from 'react';
import { Anchor, Badge, Button, Code, Drawer, Group, Paper, ScrollArea, Select, Stack, Table, Text, Title, Tooltip } from '@mantine/core';
import { IconCheck, IconX } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { channelsQuery, deliveriesQuery, deliveryQuery, type DeliveryParams } from '../../api/queries/notifications';
import type { NotificationDelivery } from '../../api/client';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import { formatDateTime, formatRelative } from '../../lib/format';
import { eventTypes } from './RulesTab';

const statusColor: Record<string, string> = { pending: 'yellow', sending: 'blue', delivered: 'green', failed: 'red' };

export function DeliveryStatus({ status }: { status: string }) {
  return (
    <Badge color={statusColor[status] ?? 'gray'} variant="light" data-status={status}>
      {status}
    </Badge>
  );
}

function DeliveryDetail({ id }: { id: number }) {
  const d = useQuery(deliveryQuery(id));
  if (d.isPending) return <TableSkeleton rows={3} />;
  if (d.isError) return <ErrorState error={d.error} onRetry={() => d.refetch()} />;
  const x = d.data;
  return (
    <Stack>
      <Group gap="sm">
        <DeliveryStatus status={x.status} />
        <Text size="sm" fw={600}>
          {x.title}
        </Text>
      </Group>
      <Text size="sm" c="dimmed">
        {x.event_type} to {x.target_type} <b>{x.target_name}</b>, queued {formatDateTime(x.created_at)}
        {x.delivered_at ? `, delivered ${formatDateTime(x.delivered_at)}` : ''}
        {x.next_attempt_at && x.status === 'pending' ? `, next attempt ${formatRelative(x.next_attempt_at)}` : ''}
      </Text>
      <Group gap="xs">
        {x.alert_id && (
          <Anchor component={Link} to={`/alerts/${x.alert_id}`} size="sm">
            The alert
          </Anchor>
        )}
        {x.job_id && (
          <Anchor component={Link} to={`/jobs/${x.job_id}`} size="sm">
            The job
          </Anchor>
        )}
        {x.host_id && (
          <Anchor component={Link} to={`/hosts/${x.host_id}`} size="sm">
            The host
          </Anchor>
        )}
      </Group>
      <Title order={5}>Attempts</Title>
      {x.attempts_log.length === 0 ? (
        <Text size="sm" c="dimmed">
          Not attempted yet.
        </Text>
      ) : (
        <Table verticalSpacing={4} aria-label="Attempts">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>#</Table.Th>
              <Table.Th>When</Table.Th>
              <Table.Th>Result</Table.Th>
              <Table.Th>Code</Table.Th>
              <Table.Th>Took</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {x.attempts_log.map((a) => (
              <Table.Tr key={a.attempt} data-testid="attempt-row">
                <Table.Td>{a.attempt}</Table.Td>
                <Table.Td>
                  <Text size="sm">{formatDateTime(a.at)}</Text>
                </Table.Td>
                <Table.Td>
                  {a.ok ? (
                    <Group gap={4} c="green">
                      <IconCheck size={14} />
                      <Text size="sm">ok</Text>
                    </Group>
                  ) : (
                    <Group gap={4} c="red" wrap="nowrap">
                      <IconX size={14} />
                      <Text size="sm" lineClamp={3}>
                        {a.error || 'failed'}
                      </Text>
                    </Group>
                  )}
                </Table.Td>
                <Table.Td>{a.status_code ?? '—'}</Table.Td>
                <Table.Td>{a.duration_ms} ms</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Title order={5}>Event</Title>
      <ScrollArea.Autosize mah={360}>
        <Code block>{JSON.stringify(x.event, null, 2)}</Code>
      </ScrollArea.Autosize>
    </Stack>
  );
}

export function DeliveriesTable({ deliveries, onOpen }: { deliveries: NotificationDelivery[]; onOpen?: (id: number) => void }) {
  const [open, setOpen] = useState<number | null>(null);
  const show = onOpen ?? setOpen;
  return (
    <>
      <Table.ScrollContainer minWidth={760}>
        <Table verticalSpacing="xs" highlightOnHover aria-label="Deliveries">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Status</Table.Th>
              <Table.Th>Event</Table.Th>
              <Table.Th>To</Table.Th>
              <Table.Th>Title</Table.Th>
              <Table.Th>Attempts</Table.Th>
              <Table.Th>Queued</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {deliveries.map((d) => (
              <Table.Tr key={d.id} data-testid="delivery-row" data-status={d.status} style={{ cursor: 'pointer' }} onClick={() => show(d.id)}>
                <Table.Td>
                  <DeliveryStatus status={d.status} />
                </Table.Td>
                <Table.Td>
                  <Text size="sm" ff="monospace">
                    {d.event_type}
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">
                    {d.target_name}
                    <Text span size="xs" c="dimmed">
                      {' '}
                      ({d.target_type})
                    </Text>
                  </Text>
                </Table.Td>
                <Table.Td maw={360}>
                  <Anchor
                    component="button"
                    type="button"
                    size="sm"
                    onClick={(e: React.MouseEvent) => (e.stopPropagation(), show(d.id))}
                    aria-label={`Delivery ${d.id}: ${d.title}`}
                    style={{ textAlign: 'left' }}
                  >
                    <Text size="sm" lineClamp={1} span>
                      {d.title}
                    </Text>
                  </Anchor>
                  {d.last_error && d.status !== 'delivered' && (
                    <Text size="xs" c="red" lineClamp={1}>
                      {d.last_error}
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{d.attempts}</Table.Td>
                <Table.Td>
                  <Tooltip label={formatDateTime(d.created_at)} withArrow>
                    <Text size="sm">{formatRelative(d.created_at)}</Text>
                  </Tooltip>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      {!onOpen && (
        <Drawer opened={open !== null} onClose={() => setOpen(null)} position="right" size="lg" title={<Text fw={700}>Delivery {open}</Text>}>
          {open !== null && <DeliveryDetail id={open} />}
        </Drawer>
      )}
    </>
  );
}

export function DeliveriesTab() {
  const [status, setStatus] = useState('');
  const [channel, setChannel] = useState('');
  const [event, setEvent] = useState('');
  const [cursors, setCursors] = useState<string[]>([]);
  const channels = useQuery(channelsQuery());
  const p: DeliveryParams = {
    status: (status || undefined) as DeliveryParams['status'],
    channel_id: channel || undefined,
    event_type: event || undefined,
    limit: 25,
    cursor: cursors[cursors.length - 1],
  };
  const list = useQuery(deliveriesQuery(p));
  const items = list.data?.items ?? [];
  const reset = <T,>(fn: (v: T) => void) => (v: T) => (fn(v), setCursors([]));
  return (
    <Paper withBorder radius="md" p="md">
      <Stack>
        <Group gap="sm">
          <Select
            aria-label="Filter by status"
            data={[{ value: '', label: 'Any status' }, ...['pending', 'sending', 'delivered', 'failed'].map((s) => ({ value: s, label: s }))]}
            value={status}
            onChange={reset((v: string | null) => setStatus(v ?? ''))}
            w={160}
            allowDeselect={false}
          />
          <Select
            aria-label="Filter by channel"
            data={[{ value: '', label: 'Any channel' }, ...(channels.data?.items ?? []).map((c) => ({ value: c.id, label: c.name }))]}
            value={channel}
            onChange={reset((v: string | null) => setChannel(v ?? ''))}
            w={200}
            allowDeselect={false}
          />
          <Select
            aria-label="Filter by event"
            data={[{ value: '', label: 'Any event' }, ...eventTypes, { value: 'test', label: 'Test message' }, { value: 'ping', label: 'Schedule ping' }]}
            value={event}
            onChange={reset((v: string | null) => setEvent(v ?? ''))}
            w={200}
            allowDeselect={false}
          />
        </Group>
        {list.isPending ? (
          <TableSkeleton rows={4} label="Loading deliveries" />
        ) : list.isError ? (
          <ErrorState error={list.error} onRetry={() => list.refetch()} />
        ) : items.length === 0 ? (
          <EmptyState title="Nothing delivered yet" description="Notifications and pings appear here with every attempt, for 30 days." />
        ) : (
          <DeliveriesTable deliveries={items} />
        )}
        <Group justify="flex-end" gap="xs">
          <Button size="xs" variant="default" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
            Newer
          </Button>
          <Button size="xs" variant="default" disabled={!list.data?.next_cursor} onClick={() => list.data?.next_cursor && setCursors([...cursors, list.data.next_cursor])}>
            Older
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
