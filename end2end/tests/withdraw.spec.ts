import { expect, test } from '../fixtures/test';
import { readyToBuy, runJobs } from '../fixtures/accounts';
import { seedBlockers } from '../fixtures/closure';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

// SPEC §6.5: cash in the balance, never credit, withdrawn to a card of the account; the record
// shows it Processing, then Paid once the payout job has run.
test('the balance is withdrawn to a card from the page and the record shows it paid', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  // The dev seeder's blockers include 50 USD of cash.
  await seedBlockers(page.request);
  await page.goto('/');
  await page.getByRole('link', { name: 'Withdraw balance' }).click();

  await expect(page).toHaveURL(/\/billing\/withdraw$/);
  await expect(page.getByRole('heading', { name: 'Withdraw balance', level: 1 })).toBeVisible();
  const balance = page.getByRole('region', { name: 'Your balance' });
  await expect(balance.getByText('USD 50.00')).toBeVisible();
  await expect(balance.getByText('Free credit (not withdrawable)')).toBeVisible();
  await expect(page.getByText('No withdrawals yet.')).toBeVisible();
  await expect(page.getByLabel('Withdraw to')).toHaveValue(/.+/);
  await expectAccessible(page, 'withdraw balance');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'withdraw');

  // The shared validator answers in the page, at the field, before anything is sent.
  const amount = page.getByLabel('Amount');
  await amount.fill('0');
  await page.getByRole('button', { name: 'Withdraw', exact: true }).click();
  await expect(page.getByText('Enter an amount greater than zero.')).toBeVisible();
  await expect(amount).toBeFocused();
  await amount.fill('12.345');
  await page.getByRole('button', { name: 'Withdraw', exact: true }).click();
  await expect(page.getByText(/at most 2 digits after the point/)).toBeVisible();
  await amount.fill('60');
  await page.getByRole('button', { name: 'Withdraw', exact: true }).click();
  await expect(page.getByText(/You can withdraw at most USD 50\.00/)).toBeVisible();
  await expect(amount).toHaveAccessibleDescription(/at most USD 50\.00/);

  await page.getByRole('button', { name: 'Withdraw all' }).click();
  await expect(amount).toHaveValue('50.00');
  await page.getByRole('button', { name: 'Withdraw', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Withdrawal of USD 50.00' })).toBeVisible();
  // Processing until the payout job has run: the dev server's scheduler may already have.
  const records = page.getByRole('table');
  await expect(records.getByRole('row').filter({ hasText: 'USD 50.00' })).toContainText(/Processing|Paid/);
  await expect(balance.getByText('USD 0.00')).toBeVisible();
  await snapshot(page, testInfo, 'withdraw-processing');

  await runJobs(page.request);
  await page.reload();
  await expect(page.getByRole('table').getByRole('row').filter({ hasText: 'USD 50.00' })).toContainText('Paid');
  await expect(page.getByText('There is no cash in your balance to withdraw.')).toBeVisible();
  await expectNoSidewaysScroll(page);
  await snapshot(page, testInfo, 'withdraw-paid');
});
