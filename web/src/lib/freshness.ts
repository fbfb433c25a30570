// How fresh a host's last successful backup is, against its schedule: green while the
// last success is within 1.5 schedule intervals, amber within 3, red after that (or when
// there never was one). Without a known interval a day is assumed.

export type Freshness = 'ok' | 'late' | 'stale' | 'never' | 'unscheduled';

export const freshnessColor: Record<Freshness, string> = {
  ok: 'green',
  late: 'yellow',
  stale: 'red',
  never: 'red',
  unscheduled: 'gray',
};

export const freshnessLabel: Record<Freshness, string> = {
  ok: 'On time',
  late: 'Late',
  stale: 'Overdue',
  never: 'Never backed up',
  unscheduled: 'No schedule',
};

/** The gap between the first two fire times, in seconds. */
export function intervalFromFires(fires: string[] | undefined): number | undefined {
  if (!fires || fires.length < 2) return undefined;
  const a = Date.parse(fires[0]);
  const b = Date.parse(fires[1]);
  if (Number.isNaN(a) || Number.isNaN(b) || b <= a) return undefined;
  return (b - a) / 1000;
}

export function freshness(
  lastSuccess: string | undefined | null,
  intervalSeconds: number | undefined,
  opts: { scheduled?: boolean; now?: number } = {},
): Freshness {
  const now = opts.now ?? Date.now();
  if (opts.scheduled === false && !lastSuccess) return 'unscheduled';
  if (!lastSuccess) return 'never';
  const age = (now - Date.parse(lastSuccess)) / 1000;
  const interval = intervalSeconds && intervalSeconds > 0 ? intervalSeconds : 86400;
  if (age <= interval * 1.5) return 'ok';
  if (age <= interval * 3) return 'late';
  return 'stale';
}
