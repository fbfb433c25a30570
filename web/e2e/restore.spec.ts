// Getting data back, end to end, on the host flow.spec.ts enrolled and backed up: browse
// nested folders of the real snapshot (the agent lists them; a second visit comes from the
// server's cache), build the index and search it, restore a folder to a new target and
// compare the files on disk, download a file (bytes compared) and a folder as tar.
// (flow.spec.ts checks that a viewer browses without restore or download; compare.spec.ts
// compares two snapshots.)
import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { ADMIN, loadState, sourcesOf } from './harness';
import { base, login, shot, work } from './common';

test.use({ baseURL: base });
test.describe.configure({ mode: 'serial' });

const { hostURL } = loadState(work);
const src = sourcesOf(work);
let page: Page;
let browseBase = ''; // /hosts/H/repositories/R/snapshots/S of the first snapshot

const at = (dir: string) => `${browseBase}?path=${encodeURIComponent(dir)}`;
const listing = (p: Page, dir: string) => p.getByRole('table', { name: `Contents of ${dir}` });

/** Relative path → bytes of every file below root. */
function files(root: string, rel = ''): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const name of readdirSync(path.join(root, rel))) {
    const r = path.join(rel, name);
    if (statSync(path.join(root, r)).isDirectory()) for (const [k, v] of files(root, r)) out.set(k, v);
    else out.set(r, readFileSync(path.join(root, r)));
  }
  return out;
}

test.beforeAll(async ({ browser }) => {
  page = await browser.newPage({ baseURL: base });
  await login(page, ADMIN);
});

test.afterAll(async () => {
  await page?.close();
});

test('browse nested folders of a real snapshot; the cache; index and name search', async () => {
  test.skip(!hostURL, 'no enrolled host');
  await page.goto(hostURL + '/snapshots');
  await page.getByTestId('snapshot-row').first().getByRole('link', { name: /^Browse snapshot/ }).click();
  await expect(page).toHaveURL(/\/snapshots\/[0-9a-f]{64}$/);
  browseBase = new URL(page.url()).pathname;
  // It opens at the backed-up folder; the agent lists each folder the first time.
  await expect(listing(page, src.small)).toContainText('blob.bin', { timeout: 60_000 });
  await listing(page, src.small).getByRole('link', { name: 'etc', exact: true }).click();
  await expect(listing(page, `${src.small}/etc`).getByTestId('entry-row')).toHaveCount(41);
  await listing(page, `${src.small}/etc`).getByRole('link', { name: 'app', exact: true }).click();
  await listing(page, `${src.small}/etc/app`).getByRole('link', { name: 'conf.d', exact: true }).click();
  await expect(listing(page, `${src.small}/etc/app/conf.d`)).toContainText('deep.conf');
  await expect(page.getByTestId('listing-info')).toContainText('listed by the host’s agent');
  // Up through the breadcrumbs: a folder seen before comes from the server's cache.
  const crumbs = page.getByTestId('path-crumbs');
  await crumbs.getByRole('link', { name: 'etc', exact: true }).click();
  await expect(listing(page, `${src.small}/etc`)).toBeVisible();
  await page.reload(); // past the page's own cache: the server answers without the agent
  await expect(page.getByTestId('listing-info')).toContainText('from the server’s cache');
  await crumbs.getByRole('link', { name: '/', exact: true }).click();
  await expect(listing(page, '/')).toContainText(work.split('/')[1]);

  // Index the snapshot, then search it by name.
  await page.getByRole('button', { name: 'Build index' }).click();
  await expect(page.getByTestId('index-state')).toContainText('indexed', { timeout: 60_000 });
  await page.getByRole('textbox', { name: 'Search this snapshot' }).fill('deep');
  await page.getByRole('textbox', { name: 'Search this snapshot' }).press('Enter');
  await expect(page.getByRole('table', { name: 'Search results' })).toContainText(`${src.small}/etc/app/conf.d/deep.conf`);
  await expect(page.getByTestId('search-info')).toContainText('index');

  await page.goto(at(`${src.small}/etc`));
  await page.getByRole('checkbox', { name: 'Select file-1.conf' }).check();
  await page.getByRole('checkbox', { name: 'Select file-2.conf' }).check();
  await expect(page.getByTestId('selection-bar')).toContainText('2 selected');
  await shot(page, 'browser', { top: true });
});

test('restore a folder to a new target: the job succeeds and the files are on disk', async () => {
  test.skip(!browseBase, 'no snapshot browsed');
  const target = path.join(work, 'restored');
  rmSync(target, { recursive: true, force: true });
  await page.goto(at(src.small));
  await page.getByRole('checkbox', { name: 'Select etc' }).check();
  await page.getByRole('button', { name: 'Restore selected…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  await expect(dialog.getByText('Enter the directory to restore into')).toBeVisible();
  await dialog.getByRole('textbox', { name: /Target directory/ }).fill(target);
  await expect(dialog.getByTestId('restore-preview')).toHaveText(`${target}${src.small}/etc`);
  await shot(page, 'restore');
  await dialog.getByRole('button', { name: 'Restore', exact: true }).click();
  await dialog.getByRole('link', { name: 'Follow the restore job' }).click();
  await expect(page).toHaveURL(/\/jobs\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 2 })).toContainText('restore job');
  await expect(page.locator('[data-status]').first()).toHaveAttribute('data-status', 'succeeded', { timeout: 90_000 });

  const want = files(path.join(src.small, 'etc'));
  const got = files(path.join(target, src.small, 'etc'));
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, v] of want) expect(got.get(k)?.equals(v), k).toBe(true);
});

test('download a file (same bytes as the source) and a folder as tar', async () => {
  test.skip(!browseBase, 'no snapshot browsed');
  await page.goto(at(src.small));
  const fileDl = page.waitForEvent('download');
  await listing(page, src.small).getByRole('button', { name: 'Download blob.bin' }).click();
  const d = await fileDl;
  expect(d.suggestedFilename()).toBe('blob.bin');
  expect(readFileSync((await d.path())!).equals(readFileSync(src.blob))).toBe(true);

  const dirDl = page.waitForEvent('download');
  await listing(page, src.small).getByRole('button', { name: 'Download etc' }).click();
  await page.getByRole('menuitem', { name: 'as .tar' }).click();
  const t = await dirDl;
  expect(t.suggestedFilename()).toMatch(/\.tar$/);
  const tar = readFileSync((await t.path())!);
  expect(tar.includes(Buffer.from('etc/app/conf.d/deep.conf'))).toBe(true);
  expect(tar.includes(readFileSync(path.join(src.small, 'etc', 'app', 'conf.d', 'deep.conf')))).toBe(true);
});
