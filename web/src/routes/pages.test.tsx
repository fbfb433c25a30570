// Page-level behaviour with a fake API: auth redirects, role-based hiding, designed
// empty and error states, server validation errors on the right field.
import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockFetch, renderWithProviders } from '../test/render';
import { AppRoutes } from '../App';
import { SchedulesTab } from './host/SchedulesTab';
import { ScheduleEditorPage } from './schedule/ScheduleEditorPage';
import type { Host } from '../api/client';

afterEach(() => vi.unstubAllGlobals());

const me = (role: string) => ({ user: { id: 'u1', email: `${role}@x`, name: role, role }, role, via: 'session' });
const host = { id: 'h1', name: 'web1', hostname: 'web1', status: 'online', labels: {} } as unknown as Host;
const schedule = { id: 's1', name: 'Nightly', kind: 'backup', cron: '0 3 * * *', timezone: 'UTC', enabled: true, repository_id: 'r1', paths: ['/etc'], next_fires: [] };

describe('pages', () => {
  it('sends a signed-out visitor to the login page and keeps where they were going', async () => {
    mockFetch((url) => {
      if (url.pathname === '/api/v1/auth/me') return { status: 401, body: { code: 'unauthorized', message: 'no' } };
      if (url.pathname === '/api/v1/info') return { body: { version: '1.0', setup_required: false } };
      return undefined;
    });
    renderWithProviders(<AppRoutes />, { route: '/hosts?q=db' });
    expect(await screen.findByRole('button', { name: 'Sign in' })).toBeInTheDocument();
  });

  it('offers first-time setup when no account exists', async () => {
    mockFetch((url) => {
      if (url.pathname === '/api/v1/auth/me') return { status: 401, body: { code: 'unauthorized', message: 'no' } };
      if (url.pathname === '/api/v1/info') return { body: { setup_required: true } };
      return undefined;
    });
    renderWithProviders(<AppRoutes />, { route: '/setup?token=rmsetup_abc' });
    expect(await screen.findByRole('button', { name: 'Create admin account' })).toBeInTheDocument();
    expect(screen.getByLabelText(/Setup token/)).toHaveValue('rmsetup_abc');
  });

  it('shows a designed empty state for a fleet without hosts', async () => {
    mockFetch((url) => {
      if (url.pathname === '/api/v1/auth/me') return { body: me('operator') };
      if (url.pathname === '/api/v1/hosts') return { body: { items: [], next_cursor: '' } };
      if (url.pathname === '/api/v1/hosts/summary') return { body: { total: 0, online: 0, offline: 0 } };
      return undefined;
    });
    renderWithProviders(<AppRoutes />, { route: '/hosts' });
    expect(await screen.findByText('No hosts yet')).toBeInTheDocument();
    expect(screen.getAllByRole('link', { name: /Add a host/ }).length).toBeGreaterThan(0);
  });

  it('shows an error state with a retry when the server fails', async () => {
    mockFetch((url) => {
      if (url.pathname === '/api/v1/auth/me') return { body: me('viewer') };
      if (url.pathname === '/api/v1/hosts') return { status: 500, body: { code: 'internal', message: 'database unavailable' } };
      if (url.pathname === '/api/v1/hosts/summary') return { body: {} };
      return undefined;
    });
    renderWithProviders(<AppRoutes />, { route: '/hosts' });
    expect(await screen.findByText('database unavailable')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });

  it.each([
    ['viewer', false],
    ['operator', true],
  ])('schedules tab for a %s: write actions shown = %s', async (role, can) => {
    mockFetch((url) => {
      if (url.pathname === '/api/v1/auth/me') return { body: me(role) };
      if (url.pathname === '/api/v1/hosts/h1/schedules') return { body: { items: [schedule] } };
      if (url.pathname === '/api/v1/hosts/h1/repositories') return { body: { items: [{ id: 'r1', name: 'nas' }] } };
      return undefined;
    });
    renderWithProviders(<SchedulesTab host={host} />);
    expect(await screen.findByText('Nightly')).toBeInTheDocument();
    await waitFor(() => expect(screen.getByText('nas')).toBeInTheDocument());
    await waitFor(() => expect(!!screen.queryByRole('button', { name: 'Run Nightly now' })).toBe(can));
    expect(!!screen.queryByRole('link', { name: 'New schedule' })).toBe(can);
    expect(screen.getByRole('switch', { name: 'Enable schedule Nightly' })).toHaveProperty('disabled', !can);
  });

  it('puts a server validation error on its field in the schedule editor', async () => {
    const calls = mockFetch((url, init) => {
      if (url.pathname === '/api/v1/auth/me') return { body: me('operator') };
      if (url.pathname === '/api/v1/hosts/h1') return { body: host };
      if (url.pathname === '/api/v1/hosts/h1/repositories') return { body: { items: [{ id: 'r1', name: 'nas' }] } };
      if (url.pathname === '/api/v1/schedules/preview') return { body: { next: ['2030-01-01T03:00:00Z', '2030-01-02T03:00:00Z'] } };
      if (url.pathname === '/api/v1/hosts/h1/schedules' && init.method === 'POST')
        return { status: 400, body: { code: 'validation_failed', message: 'excludes: empty or invalid pattern', details: { field: 'excludes' } } };
      return undefined;
    });
    renderWithProviders(
      <Routes>
        <Route path="/hosts/:hostId/schedules/new" element={<ScheduleEditorPage />} />
      </Routes>,
      { route: '/hosts/h1/schedules/new' },
    );
    const name = await screen.findByRole('textbox', { name: /^Name/ });
    await userEvent.type(name, 'Nightly');
    const paths = screen.getByRole('combobox', { name: /^Paths/ });
    await userEvent.type(paths, '/etc{enter}');
    expect(await screen.findByText('At 03:00 (UTC)', { exact: false })).toBeInTheDocument();
    await userEvent.click(screen.getByRole('button', { name: 'Create schedule' }));
    await waitFor(() => expect(screen.getByRole('combobox', { name: /^Excludes/ })).toHaveAttribute('aria-invalid', 'true'));
    expect(screen.getByText('excludes: empty or invalid pattern')).toBeInTheDocument();
    const post = calls.find((c) => c.method === 'POST')!;
    expect(JSON.parse(post.body!)).toMatchObject({ name: 'Nightly', kind: 'backup', repository_id: 'r1', paths: ['/etc'] });
  });

  it('shows backup objective state from the server’s evaluation, not from a job scan', async () => {
    const hh = (id: string, name: string, state: string) => ({
      host_id: id,
      name,
      hostname: name,
      labels: {},
      status: 'online',
      objective_seconds: 176400,
      objective_source: 'schedules',
      objective_state: state,
      last_backup_at: '2026-01-01T00:00:00Z',
      open_alerts: state === 'violated' ? [{ id: 'a1', host_id: id, host_name: name, condition: 'backup_objective', severity: 'critical', state: 'open', message: 'late', opened_at: '2026-01-02T00:00:00Z' }] : [],
    });
    const calls = mockFetch((url) => {
      const p = url.pathname;
      if (p === '/api/v1/auth/me') return { body: me('viewer') };
      if (p === '/api/v1/hosts/summary') return { body: { total: 3, online: 3, offline: 0 } };
      if (p === '/api/v1/health/summary')
        return { body: { hosts: { ok: 1, at_risk: 1, violated: 1 }, open_alerts: 1, open_alerts_by_condition: { backup_objective: 1 }, open_alerts_by_severity: { critical: 1 } } };
      if (p === '/api/v1/health/hosts') {
        const st = url.searchParams.get('state');
        if (st === 'violated') return { body: { items: [hh('h1', 'db1', 'violated')], next_cursor: '' } };
        if (st === 'at_risk') return { body: { items: [hh('h2', 'web2', 'at_risk')], next_cursor: '' } };
        return { body: { items: [], next_cursor: '' } };
      }
      if (p === '/api/v1/jobs') return { body: { items: [], next_cursor: '' } };
      if (p === '/api/v1/hosts') return { body: { items: [], next_cursor: '' } };
      return undefined;
    });
    renderWithProviders(<AppRoutes />, { route: '/' });
    const rows = await screen.findAllByTestId('objective-row');
    expect(rows.map((r) => r.getAttribute('data-state'))).toEqual(['violated', 'at_risk']);
    expect(rows[0]).toHaveTextContent('db1');
    expect(screen.getByTestId('open-alerts')).toHaveTextContent('1');
    expect(screen.getByTestId('objective-summary')).toHaveTextContent('1 violated · 1 at risk');
    expect(calls.some((c) => c.url.pathname === '/api/v1/jobs' && c.url.searchParams.get('limit') === '500')).toBe(false);
  });
});
