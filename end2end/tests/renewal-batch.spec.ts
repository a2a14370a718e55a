import { expect, test } from '../fixtures/test';
import { buy, readyToBuy, renew } from '../fixtures/accounts';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

test('Batch Refund/Renew cancels the chosen renewals of several instances in one step', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  const a = await buy(page.request, 'rds', 1);
  const b = await buy(page.request, 'rds', 1);
  await renew(page.request, a, 1);
  await renew(page.request, a, 1);
  await renew(page.request, b, 1);
  await page.goto('/unsubscribe?tab=renewal');

  const groupA = page.getByRole('region', { name: new RegExp(a) });
  const groupB = page.getByRole('region', { name: new RegExp(b) });
  const bar = page.getByText(/of at most 50 instances selected for Batch Refund\/Renew/);
  await expect(bar).toHaveText('0 of at most 50 instances selected for Batch Refund/Renew');
  await expect(page.getByRole('button', { name: 'Batch Refund/Renew' })).toBeDisabled();

  // a keeps its first renewal (chosen after it joined the batch); b loses its only one.
  await groupA.getByRole('checkbox', { name: 'Select for Batch Refund/Renew' }).check();
  await groupA.getByRole('radio', { name: /cancels 1 renewal,/ }).check();
  await groupB.getByRole('checkbox', { name: 'Select for Batch Refund/Renew' }).check();
  await expect(bar).toHaveText('2 of at most 50 instances selected for Batch Refund/Renew');
  await expectAccessible(page, 'renewal tab with a batch');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);

  await page.getByRole('button', { name: 'Batch Refund/Renew' }).click();
  const dialog = page.getByRole('dialog', { name: 'Batch Refund/Renew' });
  await expect(dialog.getByRole('row')).toHaveCount(3);
  for (const id of [a, b]) {
    const row = dialog.getByRole('row').filter({ hasText: id });
    await expect(row.getByText('cancels 1 renewal', { exact: true })).toBeVisible();
    await expect(row.getByText('USD 35.00')).toBeVisible();
  }
  // a's new expiry is when its second renewal would have begun; b's when its only one would.
  await expect(dialog.getByRole('row').filter({ hasText: a }).getByText(/^Expires /)).toBeVisible();
  const fits = await dialog.evaluate((d) =>
    [...d.querySelectorAll('td, [role="region"]')].every((el) => el.scrollWidth <= el.clientWidth + 1),
  );
  expect(fits, 'no figure is cut off, nothing scrolls sideways').toBe(true);
  await expect(dialog.getByText('Total refund USD 70.00')).toBeVisible();
  const submit = dialog.getByRole('button', { name: 'Unsubscribe Renewals' });
  await expect(submit).toBeDisabled();
  await expectAccessible(page, 'batch renewal dialog');
  await snapshot(page, testInfo, 'unsubscribe-renewals-batch');
  await dialog.getByRole('checkbox', { name: 'I have confirmed the refund amount.' }).check();
  await submit.click();

  await expect(page.getByRole('heading', { name: 'Renewals unsubscribed' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('Total refund USD 70.00');
  await expect(bar).toHaveText('0 of at most 50 instances selected for Batch Refund/Renew');
  await expect(groupA.getByRole('radio')).toHaveCount(1);
  await expect(groupB).toHaveCount(0);

  // Two records, one per instance.
  await page.getByRole('tab', { name: 'Unsubscribe Order Details' }).click();
  for (const id of [a, b]) {
    const record = page.getByRole('row').filter({ hasText: id });
    await expect(record.getByText('Renewal', { exact: true })).toBeVisible();
  }
  await expectNoSidewaysScroll(page);
});
