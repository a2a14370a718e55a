import { readFile } from 'node:fs/promises';
import { expect, test } from '../fixtures/test';
import { addCard, createAccount, csrfToken, PASSWORD, verifyMobile } from '../fixtures/accounts';
import {
  acceptAgreement,
  addCardNumbered,
  advanceServerClock,
  billingAddressWithMobile,
  buyPayAsYouGo,
  confirmDeletion,
  expectCoolDownScreen,
  openSecurity,
  runJobs,
  seedBlockers,
  signIn,
  systemCheckCompletes,
  verifyIdentityByCode,
} from '../fixtures/closure';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

test('a fresh account checks, exports, and closes; signing in again shows only the cool-down', async ({ page }, testInfo) => {
  const account = await createAccount(page.request, testInfo);
  const mobile = await verifyMobile(page.request);
  await page.goto('/');
  await openSecurity(page, testInfo);
  await expect(page.getByRole('heading', { name: 'Account deletion' })).toBeVisible();
  await expectAccessible(page, 'security & closure');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'closure-security');

  await page.getByRole('button', { name: 'Check', exact: true }).click();
  await expect(page.getByText('Nothing must be processed: the account can be closed.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Re-check' })).toBeVisible();
  await snapshot(page, testInfo, 'closure-check-passed');

  // One click: the browser saves the server's JSON, with the orders (none yet) in it.
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export my data' }).click();
  const saved = await download;
  expect(saved.suggestedFilename()).toBe('account-center-export.json');
  const exported = JSON.parse(await readFile((await saved.path())!, 'utf8'));
  expect(exported).toHaveProperty('orders');
  expect(exported).toHaveProperty('bills');
  expect(exported).toHaveProperty('refunds');
  expect(exported).toHaveProperty('invoices');
  await expect(page.getByRole('status').filter({ hasText: 'bills, orders, refunds and invoices' })).toBeVisible();

  await page.getByRole('link', { name: 'Start deleting account' }).click();
  await expect(page).toHaveURL(/\/closure$/);
  await expect(page.getByRole('heading', { name: 'Delete account', level: 1 })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Verify identity' })).toBeVisible();
  await expect(page.getByRole('listitem').filter({ hasText: 'Verify identity' })).toHaveAttribute('aria-current', 'step');
  // No real-name registration: Alipay is not offered, and the page says why.
  await page.getByRole('button', { name: 'Other verification methods' }).click();
  await expect(page.getByText(/Alipay authorization is open to accounts with real-name registration/)).toBeVisible();
  await expectAccessible(page, 'closure: verify identity');
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'closure-identity');
  await verifyIdentityByCode(page, mobile);

  await expect(page.getByRole('heading', { name: 'Account Closure Agreement' })).toBeVisible();
  await expect(page.getByText(/Closing the account is irreversible/)).toBeVisible();
  await expect(page.getByText(/cannot be shortened, and the closure cannot be revoked/)).toBeVisible();
  // Next without the tick: the checkbox says why and takes the focus.
  await page.getByRole('button', { name: 'Next' }).click();
  const agree = page.getByRole('checkbox', { name: 'I have read and agree to the Account Closure Agreement.' });
  await expect(agree).toBeFocused();
  await expect(agree).toHaveAccessibleDescription(/Read and accept the Account Closure Agreement\./);
  await expectAccessible(page, 'closure: agreement');
  await snapshot(page, testInfo, 'closure-agreement');
  await acceptAgreement(page);

  await systemCheckCompletes(page);
  await expect(page.getByText('The account can be closed.')).toBeVisible();
  await expectAccessible(page, 'closure: system check passed');
  await snapshot(page, testInfo, 'closure-system-check');

  await page.getByRole('button', { name: 'Confirm Deletion' }).click();
  const dialog = page.getByRole('dialog', { name: 'Confirm Deletion' });
  await expect(dialog.getByText(/cannot be stopped or revoked/)).toBeVisible();
  await expectAccessible(page, 'closure: confirm deletion');
  await snapshot(page, testInfo, 'closure-confirm');
  await dialog.getByLabel('Closure reason').selectOption({ label: 'I am moving to another provider' });
  await dialog.getByRole('button', { name: 'Confirm Deletion' }).click();

  // Signed out everywhere: the server ended the session.
  await expect(page).toHaveURL(/\/closure\/started/);
  await expect(page.getByRole('heading', { name: 'Account closure started' })).toBeVisible();
  await expect(page.getByText(/The cool-down ends on/)).toBeVisible();
  expect((await page.request.get('/api/session')).status()).toBe(401);
  await expectAccessible(page, 'closure started');
  await snapshot(page, testInfo, 'closure-started');

  await signIn(page, account.email);
  await expectCoolDownScreen(page);
  await expectAccessible(page, 'cool-down');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'closure-cool-down');
  // Any address shows the same screen; the server refuses everything else anyway.
  await page.goto('/billing');
  await expectCoolDownScreen(page);
  expect((await page.request.get('/api/billing-address')).status()).toBe(403);

  await page.getByRole('button', { name: 'Sign Out' }).click();
  await expect(page).toHaveURL(/\/signin$/);
});

test('blocking items are listed, resolved on the resolve page, and the re-check passes', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  const mobile = await billingAddressWithMobile(page.request);
  await addCard(page.request);
  await seedBlockers(page.request);
  await page.goto('/');
  await openSecurity(page, testInfo);

  await page.getByRole('button', { name: 'Check', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'You must process (5)' })).toBeVisible();
  const must = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: 'Process' }) });
  await expect(must).toHaveCount(5);
  await expect(must.filter({ hasText: 'Overdue payments: USD 5.00' })).toContainText('Pay the overdue bills: they are over 10 CNY.');
  await expect(must.filter({ hasText: 'Overdue payments' })).toContainText('CNY 35.50');
  await expect(must.filter({ hasText: '1 ICP filing' })).toBeVisible();
  await expect(must.filter({ hasText: 'Resource directory (administrator)' })).toContainText('Close the resource directory first');
  await expect(must.filter({ hasText: 'Finance trusteeship (member)' })).toBeVisible();
  await expect(must.filter({ hasText: 'Reseller partnership with Demo Cloud Reseller Ltd' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Renounceable (1)' })).toBeVisible();
  await expect(page.getByText('Account balance: USD 50.00')).toBeVisible();
  await expectAccessible(page, 'closure check with blockers');
  await expectNoSidewaysScroll(page);
  await snapshot(page, testInfo, 'closure-check-blocked');

  // Process leads to the resolve page, at the item's section.
  await must.filter({ hasText: '1 ICP filing' }).getByRole('link', { name: 'Process' }).click();
  await expect(page).toHaveURL(/\/closure\/resolve#icp$/);
  await expect(page.getByRole('heading', { name: 'Resolve closure blockers', level: 1 })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'ICP filings' })).toBeInViewport();
  await expectAccessible(page, 'resolve');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'closure-resolve');

  const bills = page.getByRole('region', { name: 'Unpaid bills' });
  await expect(bills.getByText('Overdue', { exact: true })).toBeVisible();
  await bills.getByRole('button', { name: 'Pay' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Bill paid.' })).toBeVisible();
  await expect(bills.getByText('No unpaid bills.')).toBeVisible();

  const icp = page.getByRole('region', { name: 'ICP filings' });
  await icp.getByRole('button', { name: 'Cancel filing' }).click();
  const cancel = page.getByRole('dialog', { name: 'Cancel the ICP filing?' });
  await expect(cancel).toContainText('Zhejiang ICP 12345678-1');
  await expectAccessible(page, 'resolve: confirm');
  await cancel.getByRole('button', { name: 'Cancel filing' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'ICP filing cancelled.' })).toBeVisible();
  await expect(icp.getByText('No ICP filings.')).toBeVisible();

  const relationships = page.getByRole('region', { name: 'Multi-account relationships' });
  // The seed's guidance, as administrator and as member, beside each.
  await expect(relationships.getByText('Close the resource directory first, then close the account.')).toBeVisible();
  await expect(relationships.getByText('Leave the relationship (disassociate this account) first.')).toBeVisible();
  for (let left = 2; left > 0; left--) {
    await relationships.getByRole('button', { name: 'Remove' }).first().click();
    await page.getByRole('dialog', { name: 'Remove the relationship?' }).getByRole('button', { name: 'Remove' }).click();
    await expect(relationships.getByRole('button', { name: 'Remove' })).toHaveCount(left - 1);
  }
  await expect(relationships.getByText('No multi-account relationships.')).toBeVisible();

  const partner = page.getByRole('region', { name: 'Reseller partnership' });
  await partner.getByRole('button', { name: 'End partnership' }).click();
  await page.getByRole('dialog', { name: 'End the reseller partnership?' }).getByRole('button', { name: 'End partnership' }).click();
  await expect(partner.getByText('No reseller partnership.')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Account balance' })).toContainText(/Cash balance: USD \d+\.\d\d/);

  await page.getByRole('link', { name: 'Back to Security & Closure' }).click();
  await page.getByRole('button', { name: 'Check', exact: true }).click();
  await expect(page.getByText('Nothing must be processed: the account can be closed.')).toBeVisible();
  await expect(page.getByText(/^Account balance: USD \d+\.\d\d$/)).toBeVisible();

  // In the closure itself the balance is renounced behind the risk prompt.
  await page.getByRole('link', { name: 'Start deleting account' }).click();
  await verifyIdentityByCode(page, mobile);
  await acceptAgreement(page);
  await systemCheckCompletes(page);
  await expect(page.getByRole('button', { name: 'Confirm Deletion' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Discard or Release Selected Resources' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Select the items to discard or release.' })).toBeVisible();
  await page.getByRole('checkbox', { name: /Account balance: USD/ }).check();
  await page.getByRole('button', { name: 'Discard or Release Selected Resources' }).click();
  const risk = page.getByRole('dialog', { name: 'Discard or release these resources?' });
  await risk.getByRole('button', { name: 'Confirm Discard or Release' }).click();
  const understood = risk.getByRole('checkbox', { name: /cannot be recovered/ });
  await expect(understood).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page, 'closure: risk prompt');
  await snapshot(page, testInfo, 'closure-risk');
  await understood.check();
  await risk.getByRole('button', { name: 'Confirm Discard or Release' }).click();
  // Given up now, on the server, not when the deletion is confirmed.
  await expect(page.getByRole('status').filter({ hasText: 'Discarded or released: 1 item.' })).toBeVisible();
  const after = await (await page.request.get('/api/closure/check')).json();
  expect(after.items.filter((i: { severity: string }) => i.severity === 'renounceable')).toEqual([]);
  await expect(page.getByRole('button', { name: 'Confirm Deletion' })).toBeVisible();
  await snapshot(page, testInfo, 'closure-renounced');
});

// The app path is the phone's: the desktop project leaves @phone-only tests out.
test('the app path: Me, Account Management, Close Account, Continue, Input Captcha, then the same flow @phone-only', async ({ page }, testInfo) => {
  const account = await createAccount(page.request, testInfo);
  const mobile = await verifyMobile(page.request);
  await page.goto('/');

  await page.getByRole('navigation', { name: 'Tabs' }).getByRole('link', { name: 'Me', exact: true }).click();
  await page.getByRole('navigation', { name: 'Account management' }).getByRole('link', { name: 'Account Management' }).click();
  await expect(page.getByRole('heading', { name: 'Account Management', level: 1 })).toBeVisible();
  await page.getByRole('link', { name: 'Close Account' }).click();
  await expect(page.getByRole('heading', { name: 'Close Account', level: 1 })).toBeVisible();
  await expect(page.getByText(/Closing is irreversible/)).toBeVisible();
  await expectAccessible(page, 'app: close account');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'closure-app-warning');
  await page.getByRole('button', { name: 'Continue' }).click();

  await expect(page.getByRole('heading', { name: 'Input Captcha' })).toBeVisible();
  await expectAccessible(page, 'app: input captcha');
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'closure-app-captcha');
  await verifyIdentityByCode(page, mobile);

  await acceptAgreement(page);
  await systemCheckCompletes(page);
  await expectNoSidewaysScroll(page);
  await confirmDeletion(page, 'I no longer need the account');
  await expect(page.getByRole('heading', { name: 'Account closure started' })).toBeVisible();

  await signIn(page, account.email);
  await expectCoolDownScreen(page);
  await expect(page.getByRole('navigation', { name: 'Tabs' })).toHaveCount(0);
  await snapshot(page, testInfo, 'closure-app-cool-down');
});

test('without a verified mobile the code cannot be sent; real-name registration opens Alipay authorization', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  const registered = await page.request.post('/api/real-name', {
    data: { kind: 'individual', name: 'Wang Fang', id_number: '11010519491231002X' },
    headers: { 'X-CSRF-Token': await csrfToken(page.request) },
  });
  expect(registered.ok(), await registered.text()).toBeTruthy();
  await page.goto('/closure');
  await expect(page.getByRole('heading', { name: 'Verify identity' })).toBeVisible();

  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Verify a mobile number' })).toBeVisible();

  const others = page.getByRole('button', { name: 'Other verification methods' });
  await expect(others).toHaveAttribute('aria-expanded', 'false');
  await others.click();
  await expect(others).toHaveAttribute('aria-expanded', 'true');
  await expectAccessible(page, 'closure: other verification methods');
  await snapshot(page, testInfo, 'closure-alipay');
  await page.getByRole('button', { name: 'Authorize with Alipay' }).click();
  await expect(page.getByRole('heading', { name: 'Account Closure Agreement' })).toBeVisible();

  // Verified within the last 30 minutes: coming back skips the identity step.
  await page.goto('/closure');
  await expect(page.getByRole('heading', { name: 'Account Closure Agreement' })).toBeVisible();
});

test('a RAM user is offered no closure, and its pages say only the owner can close', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  const csrf = await csrfToken(page.request);
  const created = await page.request.post('/api/ram-users', {
    data: { username: 'ops', password: 'Turbine9Blue', permissions: ['BillingFullAccess'] },
    headers: { 'X-CSRF-Token': csrf },
  });
  expect(created.status(), await created.text()).toBe(201);
  const alias = (await (await page.request.get('/api/session')).json()).account.uid;
  // The RAM user signs in in this browser, in place of the owner.
  const ram = await page.request.post('/api/session/ram', {
    data: { account_alias: alias, username: 'ops', password: 'Turbine9Blue' },
  });
  expect(ram.ok(), await ram.text()).toBeTruthy();

  await page.goto('/');
  if (testInfo.project.name === 'phone') {
    await page.getByRole('navigation', { name: 'Tabs' }).getByRole('link', { name: 'Me', exact: true }).click();
    const manage = page.getByRole('navigation', { name: 'Account management' });
    await expect(manage.getByRole('link', { name: 'Orders & Unsubscribe' })).toBeVisible();
    await expect(manage.getByRole('link', { name: 'Close Account' })).toHaveCount(0);
    await expect(manage.getByRole('link', { name: 'Security & Closure' })).toHaveCount(0);
  } else {
    const nav = page.getByRole('navigation', { name: 'Console' });
    await expect(nav.getByRole('link', { name: 'Overview' })).toBeVisible();
    await expect(nav.getByRole('link', { name: 'Security & Closure' })).toHaveCount(0);
  }
  for (const path of ['/security', '/closure', '/me/close-account']) {
    await page.goto(path);
    await expect(page.getByText(/Only the account owner can close the account/)).toBeVisible();
    await expect(page.getByRole('button', { name: /Check|Send code|Continue/ })).toHaveCount(0);
  }
});

// Moves the server's clock by days: tagged so that it runs alone, after every other test
// (see playwright.config.ts), since a session or a code of a test running beside it would expire.
test('a closure fails when delayed usage cannot be paid, and the restored account says why @server-clock', async ({ page }, testInfo) => {
  const account = await createAccount(page.request, testInfo);
  const mobile = await billingAddressWithMobile(page.request);
  // Approved when bound; every later charge to it is declined.
  await addCardNumbered(page.request, '4000000000000341');
  await buyPayAsYouGo(page.request);
  // An hour of usage, and a sign-in no longer recent: Confirm Deletion will ask for the password.
  await advanceServerClock(page.request, 61 * 60);

  await page.goto('/security');
  await page.getByRole('link', { name: 'Start deleting account' }).click();
  await verifyIdentityByCode(page, mobile);
  await acceptAgreement(page);
  await systemCheckCompletes(page);
  await page.getByRole('checkbox', { name: /1 pay-as-you-go instance/ }).check();
  await page.getByRole('button', { name: 'Discard or Release Selected Resources' }).click();
  const risk = page.getByRole('dialog', { name: 'Discard or release these resources?' });
  await risk.getByRole('checkbox', { name: /cannot be recovered/ }).check();
  await risk.getByRole('button', { name: 'Confirm Discard or Release' }).click();
  // Releasing is done now, so it asks for the password first; then the same request goes.
  const password = page.getByRole('dialog', { name: "Confirm it's you" });
  await password.getByLabel('Password').fill(PASSWORD);
  await password.getByRole('button', { name: 'Continue' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Discarded or released: 1 item.' })).toBeVisible();
  await confirmDeletion(page);
  await expect(page.getByRole('heading', { name: 'Account closure started' })).toBeVisible();

  // The released instance's last usage reaches billing hours later; the card declines it.
  await advanceServerClock(page.request, 5 * 3600);
  await runJobs(page.request);
  // The cool-down ends with that bill overdue: the closure fails and the account is restored.
  await advanceServerClock(page.request, 7 * 86_400);
  await expect
    .poll(async () => {
      await runJobs(page.request);
      const signedIn = await page.request.post('/api/session', { data: { email: account.email, password: PASSWORD } });
      return signedIn.ok() ? (await signedIn.json()).account.closing : 'refused';
    })
    .toBe(false);

  await signIn(page, account.email);
  await expect(page.getByRole('heading', { name: 'Overview', level: 1 })).toBeVisible();
  await openSecurity(page, testInfo);
  const failure = page.getByRole('region', { name: 'Your account closure failed' });
  await expect(failure).toContainText('new overdue payments');
  await expect(failure).toContainText('Your account is restored.');
  await expectAccessible(page, 'security after a failed closure');
  await snapshot(page, testInfo, 'closure-failed');
  await page.getByRole('button', { name: 'Check', exact: true }).click();
  await expect(page.getByText(/^Overdue payments: USD /)).toBeVisible();
});
