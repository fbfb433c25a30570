// The final statistics of a job from restic's summary (backup: the "summary" message
// of `restic backup --json`; other kinds: whatever the agent reports).
import type { Progress } from '../api/client';
import { formatBytes, formatDuration, formatNumber } from './format';

export type StatItem = { label: string; value: string; mono?: boolean };

const num = (o: Record<string, unknown>, k: string) => (typeof o[k] === 'number' ? (o[k] as number) : undefined);

export function summaryStats(kind: string | undefined, summary: unknown): StatItem[] {
  if (!summary || typeof summary !== 'object') return [];
  const s = summary as Record<string, unknown>;
  const out: StatItem[] = [];
  if (kind === 'backup') {
    const id = typeof s.snapshot_id === 'string' ? s.snapshot_id : undefined;
    if (id) out.push({ label: 'Snapshot', value: id.slice(0, 8), mono: true });
    const files = [num(s, 'files_new'), num(s, 'files_changed'), num(s, 'files_unmodified')];
    if (files.some((v) => v !== undefined))
      out.push({
        label: 'Files new / changed / unchanged',
        value: files.map((v) => formatNumber(v ?? 0)).join(' / '),
      });
    if (num(s, 'total_files_processed') !== undefined) out.push({ label: 'Files processed', value: formatNumber(num(s, 'total_files_processed')) });
    if (num(s, 'total_bytes_processed') !== undefined) out.push({ label: 'Bytes processed', value: formatBytes(num(s, 'total_bytes_processed')) });
    if (num(s, 'data_added') !== undefined) out.push({ label: 'Data added', value: formatBytes(num(s, 'data_added')) });
    if (num(s, 'data_added_packed') !== undefined) out.push({ label: 'Stored (compressed)', value: formatBytes(num(s, 'data_added_packed')) });
    if (num(s, 'total_duration') !== undefined) out.push({ label: 'restic duration', value: formatDuration(num(s, 'total_duration')) });
    return out;
  }
  // Other kinds: show scalar fields as they come, up to eight.
  for (const [k, v] of Object.entries(s)) {
    if (out.length >= 8) break;
    if (typeof v === 'number') out.push({ label: k.replace(/_/g, ' '), value: /size|bytes/.test(k) ? formatBytes(v) : formatNumber(v) });
    else if (typeof v === 'string' && v.length < 80) out.push({ label: k.replace(/_/g, ' '), value: v });
    else if (typeof v === 'boolean') out.push({ label: k.replace(/_/g, ' '), value: v ? 'yes' : 'no' });
  }
  return out;
}

/** A finished backup's totals in the shape of live progress (for jobs too quick to report any). */
export function progressFromSummary(summary: unknown): Progress | undefined {
  if (!summary || typeof summary !== 'object') return undefined;
  const s = summary as Record<string, unknown>;
  const files = num(s, 'total_files_processed');
  const bytes = num(s, 'total_bytes_processed');
  if (files === undefined && bytes === undefined) return undefined;
  const secs = num(s, 'total_duration');
  return {
    percent_done: 1,
    files_done: files,
    total_files: files,
    bytes_done: bytes,
    total_bytes: bytes,
    seconds_elapsed: secs !== undefined ? Math.round(secs) : undefined,
    bytes_per_second: secs && bytes ? bytes / secs : undefined,
  };
}
