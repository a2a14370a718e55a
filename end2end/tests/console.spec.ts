import { expect, test } from '../fixtures/test';
import { buy, readyToBuy } from '../fixtures/accounts';
import { expectAccessible, expectNoSidewaysScroll, snapshot } from '../fixtures/page-checks';

test('every console page keeps its contrast in dark mode and fits the screen', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  await buy(page.request, 'ecs', 1);
  await page.emulateMedia({ colorScheme: 'dark' });
  const pages: [string, string][] = [
    ['/', 'Overview'],
    ['/billing', 'Billing address'],
    ['/real-name', 'Real-name registration'],
    ['/payment-methods', 'Payment methods'],
    ['/products', 'Products'],
    ['/unsubscribe', 'Orders & Unsubscribe'],
    ['/ram-users', 'RAM users'],
    ['/me', 'My account'],
  ];
  for (const [path, heading] of pages) {
    await page.goto(path);
    await expect(page.getByRole('heading', { name: heading, level: 1 })).toBeVisible();
    // Wait for the page's data, not just its frame.
    await expect(page.getByRole('status').filter({ hasText: /^Loading/ })).toHaveCount(0);
    await expectAccessible(page, `${path} in dark mode`);
    await expectNoSidewaysScroll(page);
  }
  await snapshot(page, testInfo, 'me-dark');
});

// A keyboard is a desktop matter: the phone project leaves @desktop-only tests out.
test('the order tabs and the left navigation work from the keyboard @desktop-only', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  await page.goto('/unsubscribe');
  const resource = page.getByRole('tab', { name: 'Unsubscribe Resource' });
  await resource.focus();
  await page.keyboard.press('ArrowRight');
  const renewal = page.getByRole('tab', { name: 'Unsubscribe Renewal That Does Not Take Effect' });
  await expect(renewal).toBeFocused();
  await expect(renewal).toHaveAttribute('aria-selected', 'true');
  await expect(page).toHaveURL(/tab=renewal/);
  await expect(page.getByText('No renewal is waiting to take effect.')).toBeVisible();
  await page.keyboard.press('End');
  await expect(page.getByRole('tab', { name: 'Unsubscribe Order Details' })).toBeFocused();
  await expect(page.getByText('Nothing unsubscribed yet.')).toBeVisible();
  // Only the selected tab is in the tab order.
  await expect(resource).toHaveAttribute('tabindex', '-1');

  const nav = page.getByRole('navigation', { name: 'Console' });
  await nav.getByRole('link', { name: 'Payment Methods' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Payment methods', level: 1 })).toBeVisible();
  await expect(nav.getByRole('link', { name: 'Payment Methods' })).toHaveAttribute('aria-current', 'page');
});
