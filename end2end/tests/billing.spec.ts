import { expect, test } from '../fixtures/test';
import { createAccount, uniqueSingaporeMobile, verifyMobile } from '../fixtures/accounts';
import { newestCode } from '../fixtures/inbox';
import { openFromNav, PAGES } from '../fixtures/navigation';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

test('an individual address waits for the mobile code, then saves and stays editable', async ({ page }, testInfo) => {
  // `page.request` shares the page's cookies: the account made here is signed in there.
  await createAccount(page.request, testInfo);
  await page.goto('/');
  const step = page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: 'Add a billing address' }) });
  await step.getByRole('link', { name: 'Add billing address' }).click();

  await expect(page).toHaveURL(/\/billing$/);
  await expect(page.getByRole('heading', { name: 'Billing address', level: 1 })).toBeVisible();
  await expect(page.getByText(/used exclusively for tax assessment, to settle accounts and issue electronic invoices/)).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Verify your mobile number' })).toBeVisible();
  await expect(page.getByRole('radio', { name: 'Individual' })).toBeChecked();
  await expect(page.getByLabel('Country/Region')).toHaveValue('SG');
  await expectAccessible(page, 'billing address');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'billing');

  await page.getByLabel('Last name').fill('Tan');
  await page.getByLabel('First name').fill('Mei');
  await page.getByLabel('Address', { exact: true }).fill('1 Raffles Place');
  await page.getByLabel('City').fill('Singapore');
  await page.getByLabel('Postal code').fill('048616');
  // Refused by the server until the mobile number is proven; the cursor goes there.
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'Verify your mobile number first.' })).toBeVisible();
  await expect(page.getByLabel('Mobile number', { exact: true })).toBeFocused();

  const mobile = uniqueSingaporeMobile();
  await expect(page.getByLabel('Mobile number', { exact: true })).toHaveAccessibleDescription(/\+65/);
  await page.getByLabel('Mobile number', { exact: true }).fill(mobile);
  await page.getByRole('radio', { name: 'SMS' }).check();
  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'by SMS' })).toBeVisible();
  await expect(page.getByRole('button', { name: /Resend code in \d+ s/ })).toBeDisabled();
  await expect(page.getByLabel('Verification code')).toBeFocused();
  const code = await newestCode(page.request, `+65${mobile}`);
  await page.getByLabel('Verification code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Contact details' })).toBeVisible();
  await expect(page.getByText(`+65${mobile}`)).toBeVisible();

  // What was typed before is still there.
  await expect(page.getByLabel('Last name')).toHaveValue('Tan');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Billing address saved' })).toBeVisible();
  await snapshot(page, testInfo, 'billing-saved');

  // Editable later: the saved address comes back in the form.
  await page.goto('/');
  await expect(step.getByText('Done')).toBeVisible();
  await openFromNav(page, testInfo, PAGES.billing);
  await expect(page.getByLabel('Last name')).toHaveValue('Tan');
  await expect(page.getByLabel('State/Province')).toHaveValue('Singapore');
  await page.getByLabel('Apartment, suite, unit (optional)').fill('#20-01');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Billing address updated.' })).toBeVisible();
  await page.reload();
  await expect(page.getByLabel('Apartment, suite, unit (optional)')).toHaveValue('#20-01');
});

test('a corporate address names the company, and a refused postal code is shown at its field', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  await verifyMobile(page.request);
  await page.goto('/');
  await openFromNav(page, testInfo, PAGES.billing);
  await expect(page.getByRole('heading', { name: 'Contact details' })).toBeVisible();

  await page.getByRole('radio', { name: 'Corporate' }).check();
  await expect(page.getByLabel('Company name')).toBeVisible();
  await page.getByRole('button', { name: 'Save' }).click();
  // The shared parser checks before anything is sent: the first wrong field gets the cursor.
  await expect(page.getByLabel('Company name')).toBeFocused();
  await expect(page.getByLabel('Company name')).toHaveAccessibleDescription(/Enter the company name/);
  await expect(page.getByLabel('Contact last name')).toHaveAttribute('aria-invalid', 'true');

  await page.getByLabel('Company name').fill('Acme Cloud Pte Ltd');
  await page.getByLabel('Contact last name').fill('Lim');
  await page.getByLabel('Contact first name').fill('Wei');
  await page.getByLabel('Address', { exact: true }).fill('8 Marina View');
  await page.getByLabel('City').fill('Singapore');
  await page.getByLabel('Postal code').fill('12345');
  await page.getByRole('button', { name: 'Save' }).click();
  const postal = page.getByLabel('Postal code');
  await expect(postal).toBeFocused();
  await expect(postal).toHaveAccessibleDescription(/Enter a postal code as used in Singapore/);
  await expect(postal).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Company name')).toHaveValue('Acme Cloud Pte Ltd');
  await expectAccessible(page, 'billing address with errors');
  await snapshot(page, testInfo, 'billing-corporate-errors');

  await postal.fill('018989');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Billing address saved' })).toBeVisible();
  await page.reload();
  await expect(page.getByRole('radio', { name: 'Corporate' })).toBeChecked();
  await expect(page.getByLabel('Company name')).toHaveValue('Acme Cloud Pte Ltd');
  await expect(page.getByLabel('Contact first name')).toHaveValue('Wei');
});

test('real-name registration refuses a wrong ID and shows the verified status', async ({ page }, testInfo) => {
  await createAccount(page.request, testInfo);
  await page.goto('/');
  await expect(page.getByRole('main').getByText('Not registered')).toBeVisible();
  await openFromNav(page, testInfo, PAGES.billing);
  await page.getByRole('link', { name: 'Go to real-name registration' }).click();

  await expect(page.getByRole('heading', { name: 'Real-name registration', level: 1 })).toBeVisible();
  await expect(page.getByText(/mainland-China regions/).first()).toBeVisible();
  await expectAccessible(page, 'real-name');
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'real-name');

  await page.getByLabel('Name', { exact: true }).fill('Wang Fang');
  await page.getByLabel('ID number').fill('110105194912310021');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByLabel('ID number')).toBeFocused();
  await expect(page.getByLabel('ID number')).toHaveAccessibleDescription(/check digit does not match/);

  // An enterprise's code has another check: a person's number is refused there.
  await page.getByRole('radio', { name: 'Enterprise' }).check();
  await page.getByLabel('ID number').fill('11010519491231002X');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByLabel('ID number')).toHaveAttribute('aria-invalid', 'true');

  await page.getByRole('radio', { name: 'Individual' }).check();
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.getByRole('heading', { name: 'Registration verified' })).toBeVisible();
  await expect(page.getByText('110105********002X')).toBeVisible();
  await expect(page.getByText('19491231')).toHaveCount(0);
  await snapshot(page, testInfo, 'real-name-verified');

  await page.goto('/');
  await expect(page.getByRole('main').getByText('Verified', { exact: true })).toBeVisible();
});
