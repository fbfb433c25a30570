import { useState } from 'react';
import { ActionIcon, Badge, Button, Group, Modal, Paper, Stack, Table, Text, Tooltip } from '@mantine/core';
import { IconEdit, IconMail, IconMessage, IconPlus, IconSend, IconTrash, IconWebhook } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { channelsQuery, useDeleteChannel, useTestChannel } from '../../api/queries/notifications';
import { Can, useCan } from '../../auth';
import type { NotificationChannel, NotificationDelivery } from '../../api/client';
import { ConfirmModal } from '../../components/ConfirmModal';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import { notifyError, notifyOk } from '../../lib/notify';
import { ChannelForm } from './ChannelForm';

const typeIcon = { webhook: IconWebhook, email: IconMail, chat: IconMessage };

function TestResult({ d }: { d: NotificationDelivery }) {
  return d.status === 'delivered' ? (
    <Badge color="green" variant="light" data-testid="test-result">
      test delivered
    </Badge>
  ) : (
    <Tooltip label={d.last_error || d.status} withArrow multiline w={320}>
      <Badge color="red" variant="light" data-testid="test-result">
        test {d.status}
      </Badge>
    </Tooltip>
  );
}

export function ChannelsTab() {
  const channels = useQuery(channelsQuery());
  const [editing, setEditing] = useState<NotificationChannel | 'new' | null>(null);
  const [deleting, setDeleting] = useState<NotificationChannel | null>(null);
  const [results, setResults] = useState<Record<string, NotificationDelivery>>({});
  const del = useDeleteChannel();
  const test = useTestChannel();
  const canEdit = useCan('operator');
  const items = channels.data?.items ?? [];

  return (
    <Paper withBorder radius="md" p="md">
      <Stack>
        <Group justify="space-between">
          <Text size="sm" c="dimmed">
            Where notifications go. A channel receives nothing until a rule routes events to it.
          </Text>
          <Can role="operator">
            <Button leftSection={<IconPlus size={16} />} onClick={() => setEditing('new')}>
              Add channel
            </Button>
          </Can>
        </Group>
        {channels.isPending ? (
          <TableSkeleton rows={3} label="Loading channels" />
        ) : channels.isError ? (
          <ErrorState error={channels.error} onRetry={() => channels.refetch()} />
        ) : items.length === 0 ? (
          <EmptyState icon={<IconSend size={24} />} title="No channels yet" description="Add a webhook, an email address or a chat service to hear about alerts and failed jobs." />
        ) : (
          <Table verticalSpacing="xs" highlightOnHover aria-label="Notification channels">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Type</Table.Th>
                <Table.Th>Goes to</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((ch) => {
                const Icon = typeIcon[ch.type] ?? IconSend;
                return (
                  <Table.Tr key={ch.id} data-testid="channel-row">
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {ch.name}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={6}>
                        <Icon size={16} aria-hidden="true" />
                        <Text size="sm">{ch.type}</Text>
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" c="dimmed" ff="monospace">
                        {ch.summary}
                      </Text>
                      {ch.webhook?.secret_set && (
                        <Badge size="xs" variant="outline" ml={6}>
                          signed
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={6}>
                        <Badge color={ch.enabled ? 'green' : 'gray'} variant="light">
                          {ch.enabled ? 'enabled' : 'disabled'}
                        </Badge>
                        {results[ch.id] && <TestResult d={results[ch.id]} />}
                      </Group>
                    </Table.Td>
                    <Table.Td>
                      {canEdit && (
                        <Group gap={4} justify="flex-end" wrap="nowrap">
                          <Button
                            size="xs"
                            variant="light"
                            leftSection={<IconSend size={14} />}
                            loading={test.isPending && test.variables === ch.id}
                            onClick={() =>
                              test.mutate(ch.id, {
                                onSuccess: (d) => {
                                  setResults((r) => ({ ...r, [ch.id]: d }));
                                  if (d.status === 'delivered') notifyOk(`Test message delivered to ${ch.name}`);
                                  else notifyError(`Test message to ${ch.name} failed`, new Error(d.last_error || d.status));
                                },
                                onError: (e) => notifyError('Could not send the test', e),
                              })
                            }
                          >
                            Send test
                          </Button>
                          <ActionIcon variant="subtle" aria-label={`Edit ${ch.name}`} onClick={() => setEditing(ch)}>
                            <IconEdit size={16} />
                          </ActionIcon>
                          <ActionIcon variant="subtle" color="red" aria-label={`Delete ${ch.name}`} onClick={() => setDeleting(ch)}>
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
        title={<Text fw={700}>{editing === 'new' ? 'Add a notification channel' : `Edit ${editing?.name ?? ''}`}</Text>}
        size="lg"
        centered
      >
        {editing !== null && (
          <ChannelForm
            channel={editing === 'new' ? undefined : editing}
            onCancel={() => setEditing(null)}
            onSaved={(ch) => {
              notifyOk(editing === 'new' ? `Channel ${ch.name} added` : `Channel ${ch.name} saved`);
              setEditing(null);
            }}
          />
        )}
      </Modal>
      <ConfirmModal
        opened={!!deleting}
        onClose={() => setDeleting(null)}
        title={`Delete channel ${deleting?.name ?? ''}?`}
        confirmLabel="Delete"
        loading={del.isPending}
        onConfirm={() =>
          deleting &&
          del.mutate(deleting.id, {
            onSuccess: () => (notifyOk('Channel deleted'), setDeleting(null)),
            onError: (e) => notifyError('Could not delete', e),
          })
        }
      >
        <Text size="sm">Its rules are deleted with it; its delivery log stays (pending deliveries fail).</Text>
      </ConfirmModal>
    </Paper>
  );
}
