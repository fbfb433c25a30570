// A cron input with presets, a human-readable wording and the next fire times as the
// server computes them (GET /schedules/preview), debounced while typing.
import { Badge, Group, List, Loader, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { cronPreviewQuery } from '../api/queries/schedules';
import { describeCron, cronPresets } from '../lib/cron';
import { isApiError } from '../api/client';
import { formatDateTime, formatRelative } from '../lib/format';

export function CronField({
  value,
  timezone,
  onChange,
  error,
}: {
  value: string;
  timezone: string;
  onChange: (v: string) => void;
  error?: string;
}) {
  const [debounced] = useDebouncedValue(value.trim(), 300);
  const preview = useQuery(cronPreviewQuery(debounced, timezone));
  const words = describeCron(value);
  const previewError =
    preview.isError && isApiError(preview.error) && (preview.error.field === 'cron' || !preview.error.field)
      ? preview.error.message
      : undefined;
  return (
    <Stack gap={6}>
      <TextInput
        label="Cron"
        description="Minute, hour, day of month, month, day of week — or @daily, @hourly, @every 6h"
        value={value}
        onChange={(e) => onChange(e.currentTarget.value)}
        error={error ?? previewError}
        styles={{ input: { fontFamily: 'var(--mantine-font-family-monospace)' } }}
        required
        rightSection={preview.isFetching ? <Loader size="xs" /> : null}
      />
      <Group gap={6}>
        {cronPresets.map((p) => (
          <Badge
            key={p.cron}
            component="button"
            type="button"
            variant={value.trim() === p.cron ? 'filled' : 'light'}
            style={{ cursor: 'pointer' }}
            onClick={() => onChange(p.cron)}
          >
            {p.label}
          </Badge>
        ))}
      </Group>
      {words && (
        <Text size="sm" data-testid="cron-words">
          {words}
          {timezone ? ` (${timezone})` : ''}
        </Text>
      )}
      {!previewError && preview.data?.next && preview.data.next.length > 0 && (
        <div data-testid="cron-next">
          <Text size="xs" c="dimmed" fw={600} tt="uppercase">
            Next runs
          </Text>
          <List size="sm" spacing={0}>
            {preview.data.next.map((t) => (
              <List.Item key={t}>
                {formatDateTime(t)}{' '}
                <Text span c="dimmed" size="xs">
                  ({formatRelative(t)})
                </Text>
              </List.Item>
            ))}
          </List>
        </div>
      )}
    </Stack>
  );
}
