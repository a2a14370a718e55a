import { expect, test } from '../fixtures/test';
import { buy, PASSWORD, readyToBuy } from '../fixtures/accounts';
import { openFromNav, PAGES } from '../fixtures/navigation';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

const RAM_PASSWORD = 'Turbine9Blue';

test('a RAM user without BillingFullAccess signs in under the alias, sees no owner pages and cannot unsubscribe', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  const instance = await buy(page.request, 'ecs', 1);
  const alias = (await (await page.request.get('/api/session')).json()).account.uid as string;

  await page.goto('/');
  await openFromNav(page, testInfo, PAGES.ram);
  await expect(page.getByRole('heading', { name: 'RAM users', level: 1 })).toBeVisible();
  await expect(page.getByText(alias)).toBeVisible();
  await expect(page.getByText('No RAM users yet.')).toBeVisible();
  await expectAccessible(page, 'RAM users');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'ram-users');

  await page.getByLabel('Username').fill('x');
  await page.getByRole('button', { name: 'Create RAM User' }).click();
  await expect(page.getByLabel('Username')).toBeFocused();
  await expect(page.getByLabel('Username')).toHaveAccessibleDescription(/3 to 64 letters/);

  const username = `reader-${Math.random().toString(36).slice(2, 8)}`;
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(RAM_PASSWORD);
  await page.getByRole('checkbox', { name: /^BillingReadOnlyAccess/ }).check();
  await expect(page.getByRole('checkbox', { name: /^BillingFullAccess/ })).not.toBeChecked();
  await page.getByRole('button', { name: 'Create RAM User' }).click();
  await expect(page.getByRole('status').filter({ hasText: `RAM user ${username} created.` })).toBeVisible();
  await expect(page.getByRole('listitem').filter({ hasText: username })).toContainText('BillingReadOnlyAccess');
  await snapshot(page, testInfo, 'ram-users-created');

  // The RAM user, in a fresh browser session.
  await page.context().clearCookies();
  await page.goto('/signin');
  await page.getByRole('link', { name: 'RAM user sign-in' }).click();
  await expect(page.getByRole('heading', { name: 'RAM user sign-in' })).toBeVisible();
  await expectAccessible(page, 'RAM user sign-in');
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'ram-signin');
  await page.getByLabel('Account alias').fill(alias);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await page.getByLabel('Password').fill(RAM_PASSWORD);
  await page.getByRole('button', { name: 'Sign In' }).click();

  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Signed in as a RAM user' })).toBeVisible();
  await expect(page.getByRole('main').getByText(username, { exact: true })).toBeVisible();
  if (testInfo.project.name === 'phone') {
    await page.getByRole('navigation', { name: 'Tabs' }).getByRole('link', { name: 'Me', exact: true }).click();
    const manage = page.getByRole('navigation', { name: 'Account management' });
    await expect(manage.getByRole('link', { name: 'Orders & Unsubscribe' })).toBeVisible();
    await expect(manage.getByRole('link', { name: 'Payment methods' })).toHaveCount(0);
    await expect(manage.getByRole('link', { name: 'Billing address' })).toHaveCount(0);
    await expect(manage.getByRole('link', { name: 'RAM users' })).toHaveCount(0);
  } else {
    const nav = page.getByRole('navigation', { name: 'Console' });
    await expect(nav.getByRole('link', { name: 'Orders & Unsubscribe' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Payment Methods' })).toHaveCount(0);
    await expect(nav.getByRole('link', { name: 'Billing' })).toHaveCount(0);
    await expect(nav.getByRole('link', { name: 'RAM Users' })).toHaveCount(0);
  }

  // Read access: the owner's resources are listed, but unsubscribing is refused.
  await openFromNav(page, testInfo, PAGES.orders);
  await expect(page.getByText(/without the BillingFullAccess permission/)).toBeVisible();
  await page.getByRole('row').filter({ hasText: instance }).getByRole('link', { name: `Unsubscribe Resource ${instance}` }).click();
  await page.getByRole('checkbox', { name: 'I have confirmed the refund amount.' }).check();
  await page.getByRole('checkbox', { name: /I have backed up or migrated my data/ }).check();
  await page.getByRole('button', { name: 'Unsubscribe Now' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'needs the BillingFullAccess permission' })).toBeVisible();
  await expectAccessible(page, 'unsubscribe refused to a RAM user');
  await snapshot(page, testInfo, 'ram-unsubscribe-refused');

  // Typing an owner-only address does not help: the server refuses it.
  await page.goto('/payment-methods');
  await expect(page.getByRole('alert')).toContainText('Only the account owner can do this.');
});

test('the owner deletes a RAM user after a confirmation', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  await page.goto('/ram-users');
  const username = `ops-${Math.random().toString(36).slice(2, 8)}`;
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(RAM_PASSWORD);
  await page.getByRole('checkbox', { name: /^BillingFullAccess/ }).check();
  await page.getByRole('button', { name: 'Create RAM User' }).click();
  const item = page.getByRole('listitem').filter({ hasText: username });
  await expect(item).toContainText('BillingFullAccess');
  await item.getByRole('button', { name: 'Delete' }).click();
  const dialog = page.getByRole('dialog', { name: `Delete RAM user ${username}?` });
  await expectAccessible(page, 'delete a RAM user');
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(item).toHaveCount(0);
  await expect(page.getByText('No RAM users yet.')).toBeVisible();
});
