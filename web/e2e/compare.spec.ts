// Two snapshots of the repository — the first backup of flow.spec.ts and the one
// health.spec.ts made after changing some files: find a file in both (restic find through
// the agent), and compare them (restic diff).
import { expect, test } from '@playwright/test';
import { ADMIN, loadState, sourceChanges } from './harness';
import { base, login, shot, work } from './common';

test.use({ baseURL: base });

test('find a file in every snapshot; compare two snapshots: added, removed and changed files', async ({ page }) => {
  const { hostURL } = loadState(work);
  test.skip(!hostURL, 'no enrolled host');
  const c = sourceChanges(work);
  await login(page, ADMIN);
  await page.goto(hostURL + '/snapshots');
  await expect(page.getByTestId('snapshot-row')).toHaveCount(2, { timeout: 60_000 });
  await page.getByRole('textbox', { name: 'Find a file in every snapshot' }).fill('deep.conf');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  await expect(page.getByTestId('find-summary')).toHaveText('2 matches in 2 snapshots', { timeout: 60_000 });
  await expect(page.getByRole('table', { name: 'Found files' }).getByTestId('entry-row')).toHaveCount(2);
  for (const cb of await page.getByRole('checkbox', { name: /^Compare / }).all()) await cb.check();
  await page.getByRole('button', { name: /Compare selected/ }).click();
  await expect(page.getByRole('heading', { name: 'Compare snapshots' })).toBeVisible();
  const rows = page.getByTestId('change-row');
  await expect(rows.filter({ hasText: c.added })).toHaveAttribute('data-modifier', '+', { timeout: 60_000 });
  await expect(rows.filter({ hasText: c.removed })).toHaveAttribute('data-modifier', '-');
  await expect(rows.filter({ hasText: c.changed })).toHaveAttribute('data-modifier', 'M');
  await expect(page.getByTestId('diff')).toContainText('Changed files');
  await shot(page, 'diff');
});
