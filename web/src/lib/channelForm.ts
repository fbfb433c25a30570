// The notification channel form: webhook, email or chat. Secrets (the webhook's URL,
// secret and header values, the SMTP password, the chat URL) are write-only: when editing,
// a field left empty keeps the stored value, so the form only sends what was typed.
import type { NotificationChannel, NotificationChannelInput } from '../api/client';

export type ChannelType = 'webhook' | 'email' | 'chat';
export type Security = 'starttls' | 'tls' | 'none';

export type ChannelForm = {
  name: string;
  type: ChannelType;
  enabled: boolean;
  webhookUrl: string;
  webhookSecret: string;
  /** "Name: value" lines; empty while editing keeps the stored headers. */
  webhookHeaders: string;
  emailHost: string;
  emailPort: string;
  emailSecurity: Security;
  emailUsername: string;
  emailPassword: string;
  emailFrom: string;
  emailTo: string[];
  chatUrl: string;
};

export type ChannelField =
  | 'name'
  | 'type'
  | 'webhook.url'
  | 'webhook.secret'
  | 'webhook.headers'
  | 'email.host'
  | 'email.port'
  | 'email.security'
  | 'email.username'
  | 'email.password'
  | 'email.from'
  | 'email.to'
  | 'chat.url'
  | 'form';

export function newChannelForm(type: ChannelType = 'webhook'): ChannelForm {
  return {
    name: '',
    type,
    enabled: true,
    webhookUrl: '',
    webhookSecret: '',
    webhookHeaders: '',
    emailHost: '',
    emailPort: '',
    emailSecurity: 'starttls',
    emailUsername: '',
    emailPassword: '',
    emailFrom: '',
    emailTo: [],
    chatUrl: '',
  };
}

/** The form for editing a channel: what may be shown; secrets stay empty. */
export function channelToForm(ch: NotificationChannel): ChannelForm {
  const f = newChannelForm(ch.type);
  f.name = ch.name;
  f.enabled = ch.enabled;
  if (ch.email) {
    f.emailHost = ch.email.host;
    f.emailPort = String(ch.email.port || '');
    f.emailSecurity = ch.email.security;
    f.emailUsername = ch.email.username ?? '';
    f.emailFrom = ch.email.from;
    f.emailTo = ch.email.to ?? [];
  }
  return f;
}

const emailRE = /^[^\s@<>]+@[^\s@<>]+$/;

/** "Name <a@b>" or a@b. */
export function looksLikeAddress(s: string): boolean {
  const t = s.trim();
  const m = /<([^>]+)>\s*$/.exec(t);
  return emailRE.test(m ? m[1] : t);
}

export function parseHeaders(text: string): { headers: Record<string, string>; error?: string } {
  const headers: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line) continue;
    const i = line.indexOf(':');
    if (i <= 0) return { headers, error: `“${line}” is not “Name: value”` };
    const name = line.slice(0, i).trim();
    if (!/^[A-Za-z0-9-]+$/.test(name)) return { headers, error: `“${name}” is not a header name` };
    headers[name] = line.slice(i + 1).trim();
  }
  return { headers };
}

/** Client-side checks; editing (existing) allows write-only values to stay empty. */
export function channelErrors(f: ChannelForm, existing?: NotificationChannel): Partial<Record<ChannelField, string>> {
  const e: Partial<Record<ChannelField, string>> = {};
  if (!f.name.trim()) e.name = 'Required';
  else if (f.name.length > 200) e.name = 'At most 200 characters';
  if (f.type === 'webhook') {
    const u = f.webhookUrl.trim();
    if (!u && !existing) e['webhook.url'] = 'Required';
    else if (u && !/^https?:\/\/[^/\s]+/i.test(u)) e['webhook.url'] = 'An http:// or https:// URL';
    const h = parseHeaders(f.webhookHeaders);
    if (h.error) e['webhook.headers'] = h.error;
  } else if (f.type === 'email') {
    if (!f.emailHost.trim()) e['email.host'] = 'Required: the SMTP server';
    if (f.emailPort.trim()) {
      const p = Number(f.emailPort);
      if (!Number.isInteger(p) || p < 1 || p > 65535) e['email.port'] = 'From 1 to 65535';
    }
    if (!f.emailFrom.trim()) e['email.from'] = 'Required';
    else if (!looksLikeAddress(f.emailFrom)) e['email.from'] = 'Not an email address';
    if (f.emailTo.length === 0) e['email.to'] = 'At least one recipient';
    else {
      const bad = f.emailTo.find((t) => !looksLikeAddress(t));
      if (bad) e['email.to'] = `“${bad}” is not an email address`;
    }
    const keepsPassword = !!existing?.email?.password_set && f.emailUsername === (existing.email.username ?? '');
    if (f.emailUsername && !f.emailPassword && !keepsPassword) e['email.password'] = 'Username and password go together';
    if (!f.emailUsername && f.emailPassword) e['email.username'] = 'Username and password go together';
  } else if (f.type === 'chat') {
    const u = f.chatUrl.trim();
    if (!u && !existing) e['chat.url'] = 'Required';
    else if (u && !/^[a-z][a-z0-9+.-]*:\/\/\S+$/i.test(u)) e['chat.url'] = 'A service URL such as slack://… or ntfy://…';
  }
  return e;
}

/** The request body: write-only values only when typed. */
export function formToChannelInput(f: ChannelForm): NotificationChannelInput {
  const base: NotificationChannelInput = { name: f.name.trim(), type: f.type, enabled: f.enabled };
  if (f.type === 'webhook') {
    const w: NonNullable<NotificationChannelInput['webhook']> = {};
    if (f.webhookUrl.trim()) w.url = f.webhookUrl.trim();
    if (f.webhookSecret) w.secret = f.webhookSecret;
    if (f.webhookHeaders.trim()) w.headers = parseHeaders(f.webhookHeaders).headers;
    base.webhook = w;
  } else if (f.type === 'email') {
    base.email = {
      host: f.emailHost.trim(),
      from: f.emailFrom.trim(),
      to: f.emailTo.map((t) => t.trim()),
      security: f.emailSecurity,
    };
    if (f.emailPort.trim()) base.email.port = Number(f.emailPort);
    if (f.emailUsername) base.email.username = f.emailUsername;
    if (f.emailPassword) base.email.password = f.emailPassword;
  } else {
    base.chat = f.chatUrl.trim() ? { url: f.chatUrl.trim() } : {};
  }
  return base;
}

const fields: ChannelField[] = [
  'name',
  'type',
  'webhook.url',
  'webhook.secret',
  'webhook.headers',
  'email.host',
  'email.port',
  'email.security',
  'email.username',
  'email.password',
  'email.from',
  'email.to',
  'chat.url',
];

/** The form field a server validation error (details.field) is about. */
export function fieldForChannelError(field: string | undefined): ChannelField {
  return fields.includes(field as ChannelField) ? (field as ChannelField) : 'form';
}
