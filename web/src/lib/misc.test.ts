import { describe, expect, it } from 'vitest';
import { describeCron } from './cron';
import { sumSizeByDay } from './fleetStats';
import { highlight, mergeLines, searchLines } from './logs';
import { linuxCommands, shQuote, windowsCommands } from './enrollCommands';
import { progressFromSummary, summaryStats } from './summary';

describe('cron wording', () => {
  it('words expressions and descriptors; gives up on junk', () => {
    expect(describeCron('0 3 * * *')).toBe('At 03:00');
    expect(describeCron('@daily')).toMatch(/Every day/);
    expect(describeCron('@every 6h')).toBe('Every 6h');
    expect(describeCron('not cron')).toBeUndefined();
    expect(describeCron('')).toBeUndefined();
  });
});

describe('fleet stats', () => {
  it('sums repositories per day, carrying values forward', () => {
    const now = Date.parse('2026-01-03T12:00:00Z');
    const a = [
      { at: '2026-01-01T10:00:00Z', total_size: 100 },
      { at: '2026-01-03T10:00:00Z', total_size: 150 },
    ];
    const b = [{ at: '2026-01-02T10:00:00Z', total_size: 10 }];
    expect(sumSizeByDay([a, b], 5, now)).toEqual([
      { day: '2026-01-01', size: 100 },
      { day: '2026-01-02', size: 110 },
      { day: '2026-01-03', size: 160 },
    ]);
    expect(sumSizeByDay([], 5, now)).toEqual([]);
  });
});

describe('log lines', () => {
  const l = (seq: number, text = `line ${seq}`) => ({ seq, text, stream: 'stdout' as const, at: '' });
  it('merges out-of-order and repeated lines', () => {
    expect(mergeLines([l(1), l(2)], [l(3), l(4)]).map((x) => x.seq)).toEqual([1, 2, 3, 4]);
    expect(mergeLines([l(1), l(3)], [l(2), l(3), l(4)]).map((x) => x.seq)).toEqual([1, 2, 3, 4]);
  });
  it('searches and highlights case-insensitively', () => {
    expect(searchLines([l(1, 'Saving snapshot'), l(2, 'other')], 'SNAP').map((x) => x.seq)).toEqual([1]);
    expect(highlight('a Snap b snap', 'snap')).toEqual([
      { text: 'a ', match: false },
      { text: 'Snap', match: true },
      { text: ' b ', match: false },
      { text: 'snap', match: true },
    ]);
  });
});

describe('enrol commands', () => {
  it('fills in the server and token, quoted', () => {
    expect(linuxCommands('https://backup.example.com', 'rme_abc')).toContain(
      'sudo restic-manager-agent enroll --server https://backup.example.com --token rme_abc',
    );
    expect(windowsCommands('https://b', 'rme_x')).toContain('.\\restic-manager-agent.exe enroll --server https://b --token rme_x');
    expect(shQuote("it's")).toBe(`'it'\\''s'`);
  });
});

describe('job summary', () => {
  const s = { snapshot_id: 'c8694648abcdef', files_new: 40, files_changed: 1, files_unmodified: 2, total_files_processed: 43, total_bytes_processed: 2048, data_added: 1024, total_duration: 2 };
  it('lists backup statistics', () => {
    const st = summaryStats('backup', s);
    expect(st).toContainEqual({ label: 'Snapshot', value: 'c8694648', mono: true });
    expect(st).toContainEqual({ label: 'Files new / changed / unchanged', value: '40 / 1 / 2' });
    expect(st).toContainEqual({ label: 'Data added', value: '1 KiB' });
    expect(summaryStats('backup', null)).toEqual([]);
  });
  it('turns a summary into final progress', () => {
    expect(progressFromSummary(s)).toMatchObject({ percent_done: 1, files_done: 43, bytes_done: 2048, bytes_per_second: 1024 });
    expect(progressFromSummary({})).toBeUndefined();
  });
});
