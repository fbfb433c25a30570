import { useState } from 'react';
import { Alert, Badge, Button, Group, Menu, Modal, Paper, PasswordInput, Select, Stack, Table, Text, TextInput, ActionIcon } from '@mantine/core';
import { IconDots, IconUserPlus, IconUsers } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { useCreateUser, useDeleteUser, useRevokeUserSessions, useUpdateUser, usersQuery } from '../../api/queries/users';
import { PageHeader } from '../../components/PageHeader';
import { EmptyState, ErrorState, TableSkeleton } from '../../components/States';
import { ConfirmModal } from '../../components/ConfirmModal';
import { useMe } from '../../auth';
import { errorMessage, isApiError, type User } from '../../api/client';
import { formatRelative } from '../../lib/format';
import { notifyError, notifyOk } from '../../lib/notify';

export const roleOptions = [
  { value: 'viewer', label: 'Viewer — read only' },
  { value: 'operator', label: 'Operator — hosts, repositories, schedules, jobs' },
  { value: 'admin', label: 'Admin — everything, including users' },
];
const roleColor: Record<string, string> = { viewer: 'gray', operator: 'blue', admin: 'grape' };

function CreateUserModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const create = useCreateUser();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [role, setRole] = useState('viewer');
  const [password, setPassword] = useState('');
  const field = isApiError(create.error) ? create.error.field : undefined;
  const err = (f: string) => (field === f ? errorMessage(create.error) : undefined);
  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={700}>Add a user</Text>} centered>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate({ email, name, role: role as User['role'], password }, { onSuccess: () => (notifyOk(`${email} added`), onClose()) });
        }}
      >
        <Stack>
          <TextInput label="Email" type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={err('email')} />
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={err('name')} />
          <Select label="Role" data={roleOptions} value={role} onChange={(v) => v && setRole(v)} allowDeselect={false} />
          <PasswordInput
            label="Initial password"
            description="At least 12 characters; ask them to change it after signing in"
            required
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={err('password')}
            autoComplete="new-password"
          />
          {create.isError && !field && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(create.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Add user
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

export function UsersPage() {
  const users = useQuery(usersQuery());
  const me = useMe();
  const update = useUpdateUser();
  const del = useDeleteUser();
  const revoke = useRevokeUserSessions();
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<User | null>(null);
  const items = users.data?.items ?? [];

  return (
    <>
      <PageHeader
        title="Users"
        description="Operator accounts and their roles."
        actions={
          <Button leftSection={<IconUserPlus size={16} />} onClick={() => setAdding(true)}>
            Add user
          </Button>
        }
      />
      {users.isPending ? (
        <TableSkeleton rows={4} label="Loading users" />
      ) : users.isError ? (
        <ErrorState error={users.error} onRetry={() => users.refetch()} />
      ) : items.length === 0 ? (
        <EmptyState icon={<IconUsers size={24} />} title="No users" />
      ) : (
        <Paper withBorder radius="md" p="xs">
          <Table verticalSpacing="sm" aria-label="Users" highlightOnHover>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>User</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Last sign-in</Table.Th>
                <Table.Th aria-label="Actions" />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((u) => {
                const self = u.id === me.data?.user?.id;
                return (
                  <Table.Tr key={u.id}>
                    <Table.Td>
                      <Text size="sm" fw={600}>
                        {u.name || u.email} {self && <Badge size="xs" variant="outline">you</Badge>}
                      </Text>
                      <Text size="xs" c="dimmed">
                        {u.email}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Select
                        aria-label={`Role of ${u.email}`}
                        size="xs"
                        w={130}
                        data={roleOptions.map((r) => ({ value: r.value, label: r.value }))}
                        value={u.role}
                        allowDeselect={false}
                        onChange={(v) =>
                          v &&
                          v !== u.role &&
                          update.mutate({ id: u.id!, role: v as User['role'] }, { onError: (e) => notifyError('Could not change the role', e) })
                        }
                        styles={{ input: { color: `var(--mantine-color-${roleColor[u.role ?? ''] ?? 'gray'}-text)` } }}
                      />
                    </Table.Td>
                    <Table.Td>
                      <Badge color={u.disabled ? 'red' : 'green'} variant="light">
                        {u.disabled ? 'disabled' : 'active'}
                      </Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{formatRelative(u.last_login_at)}</Text>
                    </Table.Td>
                    <Table.Td>
                      <Menu position="bottom-end">
                        <Menu.Target>
                          <ActionIcon variant="subtle" aria-label={`Actions for ${u.email}`}>
                            <IconDots size={16} />
                          </ActionIcon>
                        </Menu.Target>
                        <Menu.Dropdown>
                          <Menu.Item
                            disabled={self}
                            onClick={() =>
                              update.mutate({ id: u.id!, disabled: !u.disabled }, { onError: (e) => notifyError('Could not change the account', e) })
                            }
                          >
                            {u.disabled ? 'Enable account' : 'Disable account'}
                          </Menu.Item>
                          <Menu.Item
                            onClick={() =>
                              revoke.mutate(u.id!, {
                                onSuccess: (r) => notifyOk(`${r.revoked ?? 0} sessions signed out`),
                                onError: (e) => notifyError('Could not sign out', e),
                              })
                            }
                          >
                            Sign out everywhere
                          </Menu.Item>
                          <Menu.Divider />
                          <Menu.Item color="red" disabled={self} onClick={() => setDeleting(u)}>
                            Delete
                          </Menu.Item>
                        </Menu.Dropdown>
                      </Menu>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
      {adding && <CreateUserModal opened onClose={() => setAdding(false)} />}
      <ConfirmModal
        opened={!!deleting}
        onClose={() => setDeleting(null)}
        title={`Delete ${deleting?.email}?`}
        confirmLabel="Delete user"
        loading={del.isPending}
        onConfirm={() =>
          deleting &&
          del.mutate(deleting.id!, { onSuccess: () => setDeleting(null), onError: (e) => notifyError('Could not delete', e) })
        }
      >
        <Text size="sm">Their sessions and API tokens stop working at once. The audit log keeps their actions.</Text>
      </ConfirmModal>
    </>
  );
}
