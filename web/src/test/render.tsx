// Renders a component with the providers the app uses (Mantine, a fresh QueryClient,
// a memory router) and lets a test answer API calls with a fake fetch.
import type { ReactElement } from 'react';
import { render } from '@testing-library/react';
import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router';
import { vi } from 'vitest';

export function renderWithProviders(ui: ReactElement, { route = '/' }: { route?: string } = {}) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
  const wrap = (el: ReactElement) => (
    <MantineProvider>
      <QueryClientProvider client={qc}>
        <MemoryRouter initialEntries={[route]}>{el}</MemoryRouter>
      </QueryClientProvider>
    </MantineProvider>
  );
  const result = render(wrap(ui));
  return { ...result, qc, rerender: (el: ReactElement) => result.rerender(wrap(el)) };
}

type Handler = (url: URL, init: RequestInit & { body?: string }) => { status?: number; body: unknown } | undefined;

/** Replaces fetch: each request goes to handler; unanswered requests get 404. */
export function mockFetch(handler: Handler) {
  const calls: { method: string; url: URL; body?: string; headers: Headers }[] = [];
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const req = input instanceof Request ? input : new Request(new URL(String(input), 'http://localhost'), init);
    const url = new URL(req.url, 'http://localhost');
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await req.text();
    calls.push({ method: req.method, url, body, headers: req.headers });
    const r = handler(url, { method: req.method, body }) ?? { status: 404, body: { code: 'not_found', message: 'not found' } };
    return new Response(JSON.stringify(r.body), { status: r.status ?? 200, headers: { 'Content-Type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fn);
  return calls;
}
