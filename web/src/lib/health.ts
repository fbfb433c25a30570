// Words and colours for backup objective states, alert conditions and severities, and
// the objective override's duration input (a number and a unit).
import { formatDuration } from './format';

export const objectiveStates = ['violated', 'at_risk', 'ok', 'none', 'unknown'] as const;
export type ObjectiveStateName = (typeof objectiveStates)[number];

export const objectiveColor: Record<string, string> = {
  ok: 'green',
  at_risk: 'yellow',
  violated: 'red',
  none: 'gray',
  unknown: 'gray',
};

export const objectiveLabel: Record<string, string> = {
  ok: 'On time',
  at_risk: 'At risk',
  violated: 'Violated',
  none: 'Not judged',
  unknown: 'Not evaluated yet',
};

export const objectiveHelp: Record<string, string> = {
  ok: 'The last successful backup is well within the objective.',
  at_risk: 'Past 75% of the objective: a run was probably missed.',
  violated: 'The last successful backup is older than the objective.',
  none: 'No backup schedule and no override: this host is not judged.',
  unknown: 'The server has not evaluated this host yet.',
};

export const conditions = ['backup_objective', 'agent_offline', 'repository_locked', 'check_failed', 'restic_outdated'] as const;

export const conditionLabel: Record<string, string> = {
  backup_objective: 'Backup objective',
  agent_offline: 'Agent offline',
  repository_locked: 'Repository locked',
  check_failed: 'Check failed',
  restic_outdated: 'restic outdated',
};

export const severities = ['critical', 'warning', 'info'] as const;

export const severityColor: Record<string, string> = { critical: 'red', warning: 'yellow', info: 'blue' };

export const objectiveSourceLabel: Record<string, string> = {
  schedules: 'derived from its backup schedules',
  override: 'set by an operator',
  default: 'the server’s default',
};

/** "2d 1h" for an objective in seconds; "none" for 0. */
export function formatObjective(seconds: number | undefined | null): string {
  if (!seconds) return 'none';
  return formatDuration(seconds);
}

export type DurationUnit = 'minutes' | 'hours' | 'days';
export const unitSeconds: Record<DurationUnit, number> = { minutes: 60, hours: 3600, days: 86400 };

/** The largest unit that expresses seconds as a whole number. */
export function splitDuration(seconds: number): { value: number; unit: DurationUnit } {
  if (seconds > 0 && seconds % 86400 === 0) return { value: seconds / 86400, unit: 'days' };
  if (seconds > 0 && seconds % 3600 === 0) return { value: seconds / 3600, unit: 'hours' };
  return { value: Math.max(1, Math.round(seconds / 60)), unit: 'minutes' };
}

/** The server accepts 60 s to 366 days. Answers an error message, or undefined. */
export function objectiveError(value: number | string, unit: DurationUnit): string | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  if (!Number.isFinite(n) || n <= 0) return 'Enter a positive number';
  const s = n * unitSeconds[unit];
  if (!Number.isInteger(s)) return 'Use whole seconds';
  if (s < 60) return 'At least one minute';
  if (s > 366 * 86400) return 'At most 366 days';
  return undefined;
}
