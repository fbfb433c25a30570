import { useState, type FormEvent } from 'react';
import {
  Alert,
  Anchor,
  Button,
  Center,
  Paper,
  PasswordInput,
  Stack,
  Text,
  TextInput,
  Title,
  Group,
} from '@mantine/core';
import { IconAlertCircle, IconShieldCheck } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Navigate, useNavigate, useSearchParams } from 'react-router';
import { infoQuery, useLogin, useSetup } from '../../api/queries/auth';
import { useMe } from '../../auth';
import { errorMessage, isApiError } from '../../api/client';
import { FullPageLoader } from '../../components/States';

function safeNext(next: string | null): string {
  // Only same-origin paths: never an absolute URL or a protocol-relative one.
  if (!next || !next.startsWith('/') || next.startsWith('//')) return '/';
  return next;
}

function SetupForm({ onDone, initialToken }: { onDone: (email: string) => void; initialToken: string }) {
  const setup = useSetup();
  const [token, setToken] = useState(initialToken);
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const field = isApiError(setup.error) ? setup.error.field : undefined;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    setup.mutate({ token, email, name, password }, { onSuccess: () => onDone(email) });
  };
  return (
    <form onSubmit={submit} aria-label="Create the first admin">
      <Stack>
        <Text size="sm" c="dimmed">
          No account exists yet. Paste the one-time setup token from the server log to create the first administrator.
        </Text>
        <TextInput label="Setup token" required value={token} onChange={(e) => setToken(e.currentTarget.value)} error={field === 'token'} />
        <TextInput label="Email" type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} autoComplete="username" />
        <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <PasswordInput label="Password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} autoComplete="new-password" description="At least 12 characters" />
        {setup.isError && (
          <Alert color="red" variant="light" icon={<IconAlertCircle size={18} />} role="alert">
            {errorMessage(setup.error)}
          </Alert>
        )}
        <Button type="submit" loading={setup.isPending}>
          Create admin account
        </Button>
      </Stack>
    </form>
  );
}

export function LoginPage() {
  const me = useMe();
  const info = useQuery(infoQuery());
  const login = useLogin();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [setupDone, setSetupDone] = useState(false);
  const next = safeNext(params.get('next'));

  if (me.isPending) return <FullPageLoader />;
  if (me.data) return <Navigate to={next} replace />;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate({ email, password }, { onSuccess: () => navigate(next, { replace: true }) });
  };
  const rateLimited = isApiError(login.error, 429);
  const showSetup = info.data?.setup_required && !setupDone;

  return (
    <Center mih="100vh" p="md" bg="var(--mantine-color-body)">
      <Paper withBorder shadow="sm" radius="lg" p="xl" w={400} maw="100%">
        <Stack gap="lg">
          <Stack gap={4} align="center">
            <IconShieldCheck size={40} color="var(--mantine-color-blue-filled)" aria-hidden="true" />
            <Title order={2}>Restic Manager</Title>
            <Text c="dimmed" size="sm">
              {showSetup ? 'First-time setup' : 'Sign in to manage your fleet’s backups'}
            </Text>
          </Stack>
          {showSetup ? (
            <SetupForm
              initialToken={params.get('token') ?? ''}
              onDone={(em) => {
                setEmail(em);
                setSetupDone(true);
              }}
            />
          ) : (
            <form onSubmit={submit} aria-label="Sign in">
              <Stack>
                {setupDone && (
                  <Alert color="green" variant="light">
                    The admin account was created. Sign in with it.
                  </Alert>
                )}
                <TextInput
                  label="Email"
                  type="email"
                  required
                  autoFocus
                  autoComplete="username"
                  value={email}
                  onChange={(e) => setEmail(e.currentTarget.value)}
                />
                <PasswordInput
                  label="Password"
                  required
                  autoComplete="current-password"
                  value={password}
                  onChange={(e) => setPassword(e.currentTarget.value)}
                />
                {login.isError && (
                  <Alert
                    color={rateLimited ? 'orange' : 'red'}
                    variant="light"
                    icon={<IconAlertCircle size={18} />}
                    role="alert"
                    title={rateLimited ? 'Too many attempts' : undefined}
                  >
                    {errorMessage(login.error)}
                  </Alert>
                )}
                <Button type="submit" loading={login.isPending} fullWidth>
                  Sign in
                </Button>
              </Stack>
            </form>
          )}
          <Group justify="center" gap={4}>
            <Text size="xs" c="dimmed">
              {info.data?.version ? `Server ${info.data.version}` : ''}
            </Text>
            <Anchor size="xs" href="/api/docs" target="_blank" rel="noreferrer">
              API reference
            </Anchor>
          </Group>
        </Stack>
      </Paper>
    </Center>
  );
}
