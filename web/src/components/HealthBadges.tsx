import { Badge, Tooltip } from '@mantine/core';
import { conditionLabel, objectiveColor, objectiveHelp, objectiveLabel, severityColor } from '../lib/health';

export function ObjectiveBadge({ state, size = 'sm', testId }: { state?: string; size?: 'xs' | 'sm' | 'md' | 'lg'; testId?: string }) {
  const s = state ?? 'unknown';
  return (
    <Tooltip label={objectiveHelp[s] ?? s} withArrow multiline w={260}>
      <Badge color={objectiveColor[s] ?? 'gray'} variant={s === 'violated' ? 'filled' : 'light'} size={size} data-testid={testId} data-state={s}>
        {objectiveLabel[s] ?? s}
      </Badge>
    </Tooltip>
  );
}

export function SeverityBadge({ severity, size = 'sm' }: { severity?: string; size?: 'xs' | 'sm' | 'md' }) {
  const s = severity ?? 'info';
  return (
    <Badge color={severityColor[s] ?? 'gray'} variant={s === 'critical' ? 'filled' : 'light'} size={size}>
      {s}
    </Badge>
  );
}

export function ConditionBadge({ condition, severity, size = 'sm' }: { condition: string; severity?: string; size?: 'xs' | 'sm' | 'md' }) {
  return (
    <Badge color={severityColor[severity ?? 'info'] ?? 'gray'} variant="dot" size={size} tt="none">
      {conditionLabel[condition] ?? condition}
    </Badge>
  );
}
