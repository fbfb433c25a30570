import { describe, expect, it } from 'vitest';
import { baseName, commonDir, findPattern, joinPath, normalizePath, parentPath, pathCrumbs } from './browsePath';
import { formatObjective, objectiveError, splitDuration } from './health';
import { channelErrors, channelToForm, formToChannelInput, newChannelForm, parseHeaders } from './channelForm';
import type { NotificationChannel } from '../api/client';

describe('snapshot paths', () => {
  it('normalises, joins and splits', () => {
    expect(normalizePath('/a//b/./c/')).toBe('/a/b/c');
    expect(normalizePath('')).toBe('/');
    expect(normalizePath('/a/b/../c')).toBe('/a/c');
    expect(joinPath('/', 'etc')).toBe('/etc');
    expect(joinPath('/etc', 'hosts')).toBe('/etc/hosts');
    expect(parentPath('/etc/hosts')).toBe('/etc');
    expect(parentPath('/etc')).toBe('/');
    expect(parentPath('/')).toBe('/');
    expect(baseName('/etc/hosts')).toBe('hosts');
    expect(pathCrumbs('/home/ada')).toEqual([
      { name: '/', path: '/' },
      { name: 'home', path: '/home' },
      { name: 'ada', path: '/home/ada' },
    ]);
  });
  it('opens a snapshot where its paths are', () => {
    expect(commonDir(['/srv/data'])).toBe('/srv/data');
    expect(commonDir(['/srv/data/a', '/srv/data/b'])).toBe('/srv/data');
    expect(commonDir(['/etc', '/home'])).toBe('/');
    expect(commonDir(undefined)).toBe('/');
  });
  it('turns a word into a find pattern, leaves globs alone', () => {
    expect(findPattern('report')).toBe('*report*');
    expect(findPattern('*.pdf')).toBe('*.pdf');
    expect(findPattern('  ')).toBe('');
  });
});

describe('objective override input', () => {
  it('checks the server’s range and picks a unit', () => {
    expect(objectiveError(30, 'minutes')).toBeUndefined();
    expect(objectiveError(0, 'hours')).toBeDefined();
    expect(objectiveError(400, 'days')).toMatch(/366/);
    expect(objectiveError('abc', 'days')).toBeDefined();
    expect(splitDuration(176400)).toEqual({ value: 49, unit: 'hours' });
    expect(splitDuration(172800)).toEqual({ value: 2, unit: 'days' });
    expect(splitDuration(90)).toEqual({ value: 2, unit: 'minutes' });
    expect(formatObjective(176400)).toBe('2d 1h');
    expect(formatObjective(0)).toBe('none');
  });
});

describe('channel form', () => {
  it('requires what a new channel needs', () => {
    const f = newChannelForm('webhook');
    expect(channelErrors(f)).toMatchObject({ name: 'Required', 'webhook.url': 'Required' });
    expect(channelErrors({ ...f, name: 'ops', webhookUrl: 'ftp://x' })['webhook.url']).toMatch(/http/);
    expect(channelErrors({ ...f, name: 'ops', webhookUrl: 'https://hooks.example.com/x' })).toEqual({});
    const e = newChannelForm('email');
    expect(channelErrors({ ...e, name: 'mail' })).toMatchObject({ 'email.host': expect.any(String), 'email.from': 'Required', 'email.to': expect.any(String) });
    expect(channelErrors({ ...e, name: 'mail', emailHost: 'smtp', emailFrom: 'RM <rm@example.com>', emailTo: ['ops@example.com'], emailPort: '99999' })).toEqual({
      'email.port': 'From 1 to 65535',
    });
    expect(channelErrors({ ...e, name: 'm', emailHost: 'smtp', emailFrom: 'rm@x.org', emailTo: ['a@x.org'], emailUsername: 'u' })['email.password']).toBeDefined();
    expect(channelErrors({ ...newChannelForm('chat'), name: 'c', chatUrl: 'not a url' })['chat.url']).toBeDefined();
  });
  it('parses headers', () => {
    expect(parseHeaders('X-Team: ops\n\nX-Env:prod')).toEqual({ headers: { 'X-Team': 'ops', 'X-Env': 'prod' } });
    expect(parseHeaders('nonsense').error).toBeDefined();
  });
  it('sends write-only values only when typed', () => {
    const ch = {
      id: 'c1',
      name: 'ops',
      type: 'webhook',
      enabled: true,
      summary: 'https://hooks.example.com',
      webhook: { url_host: 'https://hooks.example.com', secret_set: true, header_names: ['X-Team'] },
    } as NotificationChannel;
    const f = channelToForm(ch);
    expect(channelErrors(f, ch)).toEqual({});
    expect(formToChannelInput(f)).toEqual({ name: 'ops', type: 'webhook', enabled: true, webhook: {} });
    expect(formToChannelInput({ ...f, webhookSecret: 's3cret' }).webhook).toEqual({ secret: 's3cret' });
    const mail = {
      id: 'c2',
      name: 'mail',
      type: 'email',
      enabled: true,
      summary: '',
      email: { host: 'smtp.example.com', port: 587, security: 'starttls', username: 'u', password_set: true, from: 'rm@example.com', to: ['ops@example.com'] },
    } as NotificationChannel;
    const mf = channelToForm(mail);
    expect(channelErrors(mf, mail)).toEqual({});
    expect(formToChannelInput(mf).email).toEqual({ host: 'smtp.example.com', port: 587, security: 'starttls', username: 'u', from: 'rm@example.com', to: ['ops@example.com'] });
  });
});
