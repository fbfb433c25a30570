import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, api, call, toApiError } from './client';
import { mockFetch } from '../test/render';

afterEach(() => {
  vi.unstubAllGlobals();
  document.cookie = 'rm_csrf=; Max-Age=0';
});

describe('API client', () => {
  it('sends the CSRF token on state-changing requests only', async () => {
    document.cookie = 'rm_csrf=tok123';
    const calls = mockFetch(() => ({ body: { ok: true } }));
    await call(api.POST('/auth/logout'));
    await call(api.GET('/hosts/summary'));
    expect(calls[0].headers.get('X-CSRF-Token')).toBe('tok123');
    expect(calls[1].headers.get('X-CSRF-Token')).toBeNull();
  });
  it('turns error answers into ApiError with code and field', async () => {
    mockFetch(() => ({ status: 400, body: { code: 'validation_failed', message: 'cron: bad', details: { field: 'cron' } } }));
    const err = await call(api.GET('/schedules/preview', { params: { query: { cron: 'x' } } })).catch((e) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 400, code: 'validation_failed', message: 'cron: bad', field: 'cron' });
  });
  it('has a message for bodies without one', () => {
    expect(toApiError(502, null).message).toBe('The server answered 502.');
    expect(toApiError(0, undefined).code).toBe('network');
  });
});
