import { Page } from '@playwright/test';
import { expect, test } from '../fixtures/test';
import {
  addBillingAddress,
  createAccount,
  fillSignup,
  uniqueEmail,
  uniqueIndianMobile,
  uniqueVisa,
} from '../fixtures/accounts';
import { newestCode } from '../fixtures/inbox';
import { openFromNav, PAGES } from '../fixtures/navigation';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

async function fillCard(page: Page, number: string, cvv = '123') {
  await page.getByLabel('Card number').fill(number);
  await page.getByLabel('MM', { exact: true }).fill('12');
  await page.getByLabel('YY', { exact: true }).fill('31');
  await page.getByLabel('CVV', { exact: true }).fill(cvv);
  await page.getByLabel('First name').fill('Mei');
  await page.getByLabel('Last name').fill('Tan');
}

test('binds a card: the credit shows on the overview and the method in the list', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  await addBillingAddress(page.request);
  await page.goto('/');
  await openFromNav(page, testInfo, PAGES.payment);

  await expect(page.getByRole('heading', { name: 'Payment methods', level: 1 })).toBeVisible();
  await expect(page.getByText('Add a verified payment method to activate your $300 free credit')).toBeVisible();
  await expect(page.getByText('You will not be charged until you use cloud resources.')).toBeVisible();
  await expect(page.getByText('No payment method yet.')).toBeVisible();
  await expect(page.getByLabel('CVV', { exact: true })).toHaveAccessibleDescription(/The CVV will not be saved/);
  await expect(page.getByText(/USD 1\.00 is held on it and released at once/)).toBeVisible();
  // The card's address starts as the billing address.
  await expect(page.getByLabel('Address', { exact: true })).toHaveValue('1 Raffles Place');
  await expect(page.getByLabel('Postal code')).toHaveValue('048616');
  await expectAccessible(page, 'payment methods');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'payment-methods');

  const first = uniqueVisa();
  await fillCard(page, first);
  await page.getByRole('button', { name: 'Add Card' }).click();
  const last4 = first.slice(-4);
  await expect(page.getByRole('status').filter({ hasText: `VISA •••• ${last4} added. Your $300 free credit is active.` })).toBeVisible();
  const firstItem = page.getByRole('listitem').filter({ hasText: `•••• ${last4}` });
  await expect(firstItem.getByText('Default', { exact: true })).toBeVisible();
  await expect(firstItem.getByText('Expires 12/31')).toBeVisible();
  await expect(page.getByText('Add a verified payment method to activate your $300 free credit')).toBeHidden();
  // The number and CVV are gone from the form once the card is bound.
  await expect(page.getByLabel('Card number')).toHaveValue('');
  await expect(page.getByLabel('CVV', { exact: true })).toHaveValue('');
  await snapshot(page, testInfo, 'payment-methods-added');

  await page.getByRole('link', { name: 'Overview' }).or(page.getByRole('link', { name: 'Home' })).first().click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('main').getByText('USD 300.00')).toBeVisible();

  // A second card: made the default, then the first one removed after a confirmation.
  await openFromNav(page, testInfo, PAGES.payment);
  const second = uniqueVisa();
  await fillCard(page, second);
  await page.getByRole('button', { name: 'Add Card' }).click();
  const secondItem = page.getByRole('listitem').filter({ hasText: `•••• ${second.slice(-4)}` });
  await expect(secondItem).toBeVisible();
  await expect(secondItem.getByText('Default', { exact: true })).toHaveCount(0);
  await secondItem.getByRole('button', { name: 'Set as default' }).click();
  await expect(secondItem.getByText('Default', { exact: true })).toBeVisible();
  await expect(firstItem.getByText('Default', { exact: true })).toHaveCount(0);

  await firstItem.getByRole('button', { name: 'Remove' }).click();
  const dialog = page.getByRole('dialog', { name: `Remove VISA •••• ${last4}?` });
  await expect(dialog).toBeVisible();
  await expectAccessible(page, 'remove a payment method');
  await dialog.getByRole('button', { name: 'Remove' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Payment method removed.' })).toBeVisible();
  await expect(firstItem).toHaveCount(0);
  await expect(page.getByRole('listitem').filter({ hasText: '••••' })).toHaveCount(1);
});

test('refuses a prepaid card at the number field and explains a declined card', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  await addBillingAddress(page.request);
  await page.goto('/payment-methods');
  const number = page.getByLabel('Card number');

  // A typo is caught before anything is sent.
  await fillCard(page, '4111111111111112');
  await page.getByRole('button', { name: 'Add Card' }).click();
  await expect(number).toBeFocused();
  await expect(number).toHaveAccessibleDescription(/not valid: check for a typo/);

  // Refused by the server's BIN table: prepaid, virtual and gift cards.
  await number.fill('4532750000000009');
  await page.getByRole('button', { name: 'Add Card' }).click();
  await expect(number).toBeFocused();
  await expect(number).toHaveAccessibleDescription(/prepaid card.*use a credit or debit card/i);
  await expect(number).toHaveAttribute('aria-invalid', 'true');
  await expectAccessible(page, 'payment methods, refused card');
  await snapshot(page, testInfo, 'payment-refused-card');

  // Declined by the bank at the verification hold: a message for the whole form.
  await number.fill('4000000000000002');
  await page.getByRole('button', { name: 'Add Card' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Your bank declined the verification' })).toBeVisible();
  await expect(page.getByLabel('First name')).toHaveValue('Mei');

  await number.fill('4000000000009995');
  await page.getByLabel('CVV', { exact: true }).fill('123');
  await page.getByRole('button', { name: 'Add Card' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'too little available' })).toBeVisible();
  await expect(page.getByText('No payment method yet.')).toBeVisible();
});

/** On the simulated PayPal page: log in with `email` and pick the PayPal account's country. */
async function consentAtPaypal(page: Page, email: string, country: string) {
  await expect(page).toHaveURL(/\/sim\/paypal\/checkout\?token=/);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('paypal-secret');
  await page.getByLabel('PayPal account country').selectOption({ label: country });
  await page.getByRole('button', { name: 'Agree and Continue' }).click();
}

test('adds PayPal through its approval page', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  await addBillingAddress(page.request);
  await page.goto('/payment-methods');
  await page.getByRole('button', { name: 'Add Now' }).click();

  const payer = uniqueEmail(testInfo);
  await consentAtPaypal(page, payer, 'United States');
  await expect(page).toHaveURL(/\/payment-methods\/paypal\/return\?token=/);
  await expect(page.getByRole('heading', { name: 'PayPal added' })).toBeVisible();
  await expect(page.getByRole('status')).toContainText('Your $300 free credit is active.');
  await expectAccessible(page, 'PayPal added');
  await snapshot(page, testInfo, 'paypal-added');

  await page.getByRole('link', { name: 'Back to payment methods' }).click();
  const item = page.getByRole('listitem').filter({ hasText: 'PayPal' });
  await expect(item).toContainText(`PayPal ${payer[0]}***@example.com`);
  await expect(item.getByText('Default', { exact: true })).toBeVisible();
  await expect(page.getByText('PayPal is added. An account can have one PayPal account.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Add Now' })).toHaveCount(0);
});

test('a PayPal cancel or a mainland-China PayPal account adds nothing', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  await addBillingAddress(page.request);
  await page.goto('/payment-methods');

  await page.getByRole('button', { name: 'Add Now' }).click();
  await expect(page).toHaveURL(/\/sim\/paypal\/checkout\?token=/);
  await page.getByRole('link', { name: 'Cancel and return to Account Center' }).click();
  await expect(page).toHaveURL(/cancelled=1/);
  await expect(page.getByRole('heading', { name: 'PayPal was not added' })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('You cancelled at PayPal');
  await expectAccessible(page, 'PayPal cancelled');
  await snapshot(page, testInfo, 'paypal-cancelled');

  await page.getByRole('link', { name: 'Back to payment methods' }).click();
  await page.getByRole('button', { name: 'Add Now' }).click();
  await consentAtPaypal(page, uniqueEmail(testInfo), 'China (mainland)');
  await expect(page.getByRole('heading', { name: 'PayPal was not added' })).toBeVisible();
  await expect(page.getByRole('alert')).toContainText('Mainland China PayPal accounts are not supported');

  await page.getByRole('link', { name: 'Back to payment methods' }).click();
  await expect(page.getByText('No payment method yet.')).toBeVisible();
  await expect(page.getByText('Add a verified payment method to activate your $300 free credit')).toBeVisible();
});

test('an India account signs up by phone, verifies its email with the address, and adds Paytm', async ({ page }, testInfo) => {
  const email = uniqueEmail(testInfo);
  await fillSignup(page, email, 'India');
  await page.getByRole('button', { name: 'Use phone instead' }).click();
  await expect(page.getByText('+91', { exact: true })).toBeVisible();
  const mobile = uniqueIndianMobile();
  await page.getByLabel('Mobile number').fill(`${mobile.slice(0, 5)} ${mobile.slice(5)}`);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByLabel('Verification code').fill(await newestCode(page.request, `+91${mobile}`));
  await page.getByRole('button', { name: 'Verify' }).click();
  // Verified, the account is directed to its billing address, which verifies the channel
  // sign-up did not: here the email.
  await expect(page).toHaveURL(/\/billing\?welcome=1$/);
  await expect(page.getByRole('heading', { name: 'Verify your email address' })).toBeVisible();
  await expect(page.getByLabel('Mobile number', { exact: true })).toHaveCount(0);
  await page.getByRole('button', { name: 'Send code' }).click();
  await page.getByLabel('Verification code').fill(await newestCode(page.request, email));
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Contact details' })).toBeVisible();
  await page.getByLabel('Last name').fill('Sharma');
  await page.getByLabel('First name').fill('Priya');
  await page.getByLabel('Address', { exact: true }).fill('12 Marine Drive');
  await page.getByLabel('City').fill('Mumbai');
  await page.getByLabel('State/Province').fill('Maharashtra');
  await page.getByLabel('Postal code').fill('400001');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Billing address saved' })).toBeVisible();

  await openFromNav(page, testInfo, PAGES.payment);
  await expect(page.getByRole('heading', { name: 'Paytm' })).toBeVisible();
  // Paytm is the only method for India accounts.
  await expect(page.getByRole('heading', { name: 'Add a bank card' })).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'PayPal' })).toHaveCount(0);
  await expectAccessible(page, 'payment methods, India');
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'paytm');

  const wallet = uniqueIndianMobile();
  await page.getByLabel('Paytm mobile number').fill('12345');
  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.getByLabel('Paytm mobile number')).toHaveAttribute('aria-invalid', 'true');
  await page.getByLabel('Paytm mobile number').fill(wallet);
  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Code sent to' })).toBeVisible();
  await expect(page.getByLabel('Verification code')).toBeFocused();
  await page.getByLabel('Verification code').fill(await newestCode(page.request, `+91${wallet}`));
  await page.getByRole('button', { name: 'Add now' }).click();
  await expect(page.getByRole('status').filter({ hasText: `Paytm +91****${wallet.slice(-4)} added.` })).toBeVisible();
  await expect(page.getByRole('listitem').filter({ hasText: 'Paytm' }).getByText('Default', { exact: true })).toBeVisible();
});
