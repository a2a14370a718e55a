import { expect, test } from '../fixtures/test';
import { createAccount } from '../fixtures/accounts';
import { expectAccessible, expectTouchTargets, snapshot } from '../fixtures/page-checks';

test('the console sends a visitor without a session to sign in', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/signin$/);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
});

test('signs in, signs out, and the session is gone on the server', async ({ page, request }, testInfo) => {
  // `request` has its own cookies: the page starts signed out.
  const account = await createAccount(request, testInfo);

  await page.goto('/signin');
  await expectAccessible(page, 'sign-in');
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'signin');

  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill('Wrong-password-1');
  await page.getByRole('button', { name: 'Sign In' }).click();
  // The same words whether or not the email has an account; what was typed stays.
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByLabel('Email')).toHaveValue(account.email);
  await expectAccessible(page, 'sign-in refused');
  await snapshot(page, testInfo, 'signin-refused');

  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('main').getByText(account.email)).toBeVisible();

  // A reload finds the session again from the cookie alone.
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();

  if (testInfo.project.name === 'phone') {
    // The phone's top bar has no account menu: Sign Out lives under the Me tab.
    await expect(page.getByRole('banner').getByRole('button', { name: 'Sign Out' })).toBeHidden();
    await page.getByRole('link', { name: 'Me', exact: true }).click();
    await page.getByRole('main').getByRole('button', { name: 'Sign Out' }).click();
  } else {
    const banner = page.getByRole('banner');
    await expect(banner.getByText(account.email)).toBeVisible();
    await banner.getByRole('button', { name: 'Sign Out' }).click();
  }
  await expect(page).toHaveURL(/\/signin$/);

  await page.goto('/');
  await expect(page).toHaveURL(/\/signin$/);
});
