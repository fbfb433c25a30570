import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, formatPercent, formatRelative, secondsBetween } from './format';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [10 * 1024 * 1024, '10 MiB'],
    [1.25 * 1024 ** 3, '1.25 GiB'],
    [undefined, '—'],
  ])('%s → %s', (n, want) => expect(formatBytes(n as number | undefined)).toBe(want));
});

describe('formatDuration', () => {
  it.each([
    [5, '5s'],
    [65, '1m 5s'],
    [3725, '1h 2m'],
    [90061, '1d 1h'],
    [-1, '—'],
  ])('%s → %s', (s, want) => expect(formatDuration(s)).toBe(want));
});

describe('formatRelative', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  it('words past and future times', () => {
    expect(formatRelative('2026-01-01T11:59:58Z', now)).toBe('just now');
    expect(formatRelative('2026-01-01T11:55:00Z', now)).toBe('5 min ago');
    expect(formatRelative('2026-01-01T15:00:00Z', now)).toBe('in 3 h');
    expect(formatRelative(undefined, now)).toBe('never');
  });
});

it('formatPercent clamps', () => {
  expect(formatPercent(0.5)).toBe('50.0%');
  expect(formatPercent(1.2)).toBe('100%');
  expect(formatPercent(0)).toBe('0%');
});

it('secondsBetween', () => {
  expect(secondsBetween('2026-01-01T00:00:00Z', '2026-01-01T00:01:30Z')).toBe(90);
  expect(secondsBetween(undefined)).toBeUndefined();
});
