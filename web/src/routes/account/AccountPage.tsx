import { useState } from 'react';
import { Alert, Badge, Button, Grid, Group, Paper, PasswordInput, Stack, Table, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { sessionsQuery, useChangePassword, useRevokeSession } from '../../api/queries/auth';
import { PageHeader } from '../../components/PageHeader';
import { ErrorState, TableSkeleton } from '../../components/States';
import { useMe } from '../../auth';
import { errorMessage } from '../../api/client';
import { formatRelative } from '../../lib/format';
import { notifyOk } from '../../lib/notify';

export function AccountPage() {
  const me = useMe();
  const sessions = useQuery(sessionsQuery());
  const change = useChangePassword();
  const revoke = useRevokeSession();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const mismatch = confirm !== '' && confirm !== next;
  return (
    <>
      <PageHeader title="Your account" description={`${me.data?.user?.email ?? ''} · ${me.data?.role ?? ''}`} />
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Paper withBorder radius="md" p="lg">
            <form
              onSubmit={(e) => {
                e.preventDefault();
                if (mismatch) return;
                change.mutate(
                  { current_password: current, new_password: next },
                  { onSuccess: () => (notifyOk('Password changed; your other sessions were signed out'), setCurrent(''), setNext(''), setConfirm('')) },
                );
              }}
            >
              <Stack>
                <Title order={4}>Change password</Title>
                <PasswordInput label="Current password" required value={current} onChange={(e) => setCurrent(e.currentTarget.value)} autoComplete="current-password" />
                <PasswordInput label="New password" description="At least 12 characters" required value={next} onChange={(e) => setNext(e.currentTarget.value)} autoComplete="new-password" />
                <PasswordInput label="Repeat new password" required value={confirm} onChange={(e) => setConfirm(e.currentTarget.value)} error={mismatch ? 'Does not match' : undefined} autoComplete="new-password" />
                {change.isError && (
                  <Alert color="red" variant="light" role="alert">
                    {errorMessage(change.error)}
                  </Alert>
                )}
                <Button type="submit" loading={change.isPending}>
                  Change password
                </Button>
              </Stack>
            </form>
          </Paper>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Paper withBorder radius="md" p="lg">
            <Title order={4} mb="sm">
              Sessions
            </Title>
            {sessions.isPending ? (
              <TableSkeleton rows={2} label="Loading sessions" />
            ) : sessions.isError ? (
              <ErrorState error={sessions.error} onRetry={() => sessions.refetch()} />
            ) : (
              <Table verticalSpacing="xs" aria-label="Sessions">
                <Table.Tbody>
                  {(sessions.data.items ?? []).map((s) => (
                    <Table.Tr key={s.id}>
                      <Table.Td>
                        <Text size="sm" lineClamp={1} title={s.user_agent}>
                          {s.user_agent || 'unknown browser'}
                        </Text>
                        <Text size="xs" c="dimmed">
                          {s.remote_addr} · active {formatRelative(s.last_seen_at)}
                        </Text>
                      </Table.Td>
                      <Table.Td>
                        <Group justify="flex-end">
                          {s.current ? (
                            <Badge variant="light">this browser</Badge>
                          ) : (
                            <Button size="xs" variant="subtle" color="red" onClick={() => revoke.mutate(s.id!)}>
                              Sign out
                            </Button>
                          )}
                        </Group>
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </Paper>
        </Grid.Col>
      </Grid>
    </>
  );
}
