// The closure's screens: the check's severity, renouncing at once (Confirm Discard or
// Release), the danger Confirm Deletion without a pre-selected reason, the seed's timeline, the
// agreements, and the phone's Me → Account Management → Close Account.
import { expect, test } from '../fixtures/test';
import { addCard, createAccount, csrfToken, verifyMobile } from '../fixtures/accounts';
import {
  acceptAgreement,
  billingAddressWithMobile,
  buyPayAsYouGo,
  openSecurity,
  seedBlockers,
  systemCheckCompletes,
  verifyIdentityByCode,
} from '../fixtures/closure';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';
import { Locator, Page } from '@playwright/test';

/** The colour of an element's left border, and of the page's error and warning tokens. */
async function leftBorder(item: Locator): Promise<string> {
  return item.evaluate((el) => getComputedStyle(el).borderLeftColor);
}

async function token(page: Page, name: string): Promise<string> {
  return page.evaluate((name) => {
    const probe = document.createElement('span');
    probe.style.color = `var(${name})`;
    document.body.append(probe);
    const colour = getComputedStyle(probe).color;
    probe.remove();
    return colour;
  }, name);
}

test('the check shows its severity and counts; Confirm Discard or Release gives the items up at once', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  const mobile = await billingAddressWithMobile(page.request);
  await addCard(page.request);
  await seedBlockers(page.request);
  await buyPayAsYouGo(page.request);
  const instances = await (await page.request.get('/api/instances')).json();
  const payg = instances.filter((i: { billing: string; status: string }) => i.billing === 'payg' && i.status === 'running');
  expect(payg).toHaveLength(1);

  await page.goto('/');
  await openSecurity(page, testInfo);
  // The seed's timeline where the closure starts.
  const timeline = page.getByRole('region', { name: 'How long does it take?' });
  await expect(timeline).toContainText('Several minutes to start the closure');
  await expect(timeline).toContainText('2 to 5 business days');
  await expect(timeline).toContainText('An extra 7 to 15 business days');

  await page.getByRole('button', { name: 'Check', exact: true }).click();
  const summary = page.getByText('5 items must be processed, 2 can be renounced.');
  await expect(summary).toBeVisible();
  const must = page.getByRole('listitem').filter({ has: page.getByRole('link', { name: 'Process' }) });
  await expect(must).toHaveCount(5);
  const renounceable = page.getByRole('listitem').filter({ hasText: 'Renounceable' });
  await expect(renounceable).toHaveCount(2);
  // Must process in the error style, renounceable in the warning style: not the same colour.
  const error = await token(page, '--error');
  const warning = await token(page, '--warning');
  expect(error).not.toEqual(warning);
  for (const item of await must.all()) {
    await expect(item.getByText('Must process', { exact: true })).toBeVisible();
    expect(await leftBorder(item)).toBe(error);
  }
  for (const item of await renounceable.all()) expect(await leftBorder(item)).toBe(warning);
  expect(await leftBorder(summary)).toBe(error);
  await expectAccessible(page, 'closure check with severity');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'closure-screens-check');

  await page.getByRole('link', { name: 'Start deleting account' }).click();
  await verifyIdentityByCode(page, mobile);
  await acceptAgreement(page);
  await systemCheckCompletes(page);
  await expect(page.getByText('5 items must be processed, 2 can be renounced.')).toBeVisible();
  // One line per instance under the pay-as-you-go item.
  const lines = page.getByRole('list', { name: 'Instances of 1 pay-as-you-go instance' });
  await expect(lines.getByRole('listitem')).toHaveText([payg[0].id]);

  // Select all ticks every renounceable item.
  await page.getByRole('checkbox', { name: 'Select all' }).check();
  await expect(page.getByRole('checkbox', { name: /Account balance: USD/ })).toBeChecked();
  await expect(page.getByRole('checkbox', { name: /1 pay-as-you-go instance/ })).toBeChecked();
  await expectAccessible(page, 'closure: renounceable selected');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'closure-screens-renounce');
  await page.getByRole('button', { name: 'Discard or Release Selected Resources' }).click();
  const risk = page.getByRole('dialog', { name: 'Discard or release these resources?' });
  await risk.getByRole('checkbox', { name: /cannot be recovered/ }).check();
  await expectAccessible(page, 'closure: risk prompt');
  await risk.getByRole('button', { name: 'Confirm Discard or Release' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Discarded or released: 2 items.' })).toBeVisible();
  await expect(risk).toHaveCount(0);

  // Done on the server now, before any Confirm Deletion: the balance is gone, the instance released.
  const check = await (await page.request.get('/api/closure/check')).json();
  expect(check.items.filter((i: { severity: string }) => i.severity === 'renounceable')).toEqual([]);
  const ties = await (await page.request.get('/api/closure/ties')).json();
  expect(ties.cash_balance.amount).toMatch(/^0(\.0+)?$/);
  const left = await (await page.request.get('/api/instances')).json();
  const instance = left.find((i: { id: string }) => i.id === payg[0].id);
  expect(instance?.status ?? 'released', 'the instance is no longer running').toBe('released');
  // What must be processed still stands in the way.
  await expect(page.getByText('5 items must be processed.', { exact: true })).toBeVisible();
  await expect(page.getByRole('checkbox', { name: 'Select all' })).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Confirm Deletion' })).toHaveCount(0);
  const session = await page.request.get('/api/session');
  expect((await session.json()).account.closing).toBe(false);
  await snapshot(page, testInfo, 'closure-screens-renounced');
});

test('Confirm Deletion is the danger button, asks for a reason it never assumes, and names payment information and coupons', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  const mobile = await verifyMobile(page.request);
  await page.goto('/closure');
  await expect(page.getByRole('region', { name: 'How long does it take?' })).toContainText('2 to 5 business days');
  await expectAccessible(page, 'closure: start with timeline');
  await expectNoSidewaysScroll(page);
  // The stepper stays on one line at both sizes.
  const stepper = page.getByRole('list', { name: 'Closure steps' });
  const tops = await stepper.getByRole('listitem').evaluateAll((items) => items.map((i) => Math.round(i.getBoundingClientRect().top)));
  expect(new Set(tops).size, `stepper rows: ${tops}`).toBe(1);
  expect(await stepper.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
  await verifyIdentityByCode(page, mobile);

  // The agreement: 1,000 CNY once, and the four agreements linked.
  const agreement = page.getByRole('region', { name: 'Agreement text' });
  await expect(agreement).toContainText('1,000 CNY or less');
  await expect(agreement).not.toContainText('CNY CNY');
  const links = agreement.getByRole('list', { name: 'The agreements' });
  await expect(links.getByRole('link', { name: /Membership Agreement/ })).toHaveAttribute('href', '/agreements/membership.html');
  await expect(links.getByRole('link', { name: /Privacy Policy/ })).toHaveAttribute('href', '/agreements/privacy.html');
  await expect(links.getByRole('link', { name: /Product Terms/ })).toHaveAttribute('href', '/agreements/product-terms.html');
  await expect(links.getByRole('link', { name: /Terms of Use/ })).toHaveAttribute('href', '/agreements/terms-of-use.html');
  await expectAccessible(page, 'closure: agreement with links');
  await expectTouchTargets(page, testInfo);
  await acceptAgreement(page);
  await systemCheckCompletes(page);

  await page.getByRole('button', { name: 'Confirm Deletion' }).click();
  const dialog = page.getByRole('dialog', { name: 'Confirm Deletion' });
  await expect(dialog).toContainText('payment information');
  await expect(dialog).toContainText('coupons');
  const reason = dialog.getByLabel('Closure reason');
  await expect(reason).toHaveValue('');
  const confirm = dialog.getByRole('button', { name: 'Confirm Deletion' });
  await expect(confirm).toHaveClass(/button-danger/);
  // Solid red, unlike Buy Now (the accent colour).
  const error = await token(page, '--error');
  const accent = await token(page, '--accent');
  await expect(confirm).toHaveCSS('background-color', error);
  expect(accent).not.toEqual(error);
  await expectAccessible(page, 'closure: confirm deletion');
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'closure-screens-confirm');

  // No reason chosen: nothing is sent, the select says why.
  await confirm.click();
  await expect(reason).toHaveAttribute('aria-invalid', 'true');
  await expect(reason).toHaveAccessibleDescription(/Choose a closure reason\./);
  expect((await (await page.request.get('/api/session')).json()).account.closing).toBe(false);
  // The server refuses a confirmation without a reason too.
  const refused = await page.request.post('/api/closure', {
    data: { system_check_id: 'any', agreement_accepted: true, renounce: [], risk_acknowledged: false },
    headers: { 'X-CSRF-Token': await csrfToken(page.request) },
  });
  expect(refused.status()).toBe(422);
  expect((await refused.json()).code).toBe('field_required');

  await reason.selectOption({ label: 'It costs too much' });
  await confirm.click();
  await expect(page.getByRole('heading', { name: 'Account closure started' })).toBeVisible();
});

test('the app path has an Account Management screen, rows with chevrons, and Close Account in red @phone-only', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  await page.goto('/');
  await page.getByRole('navigation', { name: 'Tabs' }).getByRole('link', { name: 'Me', exact: true }).click();
  const manage = page.getByRole('navigation', { name: 'Account management' });
  const rows = manage.getByRole('link');
  // count() does not wait for the lazily loaded page; the poll does.
  await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(6);
  for (const row of await rows.all()) {
    await expect(row.locator('.app-row-chevron')).toHaveText('›');
    expect((await row.boundingBox())!.height).toBeGreaterThanOrEqual(44);
  }
  await expectAccessible(page, 'me');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'closure-screens-me');

  await manage.getByRole('link', { name: 'Account management', exact: true }).click();
  await expect(page).toHaveURL(/\/me\/account-management$/);
  await expect(page.getByRole('heading', { name: 'Account management', level: 1 })).toBeVisible();
  const close = page.getByRole('navigation', { name: 'Close the account' }).getByRole('link', { name: 'Close Account' });
  await expect(close).toHaveCSS('color', await token(page, '--error'));
  await expectAccessible(page, 'account management');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'closure-screens-account-management');

  await close.click();
  await expect(page.getByRole('heading', { name: 'Close Account', level: 1 })).toBeVisible();
  await expect(page.getByRole('region', { name: 'How long does it take?' })).toContainText('7 to 15 business days');
  const stepper = page.getByRole('list', { name: 'Closure steps' });
  const tops = await stepper.getByRole('listitem').evaluateAll((items) => items.map((i) => Math.round(i.getBoundingClientRect().top)));
  expect(new Set(tops).size, `stepper rows: ${tops}`).toBe(1);
  expect(await stepper.evaluate((el) => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0);
  await expect(stepper.getByRole('listitem').nth(0)).toHaveAttribute('aria-current', 'step');
  await expectNoSidewaysScroll(page);
  await snapshot(page, testInfo, 'closure-screens-app-warning');
});
