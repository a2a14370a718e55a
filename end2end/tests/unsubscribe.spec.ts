import { expect, test } from '../fixtures/test';
import { buy, readyToBuy, renew, runJobs, seedDemo } from '../fixtures/accounts';
import { openFromNav, PAGES } from '../fixtures/navigation';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

test('unsubscribes one resource once both confirmations are ticked, and shows its record', async ({ page }, testInfo) => {
  const { card } = await readyToBuy(page.request, testInfo);
  // Bought in the console, as a person would.
  await page.goto('/products');
  await page.getByRole('button', { name: 'Buy Now' }).click();
  const bought = page.getByRole('status').filter({ hasText: 'Bought Elastic Compute Service' });
  const id = (await bought.textContent())!.match(/instance (\S+)\./)![1];

  await openFromNav(page, testInfo, PAGES.orders);
  await expect(page.getByRole('heading', { name: 'Orders & Unsubscribe', level: 1 })).toBeVisible();
  await expect(page.getByRole('tab', { name: 'Unsubscribe Resource' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tab', { name: 'Unsubscribe Renewal That Does Not Take Effect' })).toBeVisible();
  await expect(page.getByRole('tab', { name: 'Unsubscribe Order Details' })).toBeVisible();
  await page.getByText('Refund rule').click();
  await expect(page.getByText(/rounded up to the cent/).first()).toBeVisible();
  await expect(page.getByRole('heading', { name: '1 resource', exact: true })).toBeVisible();
  await expectAccessible(page, 'orders and unsubscribe');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'unsubscribe');

  const item = page.getByRole('row').filter({ hasText: id });
  await expect(item.getByText('Partial Refund')).toBeVisible();
  await item.getByRole('link', { name: `Unsubscribe Resource ${id}` }).click();

  await expect(page).toHaveURL(new RegExp(`/unsubscribe/review/${id}$`));
  await expect(page.getByRole('heading', { name: 'Unsubscribe Resource', level: 1 })).toBeVisible();
  await expect(page.getByText(id)).toBeVisible();
  await expect(page.getByText('Refund amount', { exact: true })).toBeVisible();
  // Where the money goes is shown before anything is confirmed, and matches the record below.
  await expect(page.getByText(`Refund to: Bank card VISA •••• ${card.slice(-4)}`)).toBeVisible();
  const now = page.getByRole('button', { name: 'Unsubscribe Now' });
  await expect(now).toBeDisabled();
  await page.getByRole('checkbox', { name: 'I have confirmed the refund amount.' }).check();
  await expect(now).toBeDisabled();
  await expectAccessible(page, 'unsubscribe review');
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'unsubscribe-review');
  await page.getByRole('checkbox', { name: /I have backed up or migrated my data/ }).check();
  await expect(now).toBeEnabled();
  await now.click();

  await expect(page.getByRole('heading', { name: 'Resource unsubscribed' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('1 unsubscribed. Total refund USD');
  await expect(page.getByText(`to Bank card VISA •••• ${card.slice(-4)}`)).toBeVisible();
  await page.getByRole('link', { name: 'View unsubscribe details' }).click();

  await expect(page.getByRole('heading', { name: 'Unsubscribe details' })).toBeVisible();
  const facts = page.getByRole('main');
  await expect(facts.getByText('Unsubscribed', { exact: true }).first()).toBeVisible();
  await expect(facts.getByText(`Bank card VISA •••• ${card.slice(-4)}`)).toBeVisible();
  await expect(facts.getByText('Processing')).toBeVisible();
  await expectAccessible(page, 'unsubscribe details');
  await snapshot(page, testInfo, 'unsubscribe-record');

  await page.getByRole('link', { name: 'Back to Unsubscribe Order Details' }).click();
  await expect(page.getByRole('tab', { name: 'Unsubscribe Order Details' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('row').filter({ hasText: id })).toContainText('Partial Refund');
});

test('batch-unsubscribes two Partial Refund resources; a nonrefundable one stays out of batches', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  const first = await buy(page.request, 'ecs', 1);
  const second = await buy(page.request, 'ecs', 3);
  const domain = await buy(page.request, 'domain', 12);
  await page.goto('/unsubscribe');
  await expect(page.getByRole('heading', { name: '3 resources', exact: true })).toBeVisible();
  const refundTypes = page.getByRole('group', { name: 'Refund type' });
  await expect(refundTypes.getByRole('button', { name: 'Partial Refund 2' })).toBeVisible();
  await expect(refundTypes.getByRole('button', { name: 'Nonrefundable 1' })).toBeVisible();

  await expect(page.getByRole('row').filter({ hasText: domain }).getByRole('checkbox')).toHaveCount(0);
  const batch = page.getByRole('button', { name: 'Batch Unsubscribe Resources' });
  await expect(batch).toBeDisabled();
  await page.getByRole('checkbox', { name: `Select ${first} for a batch` }).check();
  await page.getByRole('checkbox', { name: `Select ${second} for a batch` }).check();
  await expect(page.getByText('2 of at most 50 selected for a batch')).toBeVisible();
  await batch.click();

  const dialog = page.getByRole('dialog', { name: 'Batch Unsubscribe Resources' });
  await expect(dialog.getByText(first)).toBeVisible();
  await expect(dialog.getByText(second)).toBeVisible();
  await expect(dialog.getByText(/Total refund USD/)).toBeVisible();
  const now = dialog.getByRole('button', { name: 'Unsubscribe Now' });
  await expect(now).toBeDisabled();
  await dialog.getByRole('checkbox', { name: 'I have confirmed the refund amount.' }).check();
  await dialog.getByRole('checkbox', { name: /I have backed up or migrated my data/ }).check();
  await expectAccessible(page, 'batch unsubscribe');
  await snapshot(page, testInfo, 'unsubscribe-batch');
  await now.click();

  await expect(page.getByRole('heading', { name: 'Resources unsubscribed' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('2 unsubscribed.');
  await expect(page.getByRole('heading', { name: '1 resource', exact: true })).toBeVisible();
  await expect(page.getByRole('checkbox', { name: `Select ${first} for a batch` })).toHaveCount(0);
});

test('cancels a renewal that has not taken effect, choosing the updated expiration time', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  const id = await buy(page.request, 'rds', 1);
  await renew(page.request, id, 1);
  await renew(page.request, id, 1);
  await page.goto('/unsubscribe');
  await page.getByRole('tab', { name: 'Unsubscribe Renewal That Does Not Take Effect' }).click();
  await expect(page).toHaveURL(/tab=renewal/);
  const group = page.getByRole('region', { name: new RegExp(id) });
  await expect(group.getByRole('radio')).toHaveCount(2);
  await expect(group.getByRole('radio').first()).toBeChecked();
  await expect(group.getByText('Refund USD 70.00', { exact: true })).toBeVisible();
  await expect(group.getByText(/refund USD 35\.00 to Bank card VISA ••••/)).toHaveCount(2);
  await expectAccessible(page, 'renewal tab');
  await snapshot(page, testInfo, 'unsubscribe-renewals');

  // Keep the first renewal: cancel from the second on.
  await group.getByRole('radio', { name: /cancels 1 renewal,/ }).check();
  await expect(group.getByText('Refund USD 35.00', { exact: true })).toBeVisible();
  await group.getByRole('button', { name: 'Unsubscribe Renewal' }).click();
  await expect(group.getByRole('checkbox', { name: 'I have confirmed the refund amount.' })).toBeFocused();
  await group.getByRole('checkbox', { name: 'I have confirmed the refund amount.' }).check();
  await group.getByRole('button', { name: 'Unsubscribe Renewal' }).click();
  await expect(page.getByRole('heading', { name: 'Renewals unsubscribed' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('Total refund USD 35.00');
  await expect(page.getByRole('region', { name: new RegExp(id) }).getByRole('radio')).toHaveCount(1);

  await page.getByRole('tab', { name: 'Unsubscribe Order Details' }).click();
  const record = page.getByRole('row').filter({ hasText: id });
  await expect(record.getByText('Renewal', { exact: true })).toBeVisible();
  await record.getByRole('link', { name: `View Details of ${id}` }).click();
  await expect(page.getByText('USD 35.00')).toBeVisible();
  await expect(page.getByText('Renewal', { exact: true })).toBeVisible();
});

test('the demo account shows groups, filters, pages, and a refund that has arrived', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  await seedDemo(page.request, 30);
  await page.goto('/unsubscribe');
  // The seed's Regular Cloud Resource tab first; the plans have their own.
  await expect(page.getByRole('heading', { name: '35 resources', exact: true })).toBeVisible();
  await expect(page.getByRole('tab', { name: 'Regular Cloud Resource 35' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByRole('tab', { name: 'Resource Plans 3' })).toBeVisible();
  await expect(page.getByText('Page 1 of 2 · 35 in all')).toBeVisible();
  await snapshot(page, testInfo, 'unsubscribe-demo');
  await page.getByRole('button', { name: 'Next page' }).click();
  await expect(page).toHaveURL(/page=2/);
  await expect(page.getByText('Page 2 of 2 · 35 in all')).toBeVisible();

  const search = page.getByRole('search', { name: 'Filter orders' });
  // On a phone the filters wait behind their button.
  if (testInfo.project.name === 'phone') await page.getByRole('button', { name: /^Filters/ }).click();
  await search.getByLabel('Product', { exact: true }).selectOption({ label: 'Domain name registration' });
  await search.getByRole('button', { name: 'Search' }).click();
  await expect(page).toHaveURL(/product=domain/);
  await expect(page.getByRole('heading', { name: '1 resource', exact: true })).toBeVisible();
  await search.getByLabel('Product', { exact: true }).selectOption({ label: 'All products' });
  await search.getByLabel('Order time from').fill('2999-01-01');
  await search.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByText('No running subscription matches.')).toBeVisible();
  // A range that ends before it starts is refused beside its end, and nothing is searched.
  const orderTo = search.getByLabel('Order time to');
  await orderTo.fill('2998-12-31');
  await search.getByRole('button', { name: 'Search' }).click();
  await expect(orderTo).toHaveAccessibleDescription(/Choose an end date on or after the start date/);
  await expect(orderTo).toHaveAttribute('aria-invalid', 'true');
  await expect(page).not.toHaveURL(/order_to=/);
  await search.getByRole('button', { name: 'Reset' }).click();
  await expect(page.getByRole('heading', { name: '35 resources', exact: true })).toBeVisible();
  await expect(orderTo).not.toHaveAttribute('aria-invalid', 'true');

  // The 160-day-old card order: past the card's 150 days, so it refunds to the balance,
  // which settles with the next job run.
  await search.getByLabel('Product', { exact: true }).selectOption({ label: 'Elastic Compute Service (ECS)' });
  const hundredDaysAgo = new Date(Date.now() - 100 * 86_400_000).toISOString().slice(0, 10);
  await search.getByLabel('Order time to').fill(hundredDaysAgo);
  await search.getByRole('button', { name: 'Search' }).click();
  await expect(page.getByRole('heading', { name: '1 resource', exact: true })).toBeVisible();
  const old = page.getByRole('row').filter({ hasText: 'USD 120.00' }).first();
  await old.getByRole('link', { name: /^Unsubscribe Resource/ }).click();
  await page.getByRole('checkbox', { name: 'I have confirmed the refund amount.' }).check();
  await page.getByRole('checkbox', { name: /I have backed up or migrated my data/ }).check();
  await page.getByRole('button', { name: 'Unsubscribe Now' }).click();
  await expect(page.getByText(/to Account balance\./)).toBeVisible();
  await runJobs(page.request);
  await page.getByRole('link', { name: 'View unsubscribe details' }).click();
  await expect(page.getByText('Account balance')).toBeVisible();
  await expect(page.getByText('Refunded', { exact: true })).toBeVisible();
  await expect(page.getByRole('definition').filter({ hasText: /UTC/ }).first()).toBeVisible();

  // The demo's plan drawn further than its time: 149 days into 12 months for 118.80 with 300 of
  // its 500 GB drawn, a Partial Refund whose used part is the drawn 60 % (SPEC §5).
  await page.goto('/unsubscribe?product=oss&kind=resource_plan');
  const drawnPlan = page.getByRole('row').filter({ hasText: 'drawn 300 of 500 GB' });
  await expect(drawnPlan.getByText('Partial Refund', { exact: true })).toBeVisible();
  await expect(drawnPlan.getByText('USD 47.52')).toBeVisible();
  const unusedPlan = page.getByRole('row').filter({ hasText: 'drawn 0 of 500 GB' }).filter({ hasNotText: 'Not activated' });
  await expect(unusedPlan.getByText('Full Refund for Unused Resources', { exact: true })).toBeVisible();
});
