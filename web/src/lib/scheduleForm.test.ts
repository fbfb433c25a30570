import { describe, expect, it } from 'vitest';
import { clientErrors, fieldForServerError, formToInput, newScheduleForm, scheduleToForm } from './scheduleForm';
import { emptyRetention } from './retention';
import type { Schedule } from '../api/client';

describe('schedule form', () => {
  it('maps server validation fields to form fields', () => {
    expect(fieldForServerError('cron')).toBe('cron');
    expect(fieldForServerError('paths')).toBe('paths');
    expect(fieldForServerError('retention')).toBe('retention_policy');
    expect(fieldForServerError('retention.keep_within')).toBe('keep_within');
    expect(fieldForServerError('hooks')).toBe('pre_hook');
    expect(fieldForServerError('options.read_data_subset')).toBe('read_data_subset');
    expect(fieldForServerError('something_else')).toBe('form');
    expect(fieldForServerError(undefined)).toBe('form');
  });
  it('finds problems before asking the server', () => {
    const f = { ...newScheduleForm('r1'), name: 'n', paths: ['relative/dir'] };
    expect(clientErrors(f).paths).toMatch(/not an absolute path/);
    expect(clientErrors({ ...f, paths: ['/etc', 'C:\\Users'] })).toEqual({});
    expect(clientErrors({ ...f, kind: 'forget', retention: { ...emptyRetention } }).retention_policy).toBeDefined();
    expect(clientErrors({ ...f, name: ' ' }).name).toBeDefined();
  });
  it('sends only what the kind uses', () => {
    const f = { ...newScheduleForm('r1', 'Europe/Berlin'), name: ' nightly ', paths: ['/etc'], excludes: ['*.tmp'], pre_hook: 'db-dump' };
    expect(formToInput(f)).toEqual({
      name: 'nightly',
      kind: 'backup',
      repository_id: 'r1',
      cron: '0 3 * * *',
      timezone: 'Europe/Berlin',
      enabled: true,
      manual: false,
      paths: ['/etc'],
      excludes: ['*.tmp'],
      pre_hook: 'db-dump',
    });
    const forget = formToInput({ ...f, kind: 'forget', prune: true });
    expect(forget.paths).toBeUndefined();
    expect(forget.retention).toEqual({ keep_daily: 7, keep_weekly: 4, keep_monthly: 12 });
    expect(forget.options).toEqual({ prune: true });
  });
  it('loads an existing schedule', () => {
    const f = scheduleToForm({ name: 'x', kind: 'check', cron: '@daily', options: { read_data_subset: '5%' }, enabled: false } as unknown as Schedule);
    expect(f.kind).toBe('check');
    expect(f.read_data_subset).toBe('5%');
    expect(f.enabled).toBe(false);
    expect(f.timezone).toBe('UTC');
  });
});
