import { useMemo, useState } from 'react';
import {
  Alert,
  Anchor,
  Badge,
  Button,
  Grid,
  Group,
  NumberInput,
  Paper,
  Select,
  Stack,
  Table,
  Tabs,
  Text,
  TextInput,
  Title,
  Loader,
} from '@mantine/core';
import { IconBrandWindows, IconBrandUbuntu, IconCircleCheck, IconKey, IconAlertTriangle } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { enrollmentTokensQuery, useCreateEnrollmentToken, useRevokeEnrollmentToken } from '../../api/queries/enrollmentTokens';
import { hostsQuery } from '../../api/queries/hosts';
import { PageHeader } from '../../components/PageHeader';
import { CopyBlock } from '../../components/CopyBlock';
import { ErrorState, TableSkeleton } from '../../components/States';
import { errorMessage, type Schemas } from '../../api/client';
import { formatDateTime, formatRelative } from '../../lib/format';
import { linuxCommands, serverURL, windowsCommands } from '../../lib/enrollCommands';
import { notifyError } from '../../lib/notify';

const ttlOptions = [
  { value: '3600', label: '1 hour' },
  { value: '86400', label: '24 hours' },
  { value: '604800', label: '7 days' },
  { value: '2592000', label: '30 days' },
];

function NewHosts({ since }: { since: string }) {
  const hosts = useQuery(hostsQuery({ sort: 'created_at', order: 'desc', limit: 10 }, { refetchInterval: 3_000 }));
  const fresh = (hosts.data?.items ?? []).filter((h) => h.created_at && Date.parse(h.created_at) >= Date.parse(since) - 5000);
  return (
    <Paper withBorder radius="md" p="md" aria-live="polite">
      {fresh.length === 0 ? (
        <Group gap="sm" wrap="nowrap">
          <Loader size="sm" />
          <Text size="sm">Waiting for the host to enrol… It appears here as soon as the agent has run “enroll”.</Text>
        </Group>
      ) : (
        <Stack gap="xs">
          {fresh.map((h) => (
            <Group key={h.id} gap="sm" data-testid="enrolled-host">
              <IconCircleCheck size={20} color="var(--mantine-color-green-filled)" />
              <Text size="sm">
                <Anchor component={Link} to={`/hosts/${h.id}`} fw={600}>
                  {h.name || h.hostname}
                </Anchor>{' '}
                enrolled {formatRelative(h.created_at)}. Next: add a repository and a schedule.
              </Text>
            </Group>
          ))}
        </Stack>
      )}
    </Paper>
  );
}

export function AddHostPage() {
  const create = useCreateEnrollmentToken();
  const revoke = useRevokeEnrollmentToken();
  const tokens = useQuery(enrollmentTokensQuery());
  const [description, setDescription] = useState('');
  const [ttl, setTtl] = useState('86400');
  const [uses, setUses] = useState<number | string>(1);
  const [created, setCreated] = useState<Schemas['EnrollmentTokenCreated'] | null>(null);
  const server = useMemo(() => serverURL(), []);

  return (
    <>
      <PageHeader title="Add a host" description="Create a one-time enrollment token, then run the agent’s enrol command on the machine." />
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Paper withBorder radius="md" p="lg">
            <form
              onSubmit={(e) => {
                e.preventDefault();
                create.mutate(
                  { description, ttl_seconds: Number(ttl), max_uses: Number(uses) || 1 },
                  { onSuccess: (t) => setCreated(t) },
                );
              }}
            >
              <Stack>
                <Title order={4}>1. Create an enrollment token</Title>
                <TextInput label="Description" placeholder="e.g. web servers, rack 3" value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
                <Group grow>
                  <Select label="Valid for" data={ttlOptions} value={ttl} onChange={(v) => v && setTtl(v)} allowDeselect={false} />
                  <NumberInput label="Hosts that may use it" min={1} max={10000} value={uses} onChange={setUses} />
                </Group>
                {create.isError && (
                  <Alert color="red" variant="light" role="alert">
                    {errorMessage(create.error)}
                  </Alert>
                )}
                <Button type="submit" leftSection={<IconKey size={16} />} loading={create.isPending}>
                  Create token
                </Button>
              </Stack>
            </form>
          </Paper>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Paper withBorder radius="md" p="lg" mih={260}>
            <Stack>
              <Title order={4}>2. Run these commands on the host</Title>
              {!created ? (
                <Text c="dimmed" size="sm">
                  The install and enrol commands appear here, with the token filled in, once you create a token.
                </Text>
              ) : (
                <>
                  <Alert color="yellow" variant="light" icon={<IconAlertTriangle size={18} />}>
                    This token is shown only once. It is valid until {formatDateTime(created.expires_at)} for{' '}
                    {created.max_uses} host{created.max_uses === 1 ? '' : 's'}.
                  </Alert>
                  <CopyBlock label="Enrollment token" value={created.token ?? ''} testId="enrollment-token" />
                  <Tabs defaultValue="linux">
                    <Tabs.List>
                      <Tabs.Tab value="linux" leftSection={<IconBrandUbuntu size={16} />}>
                        Linux
                      </Tabs.Tab>
                      <Tabs.Tab value="windows" leftSection={<IconBrandWindows size={16} />}>
                        Windows
                      </Tabs.Tab>
                    </Tabs.List>
                    <Tabs.Panel value="linux" pt="sm">
                      <CopyBlock label="Linux (systemd)" value={linuxCommands(server, created.token ?? '')} testId="linux-commands" />
                    </Tabs.Panel>
                    <Tabs.Panel value="windows" pt="sm">
                      <CopyBlock label="Windows (PowerShell)" value={windowsCommands(server, created.token ?? '')} testId="windows-commands" />
                    </Tabs.Panel>
                  </Tabs>
                  <Title order={4}>3. Watch it arrive</Title>
                  <NewHosts since={created.created_at ?? new Date().toISOString()} />
                </>
              )}
            </Stack>
          </Paper>
        </Grid.Col>
      </Grid>

      <Title order={4} mt="xl" mb="sm">
        Enrollment tokens
      </Title>
      {tokens.isPending ? (
        <TableSkeleton rows={3} label="Loading enrollment tokens" />
      ) : tokens.isError ? (
        <ErrorState error={tokens.error} onRetry={() => tokens.refetch()} />
      ) : (tokens.data.items ?? []).length === 0 ? (
        <Text size="sm" c="dimmed">
          No enrollment tokens yet.
        </Text>
      ) : (
        <Paper withBorder radius="md" p="xs">
          <Table verticalSpacing="xs" aria-label="Enrollment tokens">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Description</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th>Uses</Table.Th>
                <Table.Th>Expires</Table.Th>
                <Table.Th>Created by</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {(tokens.data.items ?? []).map((t) => (
                <Table.Tr key={t.id}>
                  <Table.Td>{t.description || <Text c="dimmed" size="sm">—</Text>}</Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={t.state === 'active' ? 'green' : 'gray'}>
                      {t.state}
                    </Badge>
                  </Table.Td>
                  <Table.Td>
                    {t.uses} / {t.max_uses}
                  </Table.Td>
                  <Table.Td>{formatRelative(t.expires_at)}</Table.Td>
                  <Table.Td>{t.created_by}</Table.Td>
                  <Table.Td>
                    {t.state === 'active' && (
                      <Button
                        size="xs"
                        variant="subtle"
                        color="red"
                        onClick={() => revoke.mutate(t.id!, { onError: (e) => notifyError('Could not revoke', e) })}
                      >
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
    </>
  );
}
