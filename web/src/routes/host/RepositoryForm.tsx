// Create or edit a repository. Secrets are write-only: the form never shows them, only
// whether they are set; leaving a secret blank when editing keeps it.
import { useState } from 'react';
import { Alert, Button, Group, Modal, PasswordInput, Stack, Text, TextInput, Textarea } from '@mantine/core';
import { IconLock } from '@tabler/icons-react';
import { useCreateRepository, useUpdateRepository } from '../../api/queries/repositories';
import { errorMessage, isApiError, type Repository, type Schemas } from '../../api/client';

/** "KEY=value" lines to a map; returns an error message for a bad line. */
export function parseEnv(text: string): { env: Record<string, string>; error?: string } {
  const env: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) return { env, error: `Line ${i + 1}: expected KEY=value` };
    const k = line.slice(0, eq).trim();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) return { env, error: `Line ${i + 1}: ${k} is not a variable name` };
    env[k] = line.slice(eq + 1);
  }
  return { env };
}

export function RepositoryForm({
  hostId,
  repo,
  opened,
  onClose,
}: {
  hostId: string;
  repo?: Repository;
  opened: boolean;
  onClose: () => void;
}) {
  const create = useCreateRepository(hostId);
  const update = useUpdateRepository(hostId, repo?.id ?? '');
  const m = repo ? update : create;
  const [name, setName] = useState(repo?.name ?? '');
  const [url, setUrl] = useState(repo?.url ?? '');
  const [password, setPassword] = useState('');
  const [restUser, setRestUser] = useState(repo?.rest_username ?? '');
  const [restPassword, setRestPassword] = useState('');
  const [envText, setEnvText] = useState('');
  const [envTouched, setEnvTouched] = useState(false);
  const env = parseEnv(envText);
  const field = isApiError(m.error) ? m.error.field : undefined;
  const err = (f: string) => (field === f ? errorMessage(m.error) : undefined);

  const submit = () => {
    if (env.error) return;
    if (repo) {
      const body: Schemas['RepositoryUpdate'] = {};
      if (name !== repo.name) body.name = name;
      if (url !== repo.url) body.url = url;
      if (password) body.password = password;
      if (restUser !== (repo.rest_username ?? '')) body.rest_username = restUser;
      if (restPassword) body.rest_password = restPassword;
      if (envTouched) body.env = env.env;
      update.mutate(body, { onSuccess: onClose });
    } else {
      const body: Schemas['RepositoryCreate'] = { name, url, password };
      if (restUser) body.rest_username = restUser;
      if (restPassword) body.rest_password = restPassword;
      if (Object.keys(env.env).length) body.env = env.env;
      create.mutate(body, { onSuccess: onClose });
    }
  };

  return (
    <Modal opened={opened} onClose={onClose} title={<Text fw={700}>{repo ? `Edit ${repo.name}` : 'Add a repository'}</Text>} size="lg" centered>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
        aria-label="Repository"
      >
        <Stack>
          <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={err('name')} placeholder="e.g. nas" />
          <TextInput
            label="Repository URL"
            description="As restic takes it: /srv/backup, sftp:user@host:/path, rest:https://host:8000/repo, s3:…, b2:…"
            required
            value={url}
            onChange={(e) => setUrl(e.currentTarget.value)}
            error={err('url')}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          />
          <PasswordInput
            label="Repository password"
            required={!repo}
            description={repo?.password_set ? 'Set. Leave blank to keep it; it is never shown again.' : 'Stored encrypted; never shown again.'}
            placeholder={repo?.password_set ? '•••••••• (unchanged)' : ''}
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={err('password')}
            autoComplete="new-password"
          />
          <Group grow align="flex-start">
            <TextInput label="REST server user" value={restUser} onChange={(e) => setRestUser(e.currentTarget.value)} error={err('rest_username')} />
            <PasswordInput
              label="REST server password"
              placeholder={repo?.rest_password_set ? '•••••••• (unchanged)' : ''}
              value={restPassword}
              onChange={(e) => setRestPassword(e.currentTarget.value)}
              error={err('rest_password')}
              autoComplete="new-password"
            />
          </Group>
          <Textarea
            label="Environment"
            description={
              repo?.env_keys?.length
                ? `Set: ${repo.env_keys.join(', ')}. Type new KEY=value lines to replace them all; leave untouched to keep them.`
                : 'Credentials for cloud backends, one KEY=value per line (e.g. AWS_ACCESS_KEY_ID=…). Write-only.'
            }
            autosize
            minRows={2}
            value={envText}
            onChange={(e) => (setEnvText(e.currentTarget.value), setEnvTouched(true))}
            error={env.error ?? err('env')}
            styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
          />
          <Alert variant="light" color="gray" icon={<IconLock size={18} />}>
            Secrets are encrypted at rest and sent only to this host’s agent. Nobody can read them back, here or through
            the API.
          </Alert>
          {m.isError && !field && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(m.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={m.isPending}>
              {repo ? 'Save' : 'Add repository'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
