// The typed API client: openapi-fetch over the types that openapi-typescript generates
// from openapi.yaml (schema.d.ts). Every fetcher in api/queries goes through `call`,
// which turns an error answer into an ApiError carrying the server's stable code and,
// for validation errors, the field it is about.
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Host = Schemas['Host'];
export type Job = Schemas['Job'];
export type Schedule = Schemas['Schedule'];
export type ScheduleInput = Schemas['ScheduleInput'];
export type Repository = Schemas['Repository'];
export type Snapshot = Schemas['Snapshot'];
export type User = Schemas['User'];
export type Me = Schemas['Me'];
export type Retention = NonNullable<Schedule['retention']>;
export type Progress = NonNullable<Job['progress']>;
export type LogLine = Schemas['LogLine'];
export type Role = 'viewer' | 'operator' | 'admin';
export type Alert = Schemas['Alert'];
export type HostHealth = Schemas['HostHealth'];
export type HealthSummary = Schemas['HealthSummary'];
export type NotificationChannel = Schemas['NotificationChannel'];
export type NotificationChannelInput = Schemas['NotificationChannelInput'];
export type NotificationRule = Schemas['NotificationRule'];
export type NotificationRuleInput = Schemas['NotificationRuleInput'];
export type NotificationDelivery = Schemas['NotificationDelivery'];
export type DirEntry = Schemas['DirEntry'];
export type DirPage = Schemas['DirPage'];
export type BrowsePending = Schemas['BrowsePending'];
export type RestoreRequest = Schemas['RestoreRequest'];

/** The cookie that holds the session's CSRF token (readable by scripts by design). */
export const CSRF_COOKIE = 'rm_csrf';

export function readCookie(name: string): string | undefined {
  if (typeof document === 'undefined') return undefined;
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

const safe = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Adds the double-submit CSRF header to state-changing requests. */
export const csrfMiddleware: Middleware = {
  onRequest({ request }) {
    if (!safe.has(request.method.toUpperCase())) {
      const token = readCookie(CSRF_COOKIE);
      if (token) request.headers.set('X-CSRF-Token', token);
    }
    return request;
  },
};

export const api = createClient<paths>({
  baseUrl: (typeof window !== 'undefined' ? window.location.origin : '') + '/api/v1',
  credentials: 'same-origin',
  // Looked up per call (not captured once), so tests can replace fetch.
  fetch: (req) => globalThis.fetch(req),
});
api.use(csrfMiddleware);

/** An error answer of the API: {code, message, details}. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }
  /** The request field a validation error is about (details.field), if any. */
  get field(): string | undefined {
    const d = this.details as { field?: unknown } | undefined;
    return d && typeof d.field === 'string' ? d.field : undefined;
  }
}

export function toApiError(status: number, body: unknown): ApiError {
  const b = (body ?? {}) as { code?: unknown; message?: unknown; details?: unknown };
  const code = typeof b.code === 'string' ? b.code : status === 0 ? 'network' : `http_${status}`;
  const message =
    typeof b.message === 'string' && b.message !== ''
      ? b.message
      : status === 0
        ? 'The server cannot be reached.'
        : `The server answered ${status}.`;
  return new ApiError(status, code, message, b.details);
}

type Result<T> = { data?: T; error?: unknown; response: Response };

/** Awaits an openapi-fetch call and returns its data, or throws an ApiError. */
export async function call<T>(p: Promise<Result<T>>): Promise<T> {
  let r: Result<T>;
  try {
    r = await p;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    throw new ApiError(0, 'network', 'The server cannot be reached.');
  }
  if (r.error !== undefined || !r.response.ok) throw toApiError(r.response.status, r.error);
  return r.data as T;
}

/** An answer of a request the host's agent works on: the result, or 202 "ask again". */
export type AgentAnswer<T> = { status: 200; data: T } | { status: 202; pending: BrowsePending };

/** Like call, but a 202 (the agent has not answered yet) is an answer too. */
export async function callAgent<T>(p: Promise<Result<unknown>>): Promise<AgentAnswer<T>> {
  let r: Result<unknown>;
  try {
    r = await p;
  } catch (e) {
    if (e instanceof ApiError) throw e;
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', 'The server cannot be reached.');
  }
  if (r.error !== undefined || !r.response.ok) throw toApiError(r.response.status, r.error);
  if (r.response.status === 202) return { status: 202, pending: r.data as unknown as BrowsePending };
  return { status: 200, data: r.data as T };
}

/** A human message for any error thrown by a fetcher. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function isApiError(e: unknown, status?: number): e is ApiError {
  return e instanceof ApiError && (status === undefined || e.status === status);
}
