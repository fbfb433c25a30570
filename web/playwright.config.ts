// End-to-end tests: playwright-core drives Debian's Chromium (no downloaded browser)
// against the real server on PostgreSQL with a real agent and restic (e2e/global-setup.ts).
import { defineConfig } from '@playwright/test';

const chromium = process.env.RM_CHROMIUM ?? '/usr/bin/chromium';

export default defineConfig({
  testDir: './e2e',
  globalSetup: './e2e/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  // One server and one agent serve every spec (global-setup.ts); each spec builds on what
  // the one before left (the enrolled host, its snapshots), so they run in this order.
  // restore runs before health so that the first backup is over a minute old when health
  // sets a one-minute objective; health makes the second backup that compare diffs.
  projects: [
    { name: 'journey', testMatch: 'flow.spec.ts' },
    { name: 'restore', testMatch: 'restore.spec.ts', dependencies: ['journey'] },
    { name: 'health', testMatch: 'health.spec.ts', dependencies: ['restore'] },
    { name: 'compare', testMatch: 'compare.spec.ts', dependencies: ['health'] },
  ],
  outputDir: 'test-results',
  use: {
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    colorScheme: 'light',
    actionTimeout: 20_000,
    navigationTimeout: 20_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: chromium,
      // Flags from docs: without the networking ones Chromium floods the closed network.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      // Playwright gives every launch a fresh temporary --user-data-dir of its own.
    },
  },
});
