import { Locator, Page } from '@playwright/test';
import { expect, test } from '../fixtures/test';
import {
  addBillingAddress,
  createAccount,
  fillSignup,
  uniqueEmail,
  uniqueVisa,
  verifyMobile,
} from '../fixtures/accounts';
import { newestCode } from '../fixtures/inbox';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

const STEPS = ['Add billing address', 'Add payment method', 'Create instance'];

function stepper(page: Page): Locator {
  return page.getByRole('list', { name: 'Account setup' });
}

/** The seed's three steps in order, `current` marked, those before it done. */
async function expectStepper(page: Page, current: string) {
  const items = stepper(page).getByRole('listitem');
  await expect(items).toHaveCount(3);
  const at = STEPS.indexOf(current);
  for (const [i, label] of STEPS.entries()) {
    const item = items.nth(i);
    await expect(item).toContainText(label);
    if (i === at) await expect(item).toHaveAttribute('aria-current', 'step');
    else await expect(item).not.toHaveAttribute('aria-current', /.*/);
    if (i < at) await expect(item).toContainText('(done)');
    else await expect(item).not.toContainText('(done)');
  }
  // Every label on one line, inside the window, at either size.
  const layout = await stepper(page).evaluate((list) => {
    const labels = Array.from(list.querySelectorAll<HTMLElement>('.stepper-label'));
    return {
      lines: labels.map((l) => l.getClientRects().length),
      right: Math.max(...labels.map((l) => l.getBoundingClientRect().right)),
      width: document.documentElement.clientWidth,
    };
  });
  expect(layout.lines, 'line boxes per stepper label').toEqual([1, 1, 1]);
  expect(layout.right).toBeLessThanOrEqual(layout.width);
}

async function checkPage(page: Page, testInfo: Parameters<typeof snapshot>[1], name: string) {
  await expectAccessible(page, name);
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, name);
}

test('a verified sign-up lands on Add billing address, and each step hands over to the next', async ({ page }, testInfo) => {
  // The whole journey with four page checks (axe, screenshots): longer than one page's test.
  test.slow();
  const email = uniqueEmail(testInfo);
  await fillSignup(page, email);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByLabel('Verification code').fill(await newestCode(page.request, email));
  await page.getByRole('button', { name: 'Verify' }).click();

  await expect(page).toHaveURL(/\/billing\?welcome=1$/);
  await expect(page.getByRole('heading', { name: 'Billing address', level: 1 })).toBeVisible();
  await expect(page.getByText('You have successfully registered!')).toBeVisible();
  await expect(page.getByText('Add a verified payment method to activate your $300 free credit.')).toBeVisible();
  await expectStepper(page, 'Add billing address');
  // Seed 000: the address is for tax and invoices only, and never shared.
  await expect(page.getByText(/not shared with any third party/)).toBeVisible();
  await checkPage(page, testInfo, 'onboarding-billing');

  // The mobile number is proven (as the billing test does through the page), then the address
  // is saved without a postal code: it is optional.
  await verifyMobile(page.request);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Contact details' })).toBeVisible();
  await expectStepper(page, 'Add billing address');
  await page.getByLabel('Last name').fill('Tan');
  await page.getByLabel('First name').fill('Mei');
  await page.getByLabel('Address', { exact: true }).fill('1 Raffles Place');
  await page.getByLabel('City').fill('Singapore');
  await expect(page.getByLabel('Postal code')).toHaveValue('');
  await expect(page.getByLabel('Postal code')).toHaveAccessibleDescription(/Optional/);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Billing address saved' })).toBeVisible();
  await expectStepper(page, 'Add payment method');
  await page.getByRole('link', { name: 'Next: Add payment method' }).click();

  await expect(page).toHaveURL(/\/payment-methods$/);
  await expectStepper(page, 'Add payment method');
  await expect(page.getByText('Add a verified payment method to activate your $300 free credit')).toBeVisible();
  await page.getByLabel('Card number').fill(uniqueVisa());
  await page.getByLabel('MM', { exact: true }).fill('12');
  await page.getByLabel('YY', { exact: true }).fill('31');
  await page.getByLabel('CVV', { exact: true }).fill('123');
  await page.getByLabel('First name').fill('Mei');
  await page.getByLabel('Last name').fill('Tan');
  await page.getByRole('button', { name: 'Add Card' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'free credit is active' })).toBeVisible();
  await expectStepper(page, 'Create instance');
  await checkPage(page, testInfo, 'onboarding-payment-done');
  await page.getByRole('link', { name: 'Next: Create instance' }).click();
  await expect(page).toHaveURL(/\/products$/);

  // The overview tells the same story as the stepper: two steps done, the instance next.
  await page.goto('/');
  const steps = page.getByRole('heading', { name: 'Next steps' }).locator('..').getByRole('listitem');
  await expect(steps).toHaveCount(3);
  await expect(steps.nth(0).getByText('Done', { exact: true })).toBeVisible();
  await expect(steps.nth(1).getByText('Done', { exact: true })).toBeVisible();
  await expect(steps.nth(2).getByRole('link', { name: 'Create instance' })).toBeVisible();
  await expect(page.getByText('Your account is set up: you can buy cloud resources.')).toBeVisible();
  await expect(page.getByRole('main').getByRole('link', { name: /^Add / })).toHaveCount(0);
  await checkPage(page, testInfo, 'onboarding-overview-done');
});

test('the overview offers only the current step, in the words of the stepper', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  await page.goto('/');
  const steps = page.getByRole('heading', { name: 'Next steps' }).locator('..').getByRole('listitem');
  await expect(steps).toHaveCount(3);
  await expect(steps.getByRole('link')).toHaveCount(1);
  await expect(steps.nth(0).getByRole('link', { name: 'Add billing address' })).toBeVisible();
  await expect(steps.nth(1).getByText('Later')).toBeVisible();
  await expect(page.getByText(/Nothing left to do/)).toHaveCount(0);
  await checkPage(page, testInfo, 'onboarding-overview-new');

  await addBillingAddress(page.request);
  await page.goto('/');
  await expect(steps.nth(0).getByText('Done', { exact: true })).toBeVisible();
  await expect(steps.getByRole('link')).toHaveCount(1);
  await steps.nth(1).getByRole('link', { name: 'Add payment method' }).click();
  await expect(page).toHaveURL(/\/payment-methods$/);
  await expectStepper(page, 'Add payment method');
});

test('a Paytm-only (India) account is asked for Paytm, and the Paytm panel carries its notes', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo, 'IN');
  await addBillingAddress(page.request, 'IN');
  await page.goto('/');
  const steps = page.getByRole('heading', { name: 'Next steps' }).locator('..').getByRole('listitem');
  await expect(steps.nth(1).getByRole('heading', { name: 'Add Paytm as your payment method' })).toBeVisible();
  await expect(steps.nth(1)).not.toContainText(/bank card|PayPal/);
  await expect(steps.nth(1).getByRole('link', { name: 'Add Paytm' })).toBeVisible();
  await checkPage(page, testInfo, 'onboarding-overview-india');

  await steps.nth(1).getByRole('link', { name: 'Add Paytm' }).click();
  await expectStepper(page, 'Add payment method');
  const paytm = page.getByRole('region', { name: 'Paytm' });
  await expect(paytm.getByText('One Paytm account can be connected to only one account.')).toBeVisible();
  await expect(paytm.getByText(/balance is more than the order amount/)).toBeVisible();
  await expect(paytm.getByText(/depends on your KYC result/)).toBeVisible();
  await expect(paytm.getByText(/pre-authorization hold is placed on your Paytm account/)).toBeVisible();
  await checkPage(page, testInfo, 'onboarding-paytm');
});

test('the card and PayPal panels carry the seed notes', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  await addBillingAddress(page.request);
  await page.goto('/payment-methods');
  const card = page.getByRole('region', { name: 'Add a bank card' });
  await expect(card.getByText('A bank card can be added to only one account at a time.')).toBeVisible();
  await expect(card.getByText(/enterprise card without a card holder name: enter your own name/)).toBeVisible();
  const paypal = page.getByRole('region', { name: 'PayPal' });
  await expect(paypal.getByText(/For your pay-as-you-go services, a pre-authorization hold is placed on your PayPal account/)).toBeVisible();
  await expect(paypal.getByText('A PayPal account can be added to only one account at a time.')).toBeVisible();
  await checkPage(page, testInfo, 'onboarding-payment-notes');
});

test('the code screen says what to do when no code comes, and switches between email and phone', async ({ page }, testInfo) => {
  await fillSignup(page, uniqueEmail(testInfo));
  await expect(page.getByRole('heading', { name: 'Verify your email' })).toBeVisible();
  const emailHelp = page.getByText('Not receiving an email?');
  await emailHelp.click();
  await expect(page.getByText(/Check your spam or junk folder/)).toBeVisible();
  await expect(page.getByText(/When the countdown ends, you can send a new code/)).toBeVisible();
  await checkPage(page, testInfo, 'onboarding-verify-help-email');

  await page.getByRole('button', { name: 'Use phone instead' }).click();
  await expect(page.getByRole('heading', { name: 'Verify your mobile phone' })).toBeVisible();
  await expect(page.getByLabel('Mobile number')).toBeVisible();
  await expect(page.getByText('Not receiving calls or messages?')).toBeVisible();
  await expect(page.getByText('Not receiving an email?')).toHaveCount(0);
  await expect(page.getByText(/choose a voice call instead of SMS/)).toBeVisible();
  await checkPage(page, testInfo, 'onboarding-verify-help-phone');

  await page.getByRole('button', { name: 'Use email instead' }).click();
  await expect(page.getByRole('heading', { name: 'Verify your email' })).toBeVisible();
  await expect(page.getByLabel('Mobile number')).toHaveCount(0);
});

test('the four agreements open in a new tab without ticking the box, each a page with its text', async ({ page, context }, testInfo) => {
  await page.goto('/signup');
  const box = page.getByRole('checkbox', { name: /I have read and agree/ });
  const pages = [
    ['Membership Agreement', '/agreements/membership.html'],
    ['Privacy Policy', '/agreements/privacy.html'],
    ['Product Terms', '/agreements/product-terms.html'],
    ['Terms of Use', '/agreements/terms-of-use.html'],
  ];
  for (const [name, href] of pages) {
    const link = page.getByRole('link', { name: new RegExp(`^${name}`) });
    await expect(link).toHaveAttribute('href', href);
    await expect(link).toHaveAttribute('target', '_blank');
  }
  const opened = context.waitForEvent('page');
  await page.getByRole('link', { name: /^Privacy Policy/ }).click();
  const tab = await opened;
  await tab.waitForLoadState();
  await expect(tab.getByRole('heading', { name: 'Privacy Policy', level: 1 })).toBeVisible();
  await tab.close();
  await expect(box).not.toBeChecked();
  await box.check();
  await expect(box).toBeChecked();

  for (const [name, href] of pages) {
    await page.goto(href);
    await expect(page.getByRole('heading', { name, level: 1 })).toBeVisible();
    await expect(page.getByRole('main').locator('section')).not.toHaveCount(0);
    await expect(page.getByText(/lorem/i)).toHaveCount(0);
    // The text reads as a page: nothing of it hidden inside a scrolling box.
    const hidden = await page.getByRole('main').evaluate((m) => m.scrollHeight - m.clientHeight);
    expect(hidden, 'px of the agreement scrolled inside its box').toBeLessThanOrEqual(0);
    await expect(page.getByRole('link', { name: 'Back to Account Center' }).first()).toHaveAttribute('href', '/');
    await checkPage(page, testInfo, `agreement-${href.split('/').pop()!.replace('.html', '')}`);
  }
});
