import { Badge, Group, Text } from '@mantine/core';

export function Labels({ labels, max = 4 }: { labels?: Record<string, string>; max?: number }) {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0)
    return (
      <Text size="xs" c="dimmed">
        —
      </Text>
    );
  return (
    <Group gap={4}>
      {entries.slice(0, max).map(([k, v]) => (
        <Badge key={k} variant="outline" color="gray" size="sm" tt="none" fw={500}>
          {v ? `${k}=${v}` : k}
        </Badge>
      ))}
      {entries.length > max && (
        <Text size="xs" c="dimmed">
          +{entries.length - max}
        </Text>
      )}
    </Group>
  );
}
