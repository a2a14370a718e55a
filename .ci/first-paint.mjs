// How long a first visit waits for the sign-in form on a slow phone: Lighthouse's "Slow 4G"
// network (150 ms round trip, 1.6 Mbit/s down, 750 kbit/s up, with its 0.9 throughput factor)
// and 4x CPU throttling, set through the DevTools protocol. Printed, not asserted: figures on a
// shared 2-core machine vary; the test suite keeps its assertions to what does not.
//
//   node .ci/first-paint.mjs http://127.0.0.1:8104 [runs=5] [path=/]
//
// Each run is a new browser context (empty cache), opening `path` signed out. Two times, from
// the page's own clock (performance.now(), from navigation start), read by a MutationObserver
// installed before the page's scripts: when the sign-in form's email field is first in the
// document (the page's own form, which the server sends a visitor without a session), and when
// the app has taken the form over (the page's copy gone, the app's field in place), from which
// on a press of Sign In is sent at once rather than held for the app.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

// Playwright lives in end2end/node_modules; resolve it from there.
const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'end2end', 'package.json'));
const { chromium } = require('playwright-core');

const [base, runsArg = '5', path = '/'] = process.argv.slice(2);
if (!base) {
  console.error('usage: node .ci/first-paint.mjs <base url> [runs] [path]');
  process.exit(2);
}
const runs = Number(runsArg);

const SLOW_4G = {
  offline: false,
  latency: 150,
  downloadThroughput: (1.6 * 1024 * 1024 / 8) * 0.9,
  uploadThroughput: (750 * 1024 / 8) * 0.9,
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

const times = [];
const appTimes = [];
for (let i = 0; i < runs; i++) {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  await page.addInitScript(() => {
    const field = () => document.querySelector('form input[type="email"], form input[autocomplete="username"]');
    new MutationObserver((_, observer) => {
      if (!field()) return;
      window.__signInShownAt ??= performance.now();
      if (!document.getElementById('sign-in-shell')) {
        window.__appFormAt = performance.now();
        observer.disconnect();
      }
    }).observe(document, { childList: true, subtree: true });
  });
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', SLOW_4G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
  const requests = [];
  page.on('request', (r) => requests.push(new URL(r.url()).pathname));
  await page.goto(new URL(path, base).href);
  await page.waitForFunction(() => window.__appFormAt !== undefined, null, { timeout: 30_000 });
  const [shownAt, appAt] = await page.evaluate(() => [window.__signInShownAt, window.__appFormAt]);
  times.push(shownAt);
  appTimes.push(appAt);
  const count = (p) => requests.filter((r) => r.endsWith(p)).length;
  console.log(`run ${i + 1}: sign-in form after ${(shownAt / 1000).toFixed(2)} s, the app's after ` +
    `${(appAt / 1000).toFixed(2)} s (requests: /api/session ×${count('/api/session')}, ` +
    `app_bg.wasm ×${count('app_bg.wasm')}, ${requests.length} in all)`);
  await context.close();
}
await browser.close();

const summary = (values) => {
  values.sort((a, b) => a - b);
  const seconds = (ms) => `${(ms / 1000).toFixed(2)} s`;
  return `${seconds(values[Math.floor(values.length / 2)])} (min ${seconds(values[0])}, max ${seconds(values[values.length - 1])})`;
};
console.log(`median of ${runs}, Slow 4G + 4x CPU, ${path}: sign-in form ${summary(times)}; ` +
  `taken over by the app ${summary(appTimes)}`);
