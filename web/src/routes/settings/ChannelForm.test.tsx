import { screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mockFetch, renderWithProviders } from '../../test/render';
import { ChannelForm } from './ChannelForm';
import type { NotificationChannel } from '../../api/client';

afterEach(() => vi.unstubAllGlobals());

describe('channel form', () => {
  it('checks a new webhook, then creates it', async () => {
    const calls = mockFetch((url, init) =>
      url.pathname === '/api/v1/notification-channels' && init.method === 'POST'
        ? { status: 201, body: { id: 'c1', name: 'ops', type: 'webhook', enabled: true, summary: 'https://hooks.example.com' } }
        : undefined,
    );
    const saved = vi.fn();
    renderWithProviders(<ChannelForm onSaved={saved} onCancel={() => {}} />);
    await userEvent.click(screen.getByRole('button', { name: 'Add channel' }));
    expect(await screen.findAllByText('Required')).toHaveLength(2);
    expect(calls).toHaveLength(0);
    await userEvent.type(screen.getByRole('textbox', { name: /^Name/ }), 'ops');
    await userEvent.type(screen.getByRole('textbox', { name: /^URL/ }), 'https://hooks.example.com/rm');
    await userEvent.type(screen.getByLabelText(/Signing secret/), 's3cret');
    await userEvent.type(screen.getByRole('textbox', { name: /Extra headers/ }), 'X-Team: ops');
    await userEvent.click(screen.getByRole('button', { name: 'Add channel' }));
    await waitFor(() => expect(saved).toHaveBeenCalled());
    expect(JSON.parse(calls[0].body!)).toEqual({
      name: 'ops',
      type: 'webhook',
      enabled: true,
      webhook: { url: 'https://hooks.example.com/rm', secret: 's3cret', headers: { 'X-Team': 'ops' } },
    });
  });

  it('keeps write-only secrets when editing and shows server errors on their field', async () => {
    const calls = mockFetch((url, init) =>
      url.pathname === '/api/v1/notification-channels/c2' && init.method === 'PUT'
        ? { status: 400, body: { code: 'validation_failed', message: 'email.to: "x" is not an email address', details: { field: 'email.to' } } }
        : undefined,
    );
    const ch = {
      id: 'c2',
      name: 'mail',
      type: 'email',
      enabled: true,
      summary: 'smtp.example.com',
      email: { host: 'smtp.example.com', port: 587, security: 'starttls', username: 'rm', password_set: true, from: 'rm@example.com', to: ['ops@example.com'] },
    } as NotificationChannel;
    renderWithProviders(<ChannelForm channel={ch} onSaved={() => {}} onCancel={() => {}} />);
    expect(screen.getByText('set')).toBeInTheDocument();
    expect(screen.getByLabelText(/^Password/)).toHaveValue('');
    await userEvent.click(screen.getByRole('button', { name: 'Save channel' }));
    expect(await screen.findByText('email.to: "x" is not an email address')).toBeInTheDocument();
    const body = JSON.parse(calls[0].body!);
    expect(body.email).not.toHaveProperty('password');
    expect(body.email).toMatchObject({ host: 'smtp.example.com', username: 'rm', to: ['ops@example.com'] });
  });
});
