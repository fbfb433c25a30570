// The operator's main journey, end to end, against the real server, agent and restic:
// log in, enrol a host, configure a repository, schedule a backup, run it and watch it
// live, see the snapshot, cancel a long job, and check a viewer sees no write actions.
// Screenshots of each main page go to $RM_SCREENSHOT_DIR (npm run screenshots writes
// docs/screenshots/).
import { expect, test, type Page } from '@playwright/test';
import { ADMIN, Agent, VIEWER, makeSources, saveState, sourcesOf } from './harness';
import { base, login, shot, work } from './common';

const agentBin = process.env.RM_E2E_AGENT ?? '';
const restic = process.env.RM_E2E_RESTIC ?? '';

test.use({ baseURL: base });
test.describe.configure({ mode: 'serial' });

async function logout(page: Page) {
  await page.getByRole('button', { name: 'Account menu' }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeVisible();
}

async function pickOption(page: Page, label: string | RegExp, option: string | RegExp) {
  await page.getByRole('combobox', { name: label }).click();
  await page.getByRole('option', { name: option }).click();
}

// One signed-in admin page for the whole journey (the first test signs in).
let page: Page;
test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ baseURL: base });
});
test.afterAll(async () => {
  await page?.close();
});

// The agent keeps running after this file: the later specs (health, restore) use the
// same host. The global teardown stops it.
let agent: Agent | undefined;
let hostURL = '';
let sources: ReturnType<typeof makeSources>;

test('login page, wrong password, sign in', async () => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByRole('heading', { name: 'Restic Manager' })).toBeVisible();
  await shot(page, 'login');
  await page.getByLabel('Email').fill(ADMIN.email);
  await page.getByLabel(/^Password/).fill('not-the-password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText(/wrong email or password/i);
  await login(page, ADMIN);
  await expect(page.getByTestId('account-menu')).toBeVisible();
});

test('add a host through the enrolment flow', async () => {
  test.skip(!agentBin || !restic, 'the agent does not build yet or restic is missing');
  sources = makeSources(work);
  await page.getByRole('link', { name: 'Add a host' }).first().click();
  await expect(page.getByRole('heading', { name: 'Add a host' })).toBeVisible();
  await page.getByLabel('Description').fill('e2e host');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByTestId('enrollment-token').innerText()).trim();
  expect(token).toMatch(/^rme_/);
  const linux = await page.getByTestId('linux-commands').innerText();
  expect(linux).toContain(`restic-manager-agent enroll --server ${base} --token ${token}`);
  await page.getByRole('tab', { name: 'Windows' }).click();
  await expect(page.getByTestId('windows-commands')).toContainText('restic-manager-agent.exe enroll');
  await page.getByRole('tab', { name: 'Linux' }).click();
  await shot(page, 'add-host');

  agent = new Agent(agentBin, restic, work, 'web1');
  agent.enroll(base, token);
  agent.start();
  const enrolled = page.getByTestId('enrolled-host');
  await expect(enrolled).toBeVisible({ timeout: 30_000 });
  await enrolled.getByRole('link').click();
  await expect(page).toHaveURL(/\/hosts\/[0-9a-f-]{36}$/);
  hostURL = new URL(page.url()).pathname;
  saveState(work, { hostURL, hostId: hostURL.split('/').pop() });
  await expect(page.getByLabel('Status: online')).toBeVisible({ timeout: 30_000 });
});

test('configure a repository, initialise it and test the connection', async () => {
  test.skip(!hostURL, 'no enrolled host');
  await page.goto(hostURL + '/repositories');
  await page.getByRole('button', { name: 'Add repository' }).click();
  const form = page.getByRole('form', { name: 'Repository' });
  await form.getByRole('textbox', { name: /^Name/ }).fill('local');
  await form.getByLabel('Repository URL').fill(sources.repo);
  await form.getByLabel('Repository password').fill('correct horse battery staple');
  await form.getByRole('button', { name: 'Add repository' }).click();
  const card = page.getByTestId('repository-card');
  await expect(card).toContainText('password set');
  await expect(card).not.toContainText('correct horse');

  // Initialise it with a one-off job from "Run now".
  await page.getByRole('button', { name: 'Run now' }).click();
  await pickOption(page, 'Kind', 'Initialise repository');
  await page.getByRole('dialog').getByRole('button', { name: 'Run now' }).click();
  await expect(page).toHaveURL(/\/jobs\//);
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });

  await page.goto(hostURL + '/repositories');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByTestId('test-result')).toContainText('Connection works', { timeout: 60_000 });
});

test('schedule editor: validation, retention builder, cron preview; create a backup schedule', async () => {
  test.skip(!hostURL, 'no enrolled host');
  await page.goto(hostURL + '/schedules');
  await page.getByRole('link', { name: 'New schedule' }).first().click();
  await expect(page.getByRole('heading', { name: 'New schedule' })).toBeVisible();
  await page.getByRole('textbox', { name: /^Name/ }).fill('Nightly config');

  // The retention builder refuses an empty policy.
  await page.getByText('Forget', { exact: true }).click();
  await page.getByRole('button', { name: 'Clear' }).click();
  await page.getByRole('button', { name: 'Create schedule' }).click();
  await expect(page.getByTestId('retention-error')).toContainText('Keep at least one snapshot');
  await expect(page).toHaveURL(/schedules\/new/);
  await page.getByText('Backup', { exact: true }).click();

  const paths = page.getByRole('combobox', { name: /^Paths/ });
  await paths.fill(sources.small);
  await paths.press('Enter');
  await page.getByRole('combobox', { name: /^Tags/ }).fill('e2e');
  await page.getByRole('combobox', { name: /^Tags/ }).press('Enter');

  // The cron preview comes from the server.
  await page.getByLabel('Cron').fill('30 2 * * *');
  await expect(page.getByTestId('cron-words')).toContainText('02:30');
  await expect(page.getByTestId('cron-next').getByRole('listitem')).toHaveCount(5);
  await shot(page, 'schedule-editor');

  // A server validation error lands on its field: a hook name the server refuses.
  await page.getByLabel('Before (hook name)').fill('not a valid name!');
  await page.getByRole('button', { name: 'Create schedule' }).click();
  await expect(page.getByLabel('Before (hook name)')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByText(/hook name .* must be/)).toBeVisible();
  await page.getByLabel('Before (hook name)').fill('');

  await page.getByRole('button', { name: 'Create schedule' }).click();
  await expect(page).toHaveURL(new RegExp(`${hostURL}/schedules$`));
  await expect(page.getByTestId('schedule-row')).toContainText('Nightly config');
  await expect(page.getByTestId('schedule-row')).toContainText('At 02:30');
});

test('run it now: live progress and log reach success; the snapshot appears', async () => {
  test.skip(!hostURL, 'no enrolled host');
  await page.goto(hostURL + '/schedules');
  await page.getByRole('button', { name: 'Run Nightly config now' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.getByTestId('stream-state')).toBeVisible();
  const log = page.getByTestId('log-viewer');
  await expect(log).toContainText(/snapshot [0-9a-f]{8} saved|Added to the repository|processed/i, { timeout: 90_000 });
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'succeeded', { timeout: 90_000 });
  await expect(page.getByTestId('progress-percent')).toHaveText('100%');
  await expect(page.getByTestId('final-stats')).toContainText('Snapshot');
  // Log search and pause.
  await page.getByLabel('Search the log').fill('snapshot');
  await expect(page.getByText(/lines match/)).toBeVisible();
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByRole('button', { name: 'Resume' })).toHaveAttribute('aria-pressed', 'true');
  await page.getByLabel('Search the log').fill('');
  await page.getByRole('button', { name: 'Resume' }).click();
  await shot(page, 'job-detail');

  await page.goto(hostURL + '/snapshots');
  await expect(page.getByTestId('snapshot-row').first()).toContainText(sources.small, { timeout: 60_000 });
  await expect(page.getByTestId('snapshot-row').first()).toContainText('e2e');
  await shot(page, 'host-snapshots');
  await page.goto(hostURL);
  // The server evaluated the backup objective (derived from the daily schedule).
  await expect(page.getByTestId('objective-state')).toHaveAttribute('data-state', 'ok');
  await expect(page.getByTestId('objective-state')).toHaveText('On time');
  await expect(page.getByTestId('repo-charts')).toBeVisible();
  await shot(page, 'host-overview');
});

test('cancel a long job', async () => {
  test.skip(!hostURL, 'no enrolled host');
  await page.goto(hostURL);
  await page.getByRole('button', { name: 'Run now' }).click();
  const dialog = page.getByRole('dialog');
  const paths = dialog.getByRole('combobox', { name: /^Paths/ });
  await paths.fill(sources.big);
  await paths.press('Enter');
  await dialog.getByRole('button', { name: 'Run now' }).click();
  await expect(page).toHaveURL(/\/jobs\//);
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
  // Live progress arrives before we cancel.
  await expect(page.getByTestId('progress-percent')).not.toHaveText('0%', { timeout: 60_000 });
  await shot(page, 'job-running');
  await page.getByRole('button', { name: 'Cancel job' }).click();
  await page.getByRole('dialog').getByLabel(/Reason/).fill('e2e: too long');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel job' }).click();
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'cancelled', { timeout: 60_000 });
});

test('admin pages: users, API tokens (shown once), audit log; create a viewer', async () => {
  await page.getByRole('link', { name: 'Users' }).click();
  await page.getByRole('button', { name: 'Add user' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Email').fill(VIEWER.email);
  await dialog.getByRole('textbox', { name: /^Name/ }).fill('Vera Viewer');
  await dialog.getByLabel('Initial password').fill(VIEWER.password);
  await dialog.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByRole('table', { name: 'Users' })).toContainText(VIEWER.email);
  await shot(page, 'users');

  await page.getByRole('link', { name: 'API tokens' }).click();
  await page.getByRole('button', { name: 'New token' }).click();
  await page.getByRole('dialog').getByRole('textbox', { name: /^Name/ }).fill('monitoring');
  await page.getByRole('dialog').getByRole('button', { name: 'Create token' }).click();
  await expect(page.getByTestId('api-token-secret')).toContainText(/^rmt_/);
  await page.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByRole('table', { name: 'API tokens' })).toContainText('monitoring');
  await expect(page.getByRole('table', { name: 'API tokens' })).not.toContainText('rmt_');
  await shot(page, 'api-tokens');

  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByTestId('audit-row').first()).toBeVisible();
  await shot(page, 'audit-log');

  await page.getByRole('link', { name: 'Hosts' }).click();
  await expect(page.getByRole('heading', { name: 'Hosts' })).toBeVisible();
  await shot(page, 'hosts');
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await expect(page.getByTestId('hosts-online')).toBeVisible();
  await expect(page.getByTestId('objective-summary')).toContainText('1 / 1');
  // (dashboard.png is taken by health.spec.ts, with an alert open.) Dark mode.
  await page.getByRole('button', { name: 'Switch to dark mode' }).click();
  await expect(page.locator('html')).toHaveAttribute('data-mantine-color-scheme', 'dark');
  await shot(page, 'dashboard-dark');
  await page.getByRole('button', { name: 'Switch to light mode' }).click();
});

test('a viewer sees no write actions, and browses snapshots without restore or download', async ({ browser }) => {
  const page = await browser.newPage({ baseURL: base });
  await login(page, VIEWER);
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  await expect(nav.getByRole('link', { name: 'Hosts' })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Add a host' })).toHaveCount(0);
  await expect(nav.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await page.goto('/hosts');
  await expect(page.getByRole('link', { name: 'Add a host' })).toHaveCount(0);
  await page.goto('/add-host');
  await expect(page.getByText('Not available to your role')).toBeVisible();
  if (hostURL) {
    await page.goto(hostURL);
    await expect(page.getByRole('heading', { level: 2 })).toBeVisible();
    await expect(page.getByRole('button', { name: 'Run now' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'More host actions' })).toHaveCount(0);
    await page.goto(hostURL + '/schedules');
    await expect(page.getByTestId('schedule-row').first()).toBeVisible();
    await expect(page.getByRole('link', { name: 'New schedule' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: /Run .* now/ })).toHaveCount(0);
    await expect(page.getByRole('switch').first()).toBeDisabled();
    await page.goto(hostURL + '/repositories');
    await expect(page.getByTestId('repository-card').first()).toBeVisible();
    await expect(page.getByRole('button', { name: 'Add repository' })).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Test connection' })).toHaveCount(0);
    await page.goto(hostURL + '/jobs');
    await page.getByTestId('job-row').first().getByRole('link').first().click();
    await expect(page.locator('[data-status]').first()).toBeVisible();
    await expect(page.getByRole('button', { name: 'Cancel job' })).toHaveCount(0);
    // Viewers browse snapshots, but are offered neither restore nor download.
    const small = sourcesOf(work).small;
    await page.goto(hostURL + '/snapshots');
    await page.getByTestId('snapshot-row').first().getByRole('link', { name: /^Browse snapshot/ }).click();
    await expect(page.getByRole('table', { name: `Contents of ${small}` })).toContainText('blob.bin', { timeout: 60_000 });
    await expect(page.getByText('Restoring and downloading need the operator role.')).toBeVisible();
    await expect(page.getByRole('button', { name: /Download|Restore/ })).toHaveCount(0);
    await expect(page.getByRole('checkbox')).toHaveCount(0);
    // And the server refuses write actions anyway.
    const snapshotPath = new URL(page.url()).pathname;
    const statuses = await page.evaluate(async (snap) => {
      const csrf = document.cookie.split('; ').find((c) => c.startsWith('rm_csrf='))?.split('=')[1] ?? '';
      const post = (url: string, body: unknown) =>
        fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf }, body: JSON.stringify(body) }).then((r) => r.status);
      return [
        await post('/api/v1/enrollment-tokens', {}),
        await post(`/api/v1${snap}/downloads`, { path: '/' }),
        await post(`/api/v1${snap}/restore`, { target: '/tmp/x' }),
      ];
    }, snapshotPath);
    expect(statuses).toEqual([403, 403, 403]);
  }
  await logout(page);
  await page.close();
});
