import { Badge, Tooltip } from '@mantine/core';
import { formatDateTime, formatRelative } from '../lib/format';

const hostColors: Record<string, string> = { online: 'green', offline: 'red', decommissioned: 'gray' };

export function HostStatusBadge({ status, lastSeen }: { status?: string; lastSeen?: string }) {
  const s = status ?? 'offline';
  return (
    <Tooltip label={lastSeen ? `Last seen ${formatRelative(lastSeen)} (${formatDateTime(lastSeen)})` : 'Never seen'} withArrow>
      <Badge color={hostColors[s] ?? 'gray'} variant="light" aria-label={`Status: ${s}`}>
        {s}
      </Badge>
    </Tooltip>
  );
}

export const jobColors: Record<string, string> = {
  queued: 'gray',
  running: 'blue',
  succeeded: 'green',
  warning: 'yellow',
  failed: 'red',
  cancelled: 'orange',
};

export function JobStatusBadge({ status, size = 'sm' }: { status?: string; size?: 'xs' | 'sm' | 'md' | 'lg' }) {
  const s = status ?? 'queued';
  return (
    <Badge color={jobColors[s] ?? 'gray'} variant={s === 'running' ? 'filled' : 'light'} size={size} data-status={s}>
      {s}
    </Badge>
  );
}
