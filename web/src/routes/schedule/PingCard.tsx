// A schedule's Healthchecks-style ping URL: the server pings <url>/start when a job of
// the schedule starts, <url> on success and <url>/fail on failure (retried and logged
// like notifications). The URL holds a secret: it is write-only, only its host is shown.
import { useState } from 'react';
import { Anchor, Badge, Button, Group, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { IconHeartbeat } from '@tabler/icons-react';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { schedulePingQuery, useDeleteSchedulePing, useSetSchedulePing } from '../../api/queries/notifications';
import { errorMessage } from '../../api/client';
import { formatRelative } from '../../lib/format';
import { notifyOk } from '../../lib/notify';

export function pingURLError(u: string): string | undefined {
  const t = u.trim();
  if (!t) return undefined;
  if (!/^https?:\/\/[^/\s]+/i.test(t)) return 'An http:// or https:// URL, e.g. https://hc-ping.com/<uuid>';
  return undefined;
}

const help = (
  <Text size="xs" c="dimmed">
    The server pings <code>URL/start</code> when a run starts, <code>URL</code> when it succeeds and <code>URL/fail</code> when it
    fails — for healthchecks.io or a self-hosted Healthchecks, which alert when a ping does not arrive.
  </Text>
);

/** New schedules: the URL is kept by the editor and set once the schedule exists. */
export function NewPingCard({ value, onChange, error }: { value: string; onChange: (v: string) => void; error?: string }) {
  return (
    <Paper withBorder radius="md" p="lg">
      <Stack gap="xs">
        <Group gap="xs">
          <IconHeartbeat size={18} aria-hidden="true" />
          <Title order={5}>Ping URL</Title>
        </Group>
        {help}
        <TextInput label="Ping URL (optional)" value={value} onChange={(e) => onChange(e.currentTarget.value)} error={error} placeholder="https://hc-ping.com/…" />
      </Stack>
    </Paper>
  );
}

export function PingCard({ hostId, scheduleId, canEdit }: { hostId: string; scheduleId: string; canEdit: boolean }) {
  const ping = useQuery(schedulePingQuery(hostId, scheduleId));
  const set = useSetSchedulePing(hostId);
  const del = useDeleteSchedulePing(hostId);
  const [url, setUrl] = useState('');
  const [touched, setTouched] = useState(false);
  const localErr = touched ? pingURLError(url) : undefined;
  const p = ping.data;
  const save = () => {
    setTouched(true);
    if (!url.trim() || pingURLError(url)) return;
    set.mutate({ sid: scheduleId, url: url.trim() }, { onSuccess: () => (notifyOk('Ping URL saved'), setUrl(''), setTouched(false)) });
  };
  return (
    <Paper withBorder radius="md" p="lg" data-testid="ping-card">
      <Stack gap="xs">
        <Group justify="space-between">
          <Group gap="xs">
            <IconHeartbeat size={18} aria-hidden="true" />
            <Title order={5}>Ping URL</Title>
          </Group>
          {p?.configured ? (
            <Badge color="green" variant="light" data-testid="ping-state">
              pings {p.url_host}
            </Badge>
          ) : (
            <Badge color="gray" variant="light" data-testid="ping-state">
              not set
            </Badge>
          )}
        </Group>
        {help}
        {p?.configured && p.updated_at && (
          <Text size="xs" c="dimmed">
            Set {formatRelative(p.updated_at)}.{' '}
            <Anchor component={Link} to="/settings/notifications/deliveries" size="xs">
              Delivery log
            </Anchor>
          </Text>
        )}
        {canEdit && (
          // Not a <form>: the card sits inside the schedule editor's form.
          <Stack gap="xs">
            <TextInput
              label={p?.configured ? 'New ping URL' : 'Ping URL'}
              description={p?.configured ? 'It replaces the current one (which is never shown: it holds a secret)' : undefined}
              value={url}
              onChange={(e) => setUrl(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === 'Enter') {
                  e.preventDefault();
                  save();
                }
              }}
              error={localErr ?? (set.isError ? errorMessage(set.error) : undefined)}
              placeholder="https://hc-ping.com/…"
            />
            <Group gap="xs" justify="flex-end">
              {p?.configured && (
                <Button type="button" variant="subtle" color="red" size="xs" loading={del.isPending} onClick={() => del.mutate(scheduleId, { onSuccess: () => notifyOk('Ping URL removed') })}>
                  Remove
                </Button>
              )}
              <Button type="button" size="xs" variant="light" loading={set.isPending} disabled={!url.trim()} onClick={save}>
                Save ping URL
              </Button>
            </Group>
          </Stack>
        )}
      </Stack>
    </Paper>
  );
}
