// Fleet health end to end, on the host flow.spec.ts enrolled: a webhook channel with a
// signing secret ("send test" reaches a real HTTP receiver with a valid signature), a
// routing rule, then an objective override of one minute on the host, whose last backup is
// older than that: an alert opens — on the dashboard, the alerts page and the alert's page,
// delivered to the webhook — and the next backup resolves it (a resolve notification too).
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test, type Page } from '@playwright/test';
import { ADMIN, changeSources, loadState } from './harness';
import { base, login, shot, work } from './common';

test.use({ baseURL: base });
test.describe.configure({ mode: 'serial' });

const SECRET = 'e2e-webhook-signing-secret';
type Hook = { path: string; event: string; signature: string; body: string };
const received: Hook[] = [];
let receiver: http.Server;
let hookURL = '';
let page: Page;
const { hostURL } = loadState(work);

function validSignature(h: Hook) {
  return h.signature === 'sha256=' + createHmac('sha256', SECRET).update(h.body).digest('hex');
}

test.beforeAll(async ({ browser }) => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', event: String(req.headers['x-rm-event'] ?? ''), signature: String(req.headers['x-rm-signature-256'] ?? ''), body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  hookURL = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  page = await browser.newPage({ baseURL: base });
  await login(page, ADMIN);
});

test.afterAll(async () => {
  await page?.close();
  await new Promise((r) => receiver?.close(r));
});

test('notifications: a signed webhook channel, send test, a routing rule', async () => {
  await page.getByRole('link', { name: 'Notifications' }).click();
  await expect(page.getByRole('heading', { name: 'Notifications' })).toBeVisible();
  await page.getByRole('button', { name: 'Add channel' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: /^Name/ }).fill('ops webhook');
  await dialog.getByRole('button', { name: 'Add channel' }).click();
  await expect(dialog.getByText('Required')).toBeVisible(); // the URL
  await dialog.getByRole('textbox', { name: /^URL/ }).fill(hookURL);
  await dialog.getByLabel(/Signing secret/).fill(SECRET);
  await dialog.getByRole('button', { name: 'Add channel' }).click();
  const row = page.getByTestId('channel-row').filter({ hasText: 'ops webhook' });
  await expect(row).toContainText('http://127.0.0.1');
  await expect(row).toContainText('signed');
  await expect(page.getByRole('main')).not.toContainText(SECRET);

  await row.getByRole('button', { name: 'Send test' }).click();
  await expect(row.getByTestId('test-result')).toHaveText('test delivered');
  const test1 = received.find((h) => h.event === 'test');
  expect(test1, 'the receiver got the test message').toBeDefined();
  expect(validSignature(test1!)).toBe(true);
  await shot(page, 'notifications');

  await page.getByRole('tab', { name: 'Rules' }).click();
  await page.getByRole('button', { name: 'Add rule' }).click();
  const rd = page.getByRole('dialog');
  await rd.getByRole('textbox', { name: /^Name/ }).fill('every alert to ops');
  await expect(rd.getByRole('checkbox', { name: 'Alert opened' })).toBeChecked();
  await rd.getByRole('button', { name: 'Add rule' }).click();
  await expect(page.getByTestId('rule-row')).toContainText('every alert to ops');
  await expect(page.getByTestId('rule-row')).toContainText('ops webhook');
});

test('an objective override opens an alert; the next backup resolves it — dashboard, alerts, webhook', async () => {
  test.skip(!hostURL, 'no enrolled host');
  await page.goto(hostURL!);
  const card = page.getByTestId('host-health');
  await expect(card.getByTestId('objective')).toContainText('derived from its backup schedules');
  await card.getByRole('button', { name: 'Override objective' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('textbox', { name: 'Maximum age' }).fill('1');
  await dialog.getByRole('combobox', { name: 'Unit' }).click();
  await page.getByRole('option', { name: 'minutes' }).click();
  await dialog.getByRole('button', { name: 'Set objective' }).click();
  await expect(card.getByTestId('objective')).toContainText('set by an operator');
  // The last backup (flow.spec.ts) is most of a minute old by now: at risk past 45 s (a
  // warning alert opens), violated past 60 s (it escalates to critical). The server
  // evaluates every second (-health-interval 1s).
  await expect(card.getByTestId('objective-state')).toHaveAttribute('data-state', /at_risk|violated/, { timeout: 45_000 });

  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByTestId('objective-row').first()).toHaveAttribute('data-state', /at_risk|violated/);
  await expect(page.getByTestId('open-alerts')).not.toHaveText('0');
  await shot(page, 'dashboard');

  await page.getByRole('navigation', { name: 'Main navigation' }).getByRole('link', { name: /Alerts/ }).click();
  const alertRow = page.getByTestId('alert-row').filter({ hasText: 'Backup objective' });
  await expect(alertRow).toHaveAttribute('data-state', 'open');
  await shot(page, 'alerts');
  await alertRow.getByRole('link', { name: 'Backup objective' }).click();
  await expect(page.getByTestId('alert-state')).toHaveText('open');
  const alertURL = page.url();
  // The rule routed it to the webhook: delivered, signed, its attempt logged.
  const opened = page.getByTestId('delivery-row').filter({ hasText: 'alert.opened' });
  await expect(opened).toHaveAttribute('data-status', 'delivered', { timeout: 30_000 });
  await opened.click();
  await expect(page.getByRole('dialog').getByTestId('attempt-row').first()).toContainText('ok');
  await page.keyboard.press('Escape');
  const hook = received.find((h) => h.event === 'alert.opened');
  expect(hook, 'the webhook got alert.opened').toBeDefined();
  expect(validSignature(hook!)).toBe(true);
  expect(JSON.parse(hook!.body)).toMatchObject({ event: 'alert.opened', alert: { condition: 'backup_objective' } });

  // The schedule gets a Healthchecks-style ping URL (on the same receiver).
  await page.goto(hostURL + '/schedules');
  await page.getByRole('link', { name: 'Nightly config', exact: true }).click();
  const ping = page.getByTestId('ping-card');
  await expect(ping.getByTestId('ping-state')).toHaveText('not set');
  await ping.getByRole('textbox', { name: 'Ping URL' }).fill(hookURL.replace('/hook', '/ping/nightly'));
  await ping.getByRole('button', { name: 'Save ping URL' }).click();
  await expect(ping.getByTestId('ping-state')).toContainText('pings http://127.0.0.1');

  // The next backup succeeds: the alert resolves and a resolve notification goes out.
  // (Some files change first, for compare.spec.ts.)
  changeSources(work);
  await page.goto(hostURL + '/schedules');
  await page.getByRole('button', { name: 'Run Nightly config now' }).click();
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'succeeded', { timeout: 90_000 });
  // The success ping. (/start goes out only when an evaluation round sees the job running:
  // a backup this short may start and finish between two rounds.)
  await expect.poll(() => received.some((h) => h.path === '/ping/nightly'), { timeout: 30_000 }).toBe(true);
  await page.goto(alertURL);
  await expect(page.getByTestId('alert-state')).toHaveText('resolved', { timeout: 30_000 });
  await expect(page.getByTestId('delivery-row').filter({ hasText: 'alert.resolved' })).toHaveAttribute('data-status', 'delivered', { timeout: 30_000 });
  const resolved = received.find((h) => h.event === 'alert.resolved');
  expect(resolved && validSignature(resolved)).toBe(true);
  await page.goto('/alerts');
  await expect(page.getByText('No open alerts')).toBeVisible();

  // Back to the objective derived from the schedule.
  await page.goto(hostURL!);
  await card.getByRole('button', { name: 'Use the derived objective' }).click();
  await expect(card.getByTestId('objective')).toContainText('derived from its backup schedules');
  await expect(card.getByTestId('objective-state')).toHaveAttribute('data-state', 'ok');
});
