import { describe, expect, it } from 'vitest';
import { describeRetention, emptyRetention, retentionErrors, retentionFromApi, retentionToApi } from './retention';

describe('retention', () => {
  it('drops empty rules and refuses an empty policy where one is required', () => {
    expect(retentionToApi(emptyRetention)).toBeUndefined();
    expect(retentionErrors(emptyRetention, true).policy).toMatch(/Keep at least one snapshot/);
    expect(retentionErrors(emptyRetention, false).policy).toBeUndefined();
  });
  it('round-trips through the API shape', () => {
    const api = { keep_daily: 7, keep_weekly: 4, keep_within: '30d', keep_tags: ['keep'] };
    expect(retentionToApi(retentionFromApi(api))).toEqual(api);
  });
  it('checks keep_within', () => {
    expect(retentionErrors({ ...emptyRetention, keep_within: '2w3d' }, true)).toEqual({});
    expect(retentionErrors({ ...emptyRetention, keep_within: 'soon' }, true).keep_within).toBeDefined();
  });
  it('describes a policy', () => {
    expect(describeRetention({ keep_last: 3, keep_daily: 7 })).toBe('last 3, 7 daily');
    expect(describeRetention(undefined)).toBe('none');
  });
});
