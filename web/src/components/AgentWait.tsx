// What the page is waiting for while the host's agent answers a browse, find or diff.
import { Group, Loader, Paper, Text } from '@mantine/core';
import type { BrowsePending } from '../api/client';

export function AgentWait({ pending, what }: { pending?: BrowsePending; what: string }) {
  const msg = !pending
    ? `${what}…`
    : pending.status === 'running'
      ? `${what}: the agent is working on it…`
      : `${what}: waiting for the agent to pick the request up (an offline host answers when it is back)…`;
  return (
    <Paper withBorder radius="md" p="md" role="status" aria-live="polite" data-testid="agent-wait" data-pending={pending?.status ?? ''}>
      <Group gap="sm">
        <Loader size="sm" />
        <Text size="sm" c="dimmed">
          {msg}
        </Text>
      </Group>
    </Paper>
  );
}
