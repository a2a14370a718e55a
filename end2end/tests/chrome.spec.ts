import { readFileSync } from 'node:fs';
import { expect, test } from '../fixtures/test';
import { buy, readyToBuy } from '../fixtures/accounts';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

// The console's chrome, on every page. Amounts and dates are formatted by the
// browser's Intl, so they are matched on their digits, never as whole strings.

test('a sub-page highlights its section in the navigation', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  const phone = testInfo.project.name === 'phone';
  const cases: [string, string, string][] = [
    // path, the left navigation's section (desktop), the bottom tab (phone)
    ['/closure', 'Security & closure', 'Me'],
    ['/real-name', 'Billing', 'Me'],
    ['/billing/withdraw', 'Billing', 'Me'],
    ['/unsubscribe/records/999', 'Orders & unsubscribe', 'Me'],
    ['/me/close-account', 'My account', 'Me'],
    ['/products', 'Products', 'Products'],
  ];
  for (const [path, section, tab] of cases) {
    await page.goto(path);
    const nav = phone
      ? page.getByRole('navigation', { name: 'Tabs' })
      : page.getByRole('navigation', { name: 'Console' });
    const name = phone ? tab : section;
    await expect(nav.getByRole('link', { name, exact: true }), path).toHaveAttribute('aria-current', 'page');
    // Exactly one item is current.
    await expect(nav.locator('[aria-current="page"]'), path).toHaveCount(1);
  }
});

test('navigation labels and buttons stay on one line, in sentence case @desktop-only', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  await page.goto('/');
  const nav = page.getByRole('navigation', { name: 'Console' });
  await expect(nav.getByRole('link', { name: 'Overview', exact: true })).toBeVisible();
  const labels = await nav.getByRole('link').allInnerTexts();
  for (const label of labels) {
    // Sentence case: after the first word, only acronyms (RAM) keep capitals.
    const rest = label.split(' ').slice(1).filter((w) => w !== 'RAM');
    expect(rest.filter((w) => /^[A-Z]/.test(w)), `nav label "${label}"`).toEqual([]);
  }
  const wrapped = await page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('.sidenav a, .tabbar a, .button'))
      .filter((el) => el.offsetParent !== null)
      .filter((el) => {
        // A text node that wraps has more than one line box.
        const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          if (!node.textContent?.trim()) continue;
          const range = document.createRange();
          range.selectNodeContents(node);
          const tops = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
          if (tops.size > 1) return true;
        }
        return false;
      })
      .map((el) => el.innerText),
  );
  expect(wrapped, 'labels on more than one line').toEqual([]);
});

test('an unknown address stays inside the console and says what was missing', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  await page.goto('/no-such-page');
  await expect(page.getByRole('heading', { name: 'Page not found', level: 1 })).toBeVisible();
  await expect(page.getByText('/no-such-page')).toBeVisible();
  // The console's own frame is still there: its navigation and the account menu.
  const nav = testInfo.project.name === 'phone'
    ? page.getByRole('navigation', { name: 'Tabs' })
    : page.getByRole('navigation', { name: 'Console' });
  await expect(nav).toBeVisible();
  await expectAccessible(page, 'not found in the console');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'not-found');
  await page.getByRole('link', { name: 'Go to the overview' }).click();
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();

  // A record that does not exist is named, with the way back.
  await page.goto('/unsubscribe/records/999');
  await expect(page.getByRole('alert')).toContainText('There is no unsubscribe record 999 on this account.');
  await expect(page.getByRole('link', { name: 'Back to orders & unsubscribe' })).toBeVisible();
  await page.goto('/unsubscribe/review/unknown');
  // The review page has its own answer for an instance it cannot unsubscribe (missing or not running).
  await expect(page.getByRole('alert')).toContainText(/not on this account|no instance unknown/);
  await expectTouchTargets(page, testInfo);
});

test('spend history: a chart of monthly spend and refunds, a table of the same, and a CSV', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  await buy(page.request, 'ecs', 3);
  await page.goto('/');
  if (testInfo.project.name === 'phone') {
    await page.getByRole('navigation', { name: 'Tabs' }).getByRole('link', { name: 'Me', exact: true }).click();
    await page.getByRole('link', { name: 'Spend history' }).click();
  } else {
    await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name: 'Spend history' }).click();
  }
  await expect(page).toHaveURL(/\/spending$/);
  await expect(page.getByRole('heading', { name: 'Spend history', level: 1 })).toBeVisible();
  // The chart is an image with a name, described by the month's figures; the table says the same.
  const chart = page.getByRole('img', { name: 'Monthly spend and refunds' });
  await expect(chart).toBeVisible();
  await expect(chart.locator('rect.bar-spent')).toHaveCount(1);
  const table = page.getByRole('table');
  await expect(table.getByRole('columnheader', { name: 'Spent' })).toBeVisible();
  // ECS for 3 months: USD 60.00 (the products spec's figure), paid with the free credit.
  await expect(table.getByRole('row').nth(1)).toContainText(/60\.00/);
  await expectAccessible(page, 'spend history');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'spending');

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: /Download CSV/ }).click(),
  ]);
  expect(download.suggestedFilename()).toMatch(/\.csv$/);
  const csv = readFileSync(await download.path(), 'utf8');
  const lines = csv.trim().split(/\r?\n/);
  expect(lines[0]).toBe('type,id,date,description,amount,currency,status');
  expect(lines.filter((l) => l.startsWith('order,'))).toHaveLength(1);
  expect(lines.find((l) => l.startsWith('order,'))).toMatch(/,60\.00,USD,paid$/);
});
