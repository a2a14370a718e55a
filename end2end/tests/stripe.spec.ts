import { expect } from '../fixtures/test';
import { addBillingAddress, createAccount, uniqueVisa } from '../fixtures/accounts';
import { expectAccessible } from '../fixtures/page-checks';
import { DECLINED, paymentMethodOf, serveStripeJs, test } from '../fixtures/stripe';

// A server whose cards go through Stripe (fixtures/stripe.ts): the card is typed into Stripe's
// card field, and the page sends only Stripe's token of it with the holder's fields.

test('a card typed into Stripe\'s field is bound without its number ever reaching the server', async ({ page, stripe }, testInfo) => {
  await serveStripeJs(page);
  const sentToUs: string[] = [];
  page.on('request', (request) => {
    if (request.url().startsWith(stripe.url)) sentToUs.push(request.postData() ?? '');
  });
  await createAccount(page.request, testInfo);
  await addBillingAddress(page.request);
  await page.goto('/payment-methods');

  const card = page.getByRole('group', { name: 'Card', exact: true });
  await expect(card).toHaveAccessibleDescription(/go to Stripe only, never to this server/);
  // Only the card: PayPal does not go through Stripe, so it is not offered.
  await expect(page.getByRole('heading', { name: 'Add a bank card' })).toBeVisible();
  await expect(page.getByRole('heading', { name: 'Add PayPal' })).toHaveCount(0);
  await expect(page.getByLabel('CVV', { exact: true })).toHaveCount(0);

  // Stripe.js refuses an incomplete number itself; its words show at the card field.
  const field = card.getByLabel('Card number, expiry and CVV');
  await field.fill('4242 4242');
  await page.getByLabel('First name').fill('Mei');
  await page.getByLabel('Last name').fill('Tan');
  await page.getByRole('button', { name: 'Add Card' }).click();
  await expect(card).toHaveAccessibleDescription(/Your card number is incomplete/);
  await expectAccessible(page, 'payment methods, Stripe card field refused');

  const number = uniqueVisa();
  await field.fill(number);
  await page.getByRole('button', { name: 'Add Card' }).click();
  await expect(page.getByRole('status')).toContainText(`VISA •••• ${number.slice(-4)} added.`);
  expect(await page.evaluate(() => (window as any).__stripeCalls.at(-1))).toEqual({ type: 'card', name: 'Mei Tan' });
  // The field starts blank again for the next card, as the number form's fields do.
  await expect(field).toHaveValue('');

  // Stripe saw the 1.00 hold placed and cancelled; we never saw the number.
  const hold = stripe.received.find(
    (r) => r.path === '/v1/payment_intents' && r.form.payment_method === paymentMethodOf(number),
  );
  expect(hold?.form).toMatchObject({ amount: '100', currency: 'usd', capture_method: 'manual' });
  expect(hold?.idempotencyKey).toBeTruthy();
  expect(sentToUs.some((body) => body.includes(number))).toBe(false);
  expect(sentToUs.some((body) => body.includes(paymentMethodOf(number)))).toBe(true);
});

test('a card Stripe declines is answered at the form and nothing is bound', async ({ page }, testInfo) => {
  await serveStripeJs(page);
  await createAccount(page.request, testInfo);
  await addBillingAddress(page.request);
  await page.goto('/payment-methods');
  await page.getByRole('group', { name: 'Card', exact: true }).getByLabel('Card number, expiry and CVV').fill(DECLINED);
  await page.getByLabel('First name').fill('Mei');
  await page.getByLabel('Last name').fill('Tan');
  await page.getByRole('button', { name: 'Add Card' }).click();
  await expect(page.getByRole('alert').first()).toContainText(/declined/i);
  await expect(page.getByText(/•••• 0002/)).toHaveCount(0);
});
