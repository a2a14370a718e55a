import { expect, test } from '../fixtures/test';
import { advanceClock, buy, PASSWORD, readyToBuy, runJobs, uniqueVisa } from '../fixtures/accounts';
import { expectAccessible, snapshot } from '../fixtures/page-checks';

const HOUR = 3600;

test('asks for the password after an hour, then carries on with the same request; a card refund arrives days later @server-clock', async ({ page }, testInfo) => {
  const account = await readyToBuy(page.request, testInfo);
  const id = await buy(page.request, 'ecs', 1);
  await advanceClock(page.request, HOUR + 1);

  // Adding a card: the prompt, a wrong password, then the right one and the same card added once.
  await page.goto('/payment-methods');
  const number = uniqueVisa();
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('MM', { exact: true }).fill('12');
  await page.getByLabel('YY', { exact: true }).fill('31');
  await page.getByLabel('CVV', { exact: true }).fill('123');
  await page.getByLabel('First name').fill('Mei');
  await page.getByLabel('Last name').fill('Tan');
  await page.getByRole('button', { name: 'Add Card' }).click();
  const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Password')).toBeFocused();
  await dialog.getByLabel('Password').fill('Wrong-password-1');
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await expect(dialog.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page, 'password prompt');
  await snapshot(page, testInfo, 'reauth');
  await dialog.getByLabel('Password').fill(account.password);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: `VISA •••• ${number.slice(-4)} added.` })).toBeVisible();
  await expect(page.getByRole('listitem').filter({ hasText: '••••' })).toHaveCount(2);

  // Unsubscribing an hour later: cancelling the prompt leaves the page as it was.
  await advanceClock(page.request, HOUR + 1);
  await page.goto(`/unsubscribe/review/${id}`);
  await page.getByRole('checkbox', { name: 'I have confirmed the refund amount.' }).check();
  await page.getByRole('checkbox', { name: /I have backed up or migrated my data/ }).check();
  await page.getByRole('button', { name: 'Unsubscribe Now' }).click();
  await expect(dialog).toBeVisible();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('alert').filter({ hasText: 'enter your password again' })).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'I have confirmed the refund amount.' })).toBeChecked();
  await page.getByRole('button', { name: 'Unsubscribe Now' }).click();
  await dialog.getByLabel('Password').fill(PASSWORD);
  await dialog.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('heading', { name: 'Resource unsubscribed' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('1 unsubscribed.');

  // A card refund takes days: Processing now, Refunded with its time once the job has run.
  await page.getByRole('link', { name: 'View unsubscribe details' }).click();
  await expect(page.getByText('Processing', { exact: true })).toBeVisible();
  await advanceClock(page.request, 3 * 24 * HOUR + 60);
  const signedIn = await page.request.post('/api/session', { data: { email: account.email, password: PASSWORD } });
  expect(signedIn.ok(), await signedIn.text()).toBeTruthy();
  await runJobs(page.request);
  await page.reload();
  await expect(page.getByText('Refunded', { exact: true })).toBeVisible();
  await expect(page.getByRole('definition').filter({ hasText: /UTC/ }).first()).toBeVisible();
  await snapshot(page, testInfo, 'refund-arrived');
});
