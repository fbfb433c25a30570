import { useState } from 'react';
import { Badge, Button, Code, Group, Paper, Table, Text, Tooltip } from '@mantine/core';
import { IconListDetails } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { auditQuery } from '../../api/queries/audit';
import { PageHeader } from '../../components/PageHeader';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import { formatDateTime, formatRelative } from '../../lib/format';

export function AuditPage() {
  const [cursors, setCursors] = useState<string[]>([]);
  const audit = useQuery(auditQuery(cursors[cursors.length - 1]));
  const items = audit.data?.items ?? [];
  return (
    <>
      <PageHeader title="Audit log" description="Every state-changing action: who, what, when and from where." />
      {audit.isPending ? (
        <TableSkeleton rows={8} label="Loading the audit log" />
      ) : audit.isError ? (
        <ErrorState error={audit.error} onRetry={() => audit.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState icon={<IconListDetails size={24} />} title="Nothing recorded yet" />
      ) : (
        <Paper withBorder radius="md" p="xs">
          <Table.ScrollContainer minWidth={800}>
            <Table verticalSpacing="xs" aria-label="Audit log" highlightOnHover>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Who</Table.Th>
                  <Table.Th>Action</Table.Th>
                  <Table.Th>Target</Table.Th>
                  <Table.Th>From</Table.Th>
                  <Table.Th>Details</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((e) => (
                  <Table.Tr key={e.id} data-testid="audit-row">
                    <Table.Td>
                      <Tooltip label={formatDateTime(e.at)} withArrow>
                        <Text size="sm">{formatRelative(e.at)}</Text>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{e.actor_name || e.actor_type}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light" tt="none">
                        {e.action}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">
                        {e.target_type}{' '}
                        <Text span size="xs" c="dimmed" ff="monospace">
                          {(e.target_id ?? '').slice(0, 8)}
                        </Text>
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm" ff="monospace">
                        {e.remote_addr}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      {e.details && Object.keys(e.details).length > 0 ? (
                        <Code fz="xs">{JSON.stringify(e.details).slice(0, 120)}</Code>
                      ) : (
                        <Text size="sm" c="dimmed">
                          —
                        </Text>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <Group justify="flex-end" gap="xs" p="xs">
            <Button size="xs" variant="default" disabled={cursors.length === 0} onClick={() => setCursors(cursors.slice(0, -1))}>
              Newer
            </Button>
            <Button
              size="xs"
              variant="default"
              disabled={!audit.data?.next_cursor}
              onClick={() => audit.data?.next_cursor && setCursors([...cursors, audit.data.next_cursor])}
            >
              Older
            </Button>
          </Group>
        </Paper>
      )}
    </>
  );
}
