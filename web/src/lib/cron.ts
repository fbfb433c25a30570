// A human-readable preview of a cron expression. The server is the authority on
// validity and computes the next fire times (GET /schedules/preview); this only words it.
import cronstrue from 'cronstrue';

const descriptors: Record<string, string> = {
  '@yearly': 'Once a year, at midnight on January 1',
  '@annually': 'Once a year, at midnight on January 1',
  '@monthly': 'Once a month, at midnight on the first day',
  '@weekly': 'Once a week, at midnight on Sunday',
  '@daily': 'Every day at midnight',
  '@midnight': 'Every day at midnight',
  '@hourly': 'Every hour, at minute 0',
};

/** describeCron("0 3 * * *") === "At 03:00"; undefined when it cannot be worded. */
export function describeCron(expr: string): string | undefined {
  const e = expr.trim();
  if (e === '') return undefined;
  const lower = e.toLowerCase();
  if (descriptors[lower]) return descriptors[lower];
  const every = /^@every\s+(\S+)$/i.exec(e);
  if (every) return `Every ${every[1]}`;
  const fields = e.split(/\s+/);
  if (fields.length < 5 || fields.length > 6) return undefined;
  try {
    return cronstrue.toString(e, { use24HourTimeFormat: true, verbose: false, throwExceptionOnParseError: true });
  } catch {
    return undefined;
  }
}

export const cronPresets: { label: string; cron: string }[] = [
  { label: 'Hourly', cron: '0 * * * *' },
  { label: 'Daily 03:00', cron: '0 3 * * *' },
  { label: 'Weekly (Sun 04:00)', cron: '0 4 * * 0' },
  { label: 'Monthly (1st 05:00)', cron: '0 5 1 * *' },
];
