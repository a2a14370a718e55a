import { defineConfig } from '@playwright/test';

// The test script starts a dev-mode server and says where it is; nothing here starts one.
const baseURL = process.env.E2E_BASE_URL;
if (!baseURL) {
  throw new Error('Set E2E_BASE_URL to a dev-mode Account Center server, e.g. http://127.0.0.1:8099');
}

// Debian's Chromium: `npx playwright install` would download a browser, which this network refuses.
// Playwright gives every run its own empty profile directory.
const launchOptions = {
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
};

/** Tag of tests that move the server's clock far (`@server-clock` in the title). */
const SERVER_CLOCK = /@server-clock/;
/** Tests for one screen size only carry `@desktop-only` or `@phone-only` in their title. */
const NOT_ON_DESKTOP = /@server-clock|@phone-only/;
const NOT_ON_PHONE = /@server-clock|@desktop-only/;

export default defineConfig({
  testDir: './tests',
  // Writes the index of the screenshots the run put into docs/gallery/ (fixtures/gallery.ts).
  globalTeardown: './gallery-index.ts',
  outputDir: './test-results',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  forbidOnly: !!process.env.CI,
  workers: process.env.CI ? 2 : undefined,
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    baseURL,
    browserName: 'chromium',
    launchOptions,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
  },
  projects: [
    {
      name: 'desktop',
      grepInvert: NOT_ON_DESKTOP,
      use: { viewport: { width: 1280, height: 800 } },
    },
    {
      name: 'phone',
      grepInvert: NOT_ON_PHONE,
      use: {
        viewport: { width: 390, height: 844 },
        deviceScaleFactor: 3,
        isMobile: true,
        hasTouch: true,
      },
    },
    // Tests that move the server's clock by hours or days, on a server of their own
    // (fixtures/test.ts `clockServer`), one at a time: they share that server's clock.
    {
      name: 'server-clock',
      grep: SERVER_CLOCK,
      workers: 1,
      use: { viewport: { width: 1280, height: 800 } },
    },
  ],
});
