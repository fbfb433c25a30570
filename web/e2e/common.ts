// Helpers the spec files share: screenshots, logging in, the shared state of the run.
import { expect, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export const base = process.env.RM_E2E_BASE_URL!;
export const work = process.env.RM_E2E_WORK!;
export const shots = process.env.RM_SCREENSHOT_DIR ? path.resolve(process.env.RM_SCREENSHOT_DIR) : path.resolve('test-results/screenshots');
mkdirSync(shots, { recursive: true });

/** A screenshot of the viewport, without the toasts of earlier actions. */
export async function shot(page: Page, name: string, opts: { top?: boolean } = {}) {
  await page.mouse.move(0, 0);
  if (opts.top) await page.evaluate(() => window.scrollTo(0, 0));
  const hide = await page.addStyleTag({ content: '.mantine-Notifications-root { display: none !important; }' });
  await page.waitForTimeout(500);
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: false, animations: 'disabled', caret: 'hide' });
  await hide.evaluate((el) => (el as Element).remove());
}

export async function login(page: Page, who: { email: string; password: string }) {
  await page.goto('/login');
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel(/^Password/).fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Fleet dashboard' })).toBeVisible();
}
