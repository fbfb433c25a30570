import { useState } from 'react';
import { Alert, Badge, Button, Group, Modal, Paper, Select, Stack, Switch, Table, Text, TextInput } from '@mantine/core';
import { IconAlertTriangle, IconKey, IconPlus } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { apiTokensQuery, useCreateAPIToken, useRevokeAPIToken } from '../../api/queries/apiTokens';
import { PageHeader } from '../../components/PageHeader';
import { CopyBlock } from '../../components/CopyBlock';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import { ConfirmModal } from '../../components/ConfirmModal';
import { roleAtLeast, useCan, useRole } from '../../auth';
import { errorMessage, type Schemas } from '../../api/client';
import { formatRelative } from '../../lib/format';
import { notifyError } from '../../lib/notify';

const expiryOptions = [
  { value: '', label: 'Never' },
  { value: '7', label: '7 days' },
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: '365', label: '1 year' },
];

function CreateTokenModal({ onClose }: { onClose: () => void }) {
  const create = useCreateAPIToken();
  const role = useRole();
  const [name, setName] = useState('');
  const [tokenRole, setTokenRole] = useState('viewer');
  const [days, setDays] = useState('90');
  const [created, setCreated] = useState<Schemas['APITokenCreated'] | null>(null);
  const roles = (['viewer', 'operator', 'admin'] as const).filter((r) => roleAtLeast(role, r));
  return (
    <Modal opened onClose={onClose} title={<Text fw={700}>{created ? 'Token created' : 'New API token'}</Text>} size="lg" centered>
      {created ? (
        <Stack>
          <Alert color="yellow" variant="light" icon={<IconAlertTriangle size={18} />}>
            Copy the token now: it is shown only this once. Use it as <code>Authorization: Bearer …</code>.
          </Alert>
          <CopyBlock label={`Token “${created.name}” (${created.role})`} value={created.token ?? ''} testId="api-token-secret" />
          <Group justify="flex-end">
            <Button onClick={onClose}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const expires_at = days ? new Date(Date.now() + Number(days) * 86400_000).toISOString() : undefined;
            create.mutate({ name, role: tokenRole as Schemas['APITokenCreate']['role'], expires_at }, { onSuccess: setCreated });
          }}
        >
          <Stack>
            <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} placeholder="e.g. monitoring" />
            <Select
              label="Role"
              description="At most your own role; it also drops if your role is lowered"
              data={roles}
              value={tokenRole}
              onChange={(v) => v && setTokenRole(v)}
              allowDeselect={false}
            />
            <Select label="Expires" data={expiryOptions} value={days} onChange={(v) => setDays(v ?? '')} allowDeselect={false} />
            {create.isError && (
              <Alert color="red" variant="light" role="alert">
                {errorMessage(create.error)}
              </Alert>
            )}
            <Group justify="flex-end">
              <Button variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" loading={create.isPending}>
                Create token
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

export function ApiTokensPage() {
  const isAdmin = useCan('admin');
  const canCreate = useCan('operator');
  const [all, setAll] = useState(false);
  const tokens = useQuery(apiTokensQuery(all && isAdmin));
  const revoke = useRevokeAPIToken();
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<Schemas['APIToken'] | null>(null);
  const items = tokens.data?.items ?? [];
  return (
    <>
      <PageHeader
        title="API tokens"
        description="Tokens for automation against the HTTP API (see openapi.yaml)."
        actions={
          <>
            {isAdmin && <Switch label="Every account’s tokens" checked={all} onChange={(e) => setAll(e.currentTarget.checked)} />}
            {canCreate && (
              <Button leftSection={<IconPlus size={16} />} onClick={() => setCreating(true)}>
                New token
              </Button>
            )}
          </>
        }
      />
      {tokens.isPending ? (
        <TableSkeleton rows={3} label="Loading API tokens" />
      ) : tokens.isError ? (
        <ErrorState error={tokens.error} onRetry={() => tokens.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState
          icon={<IconKey size={24} />}
          title="No API tokens"
          description="Create a token for scripts, monitoring or CI. Its secret is shown once."
        />
      ) : (
        <Paper withBorder radius="md" p="xs">
          <Table verticalSpacing="sm" aria-label="API tokens">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>State</Table.Th>
                {all && <Table.Th>Owner</Table.Th>}
                <Table.Th>Last used</Table.Th>
                <Table.Th>Expires</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((t) => (
                <Table.Tr key={t.id}>
                  <Table.Td fw={600}>{t.name}</Table.Td>
                  <Table.Td>
                    <Badge variant="light">{t.role}</Badge>
                  </Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={t.state === 'active' ? 'green' : 'gray'}>
                      {t.state}
                    </Badge>
                  </Table.Td>
                  {all && <Table.Td>{t.user_email}</Table.Td>}
                  <Table.Td>
                    <Text size="sm">
                      {formatRelative(t.last_used_at)}
                      {t.last_used_addr ? ` from ${t.last_used_addr}` : ''}
                    </Text>
                  </Table.Td>
                  <Table.Td>{t.expires_at ? formatRelative(t.expires_at) : 'never'}</Table.Td>
                  <Table.Td>
                    {t.state === 'active' && canCreate && (
                      <Button size="xs" variant="subtle" color="red" onClick={() => setRevoking(t)}>
                        Revoke
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
      {creating && <CreateTokenModal onClose={() => setCreating(false)} />}
      <ConfirmModal
        opened={!!revoking}
        onClose={() => setRevoking(null)}
        title={`Revoke “${revoking?.name}”?`}
        confirmLabel="Revoke"
        loading={revoke.isPending}
        onConfirm={() =>
          revoking &&
          revoke.mutate(revoking.id!, { onSuccess: () => setRevoking(null), onError: (e) => notifyError('Could not revoke', e) })
        }
      >
        <Text size="sm">Anything using it stops working at once.</Text>
      </ConfirmModal>
    </>
  );
}
