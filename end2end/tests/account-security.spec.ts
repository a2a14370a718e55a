import { expect, test } from '../fixtures/test';
import { createAccount, verifyMobile } from '../fixtures/accounts';
import { inbox, newestCode } from '../fixtures/inbox';
import { expectAccessible, expectNoSidewaysScroll, expectTouchTargets, snapshot } from '../fixtures/page-checks';

const NEW_PASSWORD = 'Turbine9Blue';

test('forgot password by email: a code from the inbox, a new password, every session ended', async ({
  page,
  request,
}, testInfo) => {
  // `request` holds the account's first session; the page starts signed out.
  const account = await createAccount(request, testInfo);

  await page.goto('/signin');
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await expect(page.getByRole('heading', { name: 'Reset your password' })).toBeVisible();
  await expectAccessible(page, 'forgot password');
  await expectTouchTargets(page, testInfo);
  await expectNoSidewaysScroll(page);

  // Bad input is answered next to the field, before anything is sent.
  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('Email').fill(account.email);
  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.getByText('If an account uses that address, a code is on its way.')).toBeVisible();
  await expect(page.getByRole('button', { name: /Resend code in/ })).toBeDisabled();
  await expect(page.getByLabel('Verification code')).toBeFocused();
  await snapshot(page, testInfo, 'forgot-password-code');
  const code = await newestCode(request, account.email, 1);

  await page.getByLabel('Verification code').fill(code);
  await page.getByLabel('New password', { exact: true }).fill('short');
  await page.getByLabel('Confirm new password').fill('short');
  await page.getByRole('button', { name: 'Reset password' }).click();
  await expect(page.getByLabel('New password', { exact: true })).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page, 'forgot password refused');

  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Reset password' }).click();
  await expect(page.getByRole('status').getByText('Your password was reset')).toBeVisible();
  await expectAccessible(page, 'password reset');

  // The reset signed out the session made at sign-up, and told the owner.
  expect((await request.get('/api/session')).status()).toBe(401);
  const [notice] = await inbox(request, account.email);
  expect(notice.subject).toBe('Your Account Center password was reset');

  await page.getByRole('link', { name: 'Sign in' }).first().click();
  await expect(page).toHaveURL(/\/signin$/);
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
});

test('forgot password by phone: the verified number gets the code by SMS', async ({ page, request }, testInfo) => {
  const account = await createAccount(request, testInfo);
  const e164 = await verifyMobile(request);
  const seen = (await inbox(request, e164)).length;

  await page.goto('/forgot-password');
  await page.getByRole('button', { name: 'Use phone instead' }).click();
  await page.getByLabel('Country/Region').selectOption({ label: 'Singapore' });
  await page.getByLabel('Mobile number').fill(e164.slice(3));
  await expectAccessible(page, 'forgot password by phone');
  await expectTouchTargets(page, testInfo);
  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.getByText(/Code sent to \+65\*\*\*\*\d{4} by SMS/)).toBeVisible();
  await page.getByText('Not receiving calls or messages?').click();
  await expect(page.getByText(/Check the number: it follows \+65/)).toBeVisible();

  const code = await newestCode(request, e164, seen);
  await page.getByLabel('Verification code').fill(code);
  await page.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await page.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: 'Reset password' }).click();
  await expect(page.getByRole('status').getByText('Your password was reset')).toBeVisible();

  const signedIn = await request.post('/api/session', { data: { email: account.email, password: NEW_PASSWORD } });
  expect(signedIn.status()).toBe(200);
});

test('change password signs the other browser out; the sessions list signs out one or all others', async ({
  page,
  request,
}, testInfo) => {
  // `request` is "the other browser", signed in since sign-up.
  const account = await createAccount(request, testInfo);
  await page.goto('/signin');
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();

  if (testInfo.project.name === 'phone') {
    await page.getByRole('link', { name: 'Me', exact: true }).click();
    await page.getByRole('link', { name: /^Security & closure/ }).click();
  } else {
    await page.getByRole('navigation').getByRole('link', { name: 'Security & closure' }).click();
  }
  await expect(page.getByRole('heading', { name: 'Signed-in sessions' })).toBeVisible();
  const rows = page.locator('.session-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: 'This session' })).toHaveCount(1);
  await expectAccessible(page, 'security');
  await expectTouchTargets(page, testInfo);
  await expectNoSidewaysScroll(page);
  await snapshot(page, testInfo, 'security-sessions');

  const password = page.getByRole('region', { name: 'Password' });
  await password.getByLabel('Current password').fill('Not7ThePassword');
  await password.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await password.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await password.getByRole('button', { name: 'Change password' }).click();
  await expect(password.getByLabel('Current password')).toHaveAttribute('aria-invalid', 'true');
  expect((await request.get('/api/session')).status(), 'a refused change ends nothing').toBe(200);

  await password.getByLabel('Current password').fill(account.password);
  await password.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
  await password.getByLabel('Confirm new password').fill(NEW_PASSWORD);
  await password.getByRole('button', { name: 'Change password' }).click();
  await expect(password.getByText('Password changed. Your other sessions were signed out.')).toBeVisible();
  expect((await request.get('/api/session')).status()).toBe(401);

  // The other browser signs in with the new password; this page signs it out from the list.
  const again = await request.post('/api/session', { data: { email: account.email, password: NEW_PASSWORD } });
  expect(again.status()).toBe(200);
  await page.reload();
  await expect(rows).toHaveCount(2);
  await rows.filter({ hasNotText: 'This session' }).getByRole('button', { name: /^Sign out/ }).click();
  await expect(page.getByText('Signed out that session.')).toBeVisible();
  await expect(rows).toHaveCount(1);
  expect((await request.get('/api/session')).status()).toBe(401);

  await page.getByRole('button', { name: 'Sign out all other sessions' }).click();
  await expect(page.getByText('There were no other sessions of yours to sign out.')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Signed-in sessions' })).toBeVisible();
});

test('the operation log shows who did what and from where, by category', async ({ page, request }, testInfo) => {
  const account = await createAccount(request, testInfo);
  await page.goto('/signin');
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill('Wrong7Password');
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();

  await page.goto('/security');
  await page.getByRole('link', { name: 'View the operation log' }).click();
  await expect(page.getByRole('heading', { name: 'Operation log', level: 1 })).toBeVisible();
  const rows = page.locator('.log-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.nth(0)).toContainText('Signed in');
  await expect(rows.nth(0)).toContainText('Account owner');
  await expect(rows.nth(1)).toContainText('Sign-in refused');
  await expect(rows.nth(1)).toContainText('wrong password');
  await expectAccessible(page, 'operation log');
  await expectTouchTargets(page, testInfo);
  await expectNoSidewaysScroll(page);
  await snapshot(page, testInfo, 'operation-log');

  // One page: neither way to another page is open.
  await expect(page.getByRole('button', { name: 'Newer' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Older', exact: true })).toBeDisabled();
  await page.getByRole('button', { name: 'Money' }).click();
  await expect(page.getByText('Nothing recorded here yet.')).toBeVisible();
  await page.getByRole('button', { name: 'Security' }).click();
  await expect(rows).toHaveCount(2);
  await expect(page.getByRole('button', { name: 'Security' })).toHaveAttribute('aria-pressed', 'true');
});
