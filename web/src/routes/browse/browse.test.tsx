// The file browser and the restore dialog with a fake API: listing, breadcrumbs, viewers
// without actions, the restore dialog's checks and the request it sends.
import { screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockFetch, renderWithProviders } from '../../test/render';
import { SnapshotBrowserPage } from './SnapshotBrowserPage';
import { RestoreModal } from './RestoreModal';
import type { Host, Repository } from '../../api/client';

afterEach(() => vi.unstubAllGlobals());

const me = (role: string) => ({ user: { id: 'u1', email: `${role}@x`, name: role, role }, role, via: 'session' });
const host = { id: 'h1', name: 'web1', hostname: 'web1', status: 'online', labels: {}, restic_version: '0.18.0' } as unknown as Host;
const repo = { id: 'r1', name: 'nas', url: '/srv/repo' } as unknown as Repository;
const snap = { id: 'aaaaaaaa11112222', short_id: 'aaaaaaaa', time: '2026-01-01T03:00:00Z', paths: ['/srv/data'], tags: [], hostname: 'web1' };
const entry = (name: string, type: string, dir = '/srv/data') => ({ name, type, path: `${dir}/${name}`, size: type === 'file' ? 1234 : 0, mtime: '2026-01-01T00:00:00Z', permissions: '-rw-r--r--' });

function api(role: string, extra?: (url: URL, method: string, body?: string) => { status?: number; body: unknown } | undefined) {
  return mockFetch((url, init) => {
    const x = extra?.(url, init.method ?? 'GET', init.body);
    if (x) return x;
    const p = url.pathname;
    if (p === '/api/v1/auth/me') return { body: me(role) };
    if (p === '/api/v1/hosts/h1') return { body: host };
    if (p === '/api/v1/hosts/h1/repositories') return { body: { items: [repo] } };
    if (p === '/api/v1/hosts/h1/repositories/r1/snapshots') return { body: { items: [snap], next_cursor: '' } };
    if (p.endsWith('/index')) return { body: { snapshot: snap.id, state: 'none', dirs: 0, entries: 0 } };
    if (p.endsWith('/tree')) {
      const path = url.searchParams.get('path');
      if (path === '/srv/data')
        return { body: { snapshot: snap.id, path, items: [entry('etc', 'dir'), entry('notes.txt', 'file')], total: 2, next_cursor: '', cached: true, indexed: false } };
      if (path === '/srv/data/etc') return { body: { snapshot: snap.id, path, items: [entry('app.conf', 'file', path)], total: 1, next_cursor: '', cached: false, indexed: false } };
    }
    return undefined;
  });
}

function renderBrowser(route = '/hosts/h1/repositories/r1/snapshots/aaaaaaaa11112222') {
  return renderWithProviders(
    <Routes>
      <Route path="/hosts/:hostId/repositories/:repoId/snapshots/:snapId" element={<SnapshotBrowserPage />} />
    </Routes>,
    { route },
  );
}

describe('snapshot browser', () => {
  it('opens at the snapshot’s path, walks into a folder, and offers operators restore and download', async () => {
    api('operator');
    renderBrowser();
    const table = await screen.findByRole('table', { name: 'Contents of /srv/data' });
    expect(within(table).getByText('notes.txt')).toBeInTheDocument();
    expect(screen.getByTestId('listing-info')).toHaveTextContent('from the server’s cache');
    await waitFor(() => expect(screen.getByRole('button', { name: 'Download notes.txt' })).toBeInTheDocument());
    expect(screen.getByRole('button', { name: 'Restore…' })).toBeInTheDocument();
    await userEvent.click(within(table).getByRole('link', { name: 'etc' }));
    expect(await screen.findByRole('table', { name: 'Contents of /srv/data/etc' })).toBeInTheDocument();
    const crumbs = screen.getByTestId('path-crumbs');
    expect(within(crumbs).getByRole('link', { name: 'data' })).toBeInTheDocument();
    // Select a file: the selection bar offers restore.
    await userEvent.click(screen.getByRole('checkbox', { name: 'Select app.conf' }));
    expect(screen.getByTestId('selection-bar')).toHaveTextContent('1 selected');
    await userEvent.click(screen.getByRole('button', { name: 'Restore selected…' }));
    const dialog = await screen.findByRole('dialog');
    expect(within(dialog).getAllByText('/srv/data/etc/app.conf').length).toBeGreaterThan(0);
  });

  it('lets viewers browse without restore or download', async () => {
    api('viewer');
    renderBrowser();
    expect(await screen.findByRole('table', { name: 'Contents of /srv/data' })).toBeInTheDocument();
    await waitFor(() => expect(screen.getByText(/need the operator role/)).toBeInTheDocument());
    expect(screen.queryByRole('button', { name: /Download/ })).toBeNull();
    expect(screen.queryByRole('button', { name: /Restore/ })).toBeNull();
    expect(screen.queryByRole('checkbox')).toBeNull();
  });
});

describe('restore dialog', () => {
  function open(onBody: (b: unknown) => void) {
    api('operator', (url, method, body) => {
      if (method === 'POST' && url.pathname.endsWith('/restore')) {
        onBody(JSON.parse(body!));
        return { status: 202, body: { id: 'job-1', kind: 'restore', status: 'queued', host_id: 'h1' } };
      }
      return undefined;
    });
    renderWithProviders(<RestoreModal opened onClose={() => {}} host={host} repo={repo} snapshotId={snap.id} snapshotLabel="aaaaaaaa" paths={['/srv/data/etc']} />);
  }

  it('checks the target before sending anything', async () => {
    const sent: unknown[] = [];
    open((b) => sent.push(b));
    await userEvent.click(await screen.findByRole('button', { name: 'Restore' }));
    expect(await screen.findByText('Enter the directory to restore into')).toBeInTheDocument();
    await userEvent.type(screen.getByRole('textbox', { name: /Target directory/ }), 'relative/dir');
    await userEvent.click(screen.getByRole('button', { name: 'Restore' }));
    expect(await screen.findByText(/absolute directory/)).toBeInTheDocument();
    // In place needs a confirmation.
    await userEvent.click(screen.getByRole('radio', { name: 'Original location' }));
    await userEvent.click(screen.getByRole('button', { name: 'Restore' }));
    expect(await screen.findByText(/Confirm that files at their original location/)).toBeInTheDocument();
    expect(sent).toHaveLength(0);
  });

  it('sends the restore and links to its job', async () => {
    const sent: unknown[] = [];
    open((b) => sent.push(b));
    await userEvent.type(await screen.findByRole('textbox', { name: /Target directory/ }), '/srv/restore');
    expect(screen.getByTestId('restore-preview')).toHaveTextContent('/srv/restore/srv/data/etc');
    await userEvent.type(screen.getByRole('combobox', { name: /Exclude/ }), '*.tmp{enter}');
    await userEvent.click(screen.getByRole('button', { name: 'Restore' }));
    const link = await screen.findByRole('link', { name: 'Follow the restore job' });
    expect(link).toHaveAttribute('href', '/jobs/job-1');
    expect(sent).toEqual([{ paths: ['/srv/data/etc'], target: '/srv/restore', excludes: ['*.tmp'] }]);
  });

  it('puts a server validation error on its field', async () => {
    api('operator', (url, method) =>
      method === 'POST' && url.pathname.endsWith('/restore')
        ? { status: 400, body: { code: 'validation_failed', message: 'target: not a directory the agent may write', details: { field: 'target' } } }
        : undefined,
    );
    renderWithProviders(<RestoreModal opened onClose={() => {}} host={host} repo={repo} snapshotId={snap.id} snapshotLabel="aaaaaaaa" paths={[]} />);
    const target = await screen.findByRole('textbox', { name: /Target directory/ });
    await userEvent.type(target, '/srv/x');
    await userEvent.click(screen.getByRole('button', { name: 'Restore' }));
    expect(await screen.findByText('target: not a directory the agent may write')).toBeInTheDocument();
    await waitFor(() => expect(target).toHaveAttribute('aria-invalid', 'true'));
  });
});
