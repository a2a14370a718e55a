import { expect, test } from '../fixtures/test';
import {
  createAccount,
  fillSignup,
  PASSWORD,
  uniqueEmail,
  uniqueSingaporeMobile,
} from '../fixtures/accounts';
import { inbox, newestCode } from '../fixtures/inbox';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

test('signs up with an email code and lands on Add billing address', async ({ page, request }, testInfo) => {
  const email = uniqueEmail(testInfo);

  await page.goto('/signup');
  await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
  await expect(
    page.getByText('Choose the country or region where your phone number and payment card are registered.'),
  ).toBeVisible();
  await expectAccessible(page, 'sign-up');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'signup');

  await fillSignup(page, email);

  await expect(page.getByRole('heading', { name: 'Verify your account' })).toBeVisible();
  // Email by default (seed 000), with the switch to the phone beside it.
  await expect(page.getByRole('heading', { name: 'Verify your email' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Use phone instead' })).toBeVisible();
  await expectAccessible(page, 'verify');
  await expectTouchTargets(page, testInfo);
  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.getByRole('status')).toContainText('Code sent to e***@example.com');
  // The server says when a resend is allowed; the button counts down to it.
  await expect(page.getByRole('button', { name: /Resend code in \d+ s/ })).toBeDisabled();
  await expect(page.getByLabel('Verification code')).toBeFocused();
  await snapshot(page, testInfo, 'verify-code-sent');

  const code = await newestCode(request, email);
  await page.getByLabel('Verification code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();

  // Seed 000: a new account is directed to Add billing address.
  await expect(page).toHaveURL(/\/billing\?welcome=1$/);
  await expect(page.getByRole('heading', { name: 'Billing address', level: 1 })).toBeVisible();
  await expect(page.getByText('You have successfully registered!')).toBeVisible();

  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  const main = page.getByRole('main');
  await expect(main.getByText(email)).toBeVisible();
  await expect(main.getByText('Singapore')).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Next steps' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Add a billing address' })).toBeVisible();
  await expectAccessible(page, 'overview');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'overview');

  // Desktop has it in the left navigation, a phone in the bottom tabs: one visible link each.
  await page.getByRole('link', { name: 'Products', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Products', level: 1 })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Buy a product' })).toBeVisible();
  await expect(page.getByText('Nothing bought yet.')).toBeVisible();
  await expectAccessible(page, 'products');
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'products');

  await page.getByRole('link', { name: /^(Me|My account)$/ }).click();
  await expect(page.getByRole('heading', { name: 'My account' })).toBeVisible();
  await expect(page.getByRole('main').getByText(email)).toBeVisible();
  await expectAccessible(page, 'me');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'me');
});

test('signs up with an SMS code to a mobile number', async ({ page, request }, testInfo) => {
  const mobile = uniqueSingaporeMobile();
  await fillSignup(page, uniqueEmail(testInfo));

  await page.getByRole('button', { name: 'Use phone instead' }).click();
  // The country's calling code stands before the number and is read with it.
  await expect(page.getByText('+65', { exact: true })).toBeVisible();
  await expect(page.getByLabel('Mobile number')).toHaveAccessibleDescription(/\+65/);
  await expect(page.getByRole('radio', { name: 'SMS' })).toBeChecked();
  await expect(page.getByRole('radio', { name: 'Voice call' })).not.toBeChecked();
  await expectAccessible(page, 'verify by phone');
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'verify-phone');

  // A number of another length is refused before anything is sent.
  await page.getByLabel('Mobile number').fill('1234');
  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.getByLabel('Mobile number')).toHaveAccessibleDescription(/not a valid mobile number/);
  await expect(page.getByLabel('Mobile number')).toBeFocused();

  await page.getByLabel('Mobile number').fill(mobile);
  await page.getByRole('button', { name: 'Send code' }).click();
  await expect(page.getByRole('status')).toContainText('by SMS');

  const code = await newestCode(request, `+65${mobile}`);
  await page.getByLabel('Verification code').fill(code);
  await page.getByRole('button', { name: 'Verify' }).click();

  await expect(page.getByRole('heading', { name: 'Billing address', level: 1 })).toBeVisible();
  // Signed up by phone: the email is what the billing address verifies.
  await expect(page.getByRole('heading', { name: 'Verify your email address' })).toBeVisible();
  await page.goto('/');
  await expect(page.getByRole('main').getByText(/Phone/)).toBeVisible();
});

test('shows each refused field under it and keeps what was typed', async ({ page, request }, testInfo) => {
  await page.goto('/signup');
  await page.getByRole('button', { name: 'Sign Up' }).click();
  // Checked in the browser by the shared parser: the first wrong field gets the cursor.
  await expect(page.getByLabel('Country/Region')).toBeFocused();
  await expect(page.getByLabel('Country/Region')).toHaveAccessibleDescription(/Choose your country or region/);
  await expect(page.getByLabel('Email')).toHaveAccessibleDescription(/Enter your email address/);
  await expect(page.getByRole('checkbox', { name: /I have read and agree/ })).toHaveAccessibleDescription(
    /accept the agreements/,
  );

  const email = uniqueEmail(testInfo);
  await page.getByLabel('Country/Region').selectOption({ label: 'Singapore' });
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password', { exact: true }).fill('password1');
  await page.getByLabel('Confirm password').fill('password2');
  await page.getByRole('checkbox', { name: /I have read and agree/ }).check();
  await page.getByRole('button', { name: 'Sign Up' }).click();

  const password = page.getByLabel('Password', { exact: true });
  await expect(password).toBeFocused();
  await expect(password).toHaveAccessibleDescription(/most common/);
  await expect(page.getByLabel('Confirm password')).toHaveAccessibleDescription(/do not match/);
  await expect(password).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Email')).toHaveValue(email);
  await expectAccessible(page, 'sign-up with errors');
  await snapshot(page, testInfo, 'signup-errors');

  // Refused by the server: an address that already has an account, shown at its field.
  const taken = await createAccount(request, testInfo);
  await page.getByLabel('Email').fill(taken.email);
  await password.fill(PASSWORD);
  await page.getByLabel('Confirm password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign Up' }).click();
  await expect(page.getByLabel('Email')).toBeFocused();
  await expect(page.getByLabel('Email')).toHaveAccessibleDescription(/.+/);
  await expect(page.getByLabel('Email')).toHaveAttribute('aria-invalid', 'true');
  await expect(page).toHaveURL(/\/signup$/);
  await expect(password).toHaveValue(PASSWORD);
});

test('a wrong code is refused at the code field', async ({ page, request }, testInfo) => {
  const email = uniqueEmail(testInfo);
  await fillSignup(page, email);
  const before = (await inbox(request, email)).length;
  await page.getByRole('button', { name: 'Send code' }).click();
  const code = await newestCode(request, email, before);
  const wrong = code === '000000' ? '111111' : '000000';

  await page.getByLabel('Verification code').fill('12ab');
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByLabel('Verification code')).toHaveAccessibleDescription(/6-digit code/);

  await page.getByLabel('Verification code').fill(wrong);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByLabel('Verification code')).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByLabel('Verification code')).toHaveValue(wrong);
  await expect(page).toHaveURL(/\/signup\/verify\//);
});

test('an unknown sign-up link says so and offers a new start', async ({ page }) => {
  await page.goto('/signup/verify/no-such-signup');
  await expect(page.getByRole('alert')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Start a new sign-up' })).toBeVisible();
  await expectAccessible(page, 'unknown sign-up');
});

test('the sign-up page keeps its contrast in dark mode', async ({ page }, testInfo) => {
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/signup');
  await page.getByRole('button', { name: 'Sign Up' }).click();
  await expect(page.getByLabel('Country/Region')).toBeFocused();
  await expectAccessible(page, 'sign-up, dark, with errors');
  await snapshot(page, testInfo, 'signup-dark');
});

test('offers a resend when the countdown ends, and the newest code counts', async ({ page, request }, testInfo) => {
  // The countdown runs on the browser's clock and the resend rule on the server's: move both.
  await page.clock.install();
  const email = uniqueEmail(testInfo);
  await fillSignup(page, email);
  await page.getByRole('button', { name: 'Send code' }).click();
  const first = await newestCode(request, email);
  await expect(page.getByRole('button', { name: /Resend code in \d+ s/ })).toBeDisabled();

  await page.clock.runFor(60_000);
  const moved = await request.post('/api/dev/clock', { data: { advance_seconds: 60 } });
  expect(moved.ok(), await moved.text()).toBeTruthy();
  const resend = page.getByRole('button', { name: 'Resend code', exact: true });
  await expect(resend).toBeEnabled();
  await resend.click();
  const second = await newestCode(request, email, 1);
  await expect(page.getByRole('button', { name: /Resend code in \d+ s/ })).toBeDisabled();

  await page.getByLabel('Verification code').fill(second);
  await page.getByRole('button', { name: 'Verify' }).click();
  await expect(page.getByRole('heading', { name: 'Billing address', level: 1 })).toBeVisible();
  expect(second).toMatch(/^\d{6}$/);
  expect(first).toMatch(/^\d{6}$/);
});
