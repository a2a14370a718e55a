import { expect, test } from '../fixtures/test';
import { createAccount } from '../fixtures/accounts';
import { expectAccessible, expectNoSidewaysScroll, expectTouchTargets, snapshot } from '../fixtures/page-checks';
import { serverTimeAfter, totp } from '../fixtures/totp';

test('two-step verification: turn it on, then sign in with a generated code and with a recovery code', async ({
  page,
  request,
}, testInfo) => {
  const account = await createAccount(request, testInfo);
  const signInWithPassword = async () => {
    await page.context().clearCookies();
    await page.goto('/signin');
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Password').fill(account.password);
    await page.getByRole('button', { name: 'Sign In' }).click();
  };

  await signInWithPassword();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await page.goto('/security');
  const panel = page.getByRole('region', { name: 'Two-step verification' });
  await panel.getByRole('button', { name: 'Turn on two-step verification' }).click();
  await expect(panel.getByRole('img', { name: 'QR code for your authenticator app' })).toBeVisible();
  const secret = (await panel.getByTestId('two-step-secret').textContent())!.trim();
  expect(secret).toMatch(/^[A-Z2-7]{32}$/);
  await expectAccessible(page, 'two-step set-up');
  await expectTouchTargets(page, testInfo);
  await expectNoSidewaysScroll(page);
  await snapshot(page, testInfo, 'two-step-setup');

  // A wrong code is refused next to its field; the right one turns it on.
  await panel.getByLabel('Code from the app').fill('12345');
  await panel.getByRole('button', { name: 'Turn on', exact: true }).click();
  await expect(panel.getByLabel('Code from the app')).toHaveAttribute('aria-invalid', 'true');
  await panel.getByLabel('Code from the app').fill(totp(secret, await serverTimeAfter(request, 0)));
  await panel.getByRole('button', { name: 'Turn on', exact: true }).click();
  const codes = panel.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
  await expect(codes).toHaveCount(10);
  const recovery = (await codes.allTextContents()).map((c) => c.trim());
  expect(recovery[0]).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
  await expectAccessible(page, 'recovery codes');
  await panel.getByRole('button', { name: 'I have saved them' }).click();
  await expect(panel.getByText('10 recovery codes left.')).toBeVisible();

  // Signing in now asks for the app's code after the password.
  await signInWithPassword();
  await expect(page).toHaveURL(/\/signin\/two-step$/);
  await expect(page.getByRole('heading', { name: 'Two-step verification' })).toBeVisible();
  await expectAccessible(page, 'two-step sign-in');
  await expectTouchTargets(page, testInfo);
  await page.getByLabel('Authentication code').fill('000000x');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByLabel('Authentication code')).toHaveAttribute('aria-invalid', 'true');
  // The set-up's code was of this step: the next step's code signs in.
  await page.getByLabel('Authentication code').fill(totp(secret, await serverTimeAfter(request, 30)));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();

  // Without the app: a recovery code, once.
  await signInWithPassword();
  await expect(page).toHaveURL(/\/signin\/two-step$/);
  await page.getByLabel('Authentication code').fill(recovery[0]);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await page.goto('/security');
  await expect(page.getByText('9 recovery codes left.')).toBeVisible();
});
