import { expect, test } from '../fixtures/test';
import type { Locator, Page } from '@playwright/test';
import { buy, readyToBuy, renew, seedDemo } from '../fixtures/accounts';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

/** The amount in a cell's text, e.g. "USD 1,234.50" → 1234.5. */
function amountOf(text: string): number {
  const digits = text.match(/-?[\d,]+\.\d\d/);
  expect(digits, `an amount in "${text}"`).not.toBeNull();
  return Number(digits![0].replace(/,/g, ''));
}

/** The amounts of one column (by its index among the cells) of each row, top to bottom. */
async function amounts(table: Locator, column: number): Promise<number[]> {
  const rows = table.getByRole('row');
  const out: number[] = [];
  for (let i = 1; i < (await rows.count()); i++) {
    // Counted with the cells a phone hides (order time, paid), so the column is the same.
    out.push(amountOf((await rows.nth(i).getByRole('cell', { includeHidden: true }).nth(column).textContent()) ?? ''));
  }
  return out;
}

/** The column of the cash paid. */
const PAID = 6;

function resourceRow(page: Page, id: string): Locator {
  return page.getByRole('row').filter({ has: page.getByText(id, { exact: true }) });
}

test('resources are a sortable table with copyable IDs; a phone shows one compact row each and hides the filters behind a button', async ({ page, context }, testInfo) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await readyToBuy(page.request, testInfo);
  const short = await buy(page.request, 'ecs', 1);
  const long = await buy(page.request, 'ecs', 3);
  const domain = await buy(page.request, 'domain', 12);
  const plan = await buy(page.request, 'oss', 6);
  await renew(page.request, short, 1);
  await page.goto('/unsubscribe');

  // The seed's two tabs inside Unsubscribe Resource, with their counts from the server.
  const regular = page.getByRole('tab', { name: /Regular Cloud Resource/ });
  await expect(regular).toHaveAttribute('aria-selected', 'true');
  await expect(regular).toContainText('3');
  await expect(page.getByRole('tab', { name: /Resource Plans/ })).toContainText('1');
  await expect(page.getByRole('heading', { name: '3 resources' })).toBeVisible();

  const table = page.getByRole('table');
  await expect(table.getByRole('row')).toHaveCount(4);
  await expect(resourceRow(page, plan)).toHaveCount(0);
  const shortRow = resourceRow(page, short);
  await expect(shortRow.getByText('Partial Refund', { exact: true })).toBeVisible();
  await expect(shortRow.getByText('+1 pending renewal')).toBeVisible();
  await expect(resourceRow(page, domain).getByText('Nonrefundable', { exact: true })).toBeVisible();
  await expect(resourceRow(page, domain).getByRole('checkbox')).toHaveCount(0);

  // The server sorts, by order time, newest first, until a header asks otherwise.
  const orderHeader = table.getByRole('columnheader', { name: /Order time/ });
  await expect(orderHeader).toHaveAttribute('aria-sort', 'descending');
  // Worked out at the moment of asking, not stored: the server cannot order pages by it.
  await expect(table.getByRole('columnheader', { name: /Refund if unsubscribed now/, includeHidden: true }).getByRole('button', { includeHidden: true })).toHaveCount(0);
  const paidHeader = table.getByRole('columnheader', { name: /Paid/ });
  await paidHeader.getByRole('button').click();
  await expect(page).toHaveURL(/sort=paid&direction=desc/);
  await expect(paidHeader).toHaveAttribute('aria-sort', 'descending');
  await expect(orderHeader).not.toHaveAttribute('aria-sort', /./);
  await expect(paidHeader.getByRole('button'), 'the pressed header keeps the focus').toBeFocused();
  const down = await amounts(table, PAID);
  expect(down).toEqual([...down].sort((a, b) => b - a));
  expect(new Set(down).size, 'the three amounts differ, so the order means something').toBe(3);
  await paidHeader.getByRole('button').click();
  await expect(page).toHaveURL(/sort=paid&direction=asc/);
  await expect(paidHeader).toHaveAttribute('aria-sort', 'ascending');
  await expect.poll(() => amounts(table, PAID)).toEqual([...down].reverse());
  // The order is in the address: a reload keeps it.
  await page.reload();
  await expect(paidHeader).toHaveAttribute('aria-sort', 'ascending');

  // An instance ID stays on one line, and its button copies it.
  const idText = shortRow.getByText(short, { exact: true });
  const idBox = (await idText.boundingBox())!;
  expect(idBox.height, 'the ID on one line').toBeLessThan(24);
  await shortRow.getByRole('button', { name: `Copy ${short}` }).click();
  await expect(shortRow.getByRole('status')).toHaveText('Copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(short);

  const search = page.getByRole('search', { name: 'Filter orders' });
  const filters = page.getByRole('button', { name: /^Filters/ });
  if (testInfo.project.name === 'phone') {
    // One compact row per resource, not a card of a screen's height.
    const rowBox = (await shortRow.boundingBox())!;
    expect(rowBox.height, 'a compact row').toBeLessThan(130);
    // The tabs stay on one line each: the strip scrolls instead.
    for (const tab of await page.getByRole('tab').all()) {
      expect((await tab.boundingBox())!.height, await tab.textContent() ?? '').toBeLessThan(50);
    }
    await expect(search).toBeHidden();
    await expect(filters).toHaveAttribute('aria-expanded', 'false');
    await expectTouchTargets(page, testInfo);
    await snapshot(page, testInfo, 'orders-table');
    await filters.click();
    await expect(filters).toHaveAttribute('aria-expanded', 'true');
    await expect(search).toBeVisible();
  } else {
    await expect(filters).toBeHidden();
    await expect(search).toBeVisible();
    // Dates do not wrap.
    const orderTime = shortRow.getByRole('cell').nth(4).getByText(/\d{4}/);
    expect((await orderTime.boundingBox())!.height, 'the date on one line').toBeLessThan(24);
    await expect(table.getByRole('columnheader', { name: /Paid/ })).toBeVisible();
    await snapshot(page, testInfo, 'orders-table');
  }
  await expectNoSidewaysScroll(page);
  await expectAccessible(page, 'orders table');

  // The filter keeps the chosen tab; the review is one click away.
  await search.getByLabel('Instance ID').fill(long.slice(2, 12));
  await search.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('heading', { name: '1 resource' })).toBeVisible();
  await resourceRow(page, long).getByRole('link', { name: `Unsubscribe Resource ${long}` }).click();
  await expect(page).toHaveURL(new RegExp(`/unsubscribe/review/${long}$`));
});

test('the refund-type and activation groups filter on the server and show their counts', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  await seedDemo(page.request, 30);
  await page.goto('/unsubscribe');
  const regularTab = page.getByRole('tab', { name: /Regular Cloud Resource/ });
  const plansTab = page.getByRole('tab', { name: /Resource Plans/ });
  const regular = Number((await regularTab.locator('.count').textContent())!.trim());
  const plans = Number((await plansTab.locator('.count').textContent())!.trim());
  expect(regular + plans).toBe(38);

  const refundTypes = page.getByRole('group', { name: 'Refund type' });
  const nonrefundable = refundTypes.getByRole('button', { name: /Nonrefundable/ });
  const n = Number((await nonrefundable.textContent())!.match(/(\d+)\s*$/)![1]);
  expect(n).toBeGreaterThan(0);
  await nonrefundable.click();
  await expect(page).toHaveURL(/refund_type=nonrefundable/);
  await expect(nonrefundable).toHaveAttribute('aria-pressed', 'true');
  await expect(page.getByRole('heading', { name: new RegExp(`^${n} resources?$`) })).toBeVisible();
  const rows = page.getByRole('table').getByRole('row');
  await expect(rows).toHaveCount(n + 1);
  for (let i = 1; i <= n; i++) {
    await expect(rows.nth(i).getByText('Nonrefundable', { exact: true })).toBeVisible();
  }
  // The counts do not change with the chosen group.
  await expect(regularTab.locator('.count')).toHaveText(String(regular));

  await plansTab.click();
  await expect(page).toHaveURL(/kind=resource_plan/);
  await expect(page).not.toHaveURL(/refund_type=/);
  await expect(page.getByRole('heading', { name: new RegExp(`^${plans} resources?$`) })).toBeVisible();
  const activation = page.getByRole('group', { name: 'Activation status' });
  const notActivated = activation.getByRole('button', { name: /Not activated/ });
  const m = Number((await notActivated.textContent())!.match(/(\d+)\s*$/)![1]);
  await notActivated.click();
  await expect(page).toHaveURL(/activated=false/);
  await expect(page.getByRole('heading', { name: new RegExp(`^${m} resources?$`) })).toBeVisible();
  await expect(page.getByRole('table').getByText('Unactivated Subscription Refund', { exact: true })).toHaveCount(m);
  await expectAccessible(page, 'resource plans');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'orders-plans');
});

test('select-all picks the filtered Partial Refund resources across pages, and the batch dialog fits its figures', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  await seedDemo(page.request, 30);
  await page.goto('/unsubscribe');
  // Sorted by the server, largest payment first, across the pages.
  const table = page.getByRole('table');
  await table.getByRole('columnheader', { name: /Paid/ }).getByRole('button').click();
  await expect(page).toHaveURL(/sort=paid&direction=desc/);
  await expect(table.getByRole('columnheader', { name: /Paid/ })).toHaveAttribute('aria-sort', 'descending');
  const firstPage = await amounts(table, PAID);
  expect(firstPage).toEqual([...firstPage].sort((a, b) => b - a));
  const selectAll = page.getByRole('button', { name: /^Select all \d+ Partial Refund$/ });
  const n = Number((await selectAll.textContent())!.match(/\d+/)![0]);
  expect(n, 'more Partial Refund resources than one page holds').toBeGreaterThan(20);
  await selectAll.click();
  await expect(page.getByText(`${n} of at most 50 selected for a batch`)).toBeVisible();
  // The choice survives the pages, and so does the order.
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(page).toHaveURL(/sort=paid&direction=desc/);
  await expect(page.getByText(`${n} of at most 50 selected for a batch`)).toBeVisible();
  const secondPage = await amounts(table, PAID);
  expect(secondPage).toEqual([...secondPage].sort((a, b) => b - a));
  expect(secondPage[0], 'page 2 goes on where page 1 stopped').toBeLessThanOrEqual(firstPage[firstPage.length - 1]);
  const onPage = page.getByRole('checkbox', { name: /^Select i-.* for a batch$/ });
  await expect(onPage.first()).toBeChecked();
  await onPage.first().uncheck();
  await expect(page.getByText(`${n - 1} of at most 50 selected for a batch`)).toBeVisible();

  await page.getByRole('button', { name: 'Batch Unsubscribe Resources' }).click();
  const dialog = page.getByRole('dialog', { name: 'Batch Unsubscribe Resources' });
  await expect(dialog.getByRole('row')).toHaveCount(n);
  await expect(dialog.getByText(/Total refund USD [\d,]+\.\d\d/)).toBeVisible();
  const fits = await dialog.evaluate((d) => [...d.querySelectorAll('td')].every((td) => td.scrollWidth <= td.clientWidth + 1));
  expect(fits, 'no figure is cut off').toBe(true);
  if (testInfo.project.name === 'desktop') {
    expect((await dialog.boundingBox())!.width).toBeGreaterThan(640);
  }
  await expectAccessible(page, 'batch dialog');
  await snapshot(page, testInfo, 'orders-batch');
  await dialog.getByRole('checkbox', { name: 'I have confirmed the refund amount.' }).check();
  await dialog.getByRole('checkbox', { name: /I have backed up or migrated my data/ }).check();
  await dialog.getByRole('button', { name: 'Unsubscribe Now' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${n - 1} unsubscribed.` })).toBeVisible();
  await expect(page.getByText('0 of at most 50 selected for a batch')).toBeVisible();
});

test('records say "No refund" for a nonrefundable resource, and name the refunded orders', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  const domain = await buy(page.request, 'domain', 12);
  const ecs = await buy(page.request, 'ecs', 1);
  for (const id of [domain, ecs]) {
    await page.goto(`/unsubscribe/review/${id}`);
    await page.getByRole('checkbox', { name: 'I have confirmed the refund amount.' }).check();
    await page.getByRole('checkbox', { name: /I have backed up or migrated my data/ }).check();
    await page.getByRole('button', { name: 'Unsubscribe Now' }).click();
    await expect(page.getByRole('link', { name: `View Details of ${id}` })).toBeVisible();
  }
  await page.goto('/unsubscribe?tab=records');
  const domainRow = page.getByRole('row').filter({ hasText: domain });
  // The refund column and the refund status both say so.
  await expect(domainRow.getByRole('cell', { name: 'No refund', exact: true })).toHaveCount(2);
  await expect(domainRow).not.toContainText('0.00');
  await expect(domainRow.getByText('Unsubscribed', { exact: true }).first()).toBeVisible();
  const ecsRow = page.getByRole('row').filter({ hasText: ecs });
  await expect(ecsRow.getByText(/USD [\d,]+\.\d\d to Bank card/)).toBeVisible();
  if (testInfo.project.name === 'phone') {
    // One compact row per record, not a table to scroll sideways.
    for (const row of [domainRow, ecsRow]) {
      const box = (await row.boundingBox())!;
      expect(box.height, 'a compact row').toBeLessThan(150);
      expect(box.width, 'as wide as the screen at most').toBeLessThanOrEqual(page.viewportSize()!.width);
      // Nothing spills into its neighbour (the product's name alone may end in an ellipsis).
      const cells = await row.getByRole('cell').all();
      for (const [i, cell] of cells.entries()) {
        if (i === 1) continue;
        const fits = await cell.evaluate((td) => td.scrollWidth <= td.clientWidth + 1);
        expect(fits, `cell ${i} of the row fits its place`).toBe(true);
      }
    }
  } else {
    await expect(page.getByRole('columnheader', { name: 'Refund status' })).toBeVisible();
  }
  await expectAccessible(page, 'records');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'orders-records');
  await ecsRow.getByRole('link', { name: `View Details of ${ecs}` }).click();
  await expect(page.getByRole('heading', { name: 'Unsubscribe details' })).toBeVisible();
  await expect(page.getByRole('definition').filter({ hasText: /^ord-[0-9a-f]+$/ })).toHaveCount(1);
});

test('the review shows the refund breakdown the server computed, where it goes and why, and the rule once', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  const id = await buy(page.request, 'ecs', 1);
  await renew(page.request, id, 1);
  await page.goto(`/unsubscribe/review/${id}`);
  await expect(page.getByRole('heading', { name: 'Refund breakdown' })).toBeVisible();
  const running = page.getByRole('group', { name: /^Order in force ord-/ });
  const pending = page.getByRole('group', { name: /^Pending renewal ord-/ });
  await expect(running.getByText('Cash paid')).toBeVisible();
  await expect(running.getByText('Credit and coupons (not refunded)')).toBeVisible();
  await expect(running.getByText(/^Time used: [\d.]+ % of the paid period$/)).toBeVisible();
  await expect(running.getByText('Consumed part')).toBeVisible();
  await expect(running.getByText(/^Card payment today → to Bank card VISA •••• \d{4} \(within 150 days of payment\)$/)).toBeVisible();
  await expect(pending.getByText('Nothing used: refunded in full')).toBeVisible();
  await expect(page.getByText(/rounded up to the cent/)).toHaveCount(1);
  await expectAccessible(page, 'review breakdown');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'orders-review-breakdown');
});
