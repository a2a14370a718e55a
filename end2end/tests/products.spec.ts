import { expect, test } from '../fixtures/test';
import { readyToBuy } from '../fixtures/accounts';
import {
  expectAccessible,
  expectNoSidewaysScroll,
  expectTouchTargets,
  snapshot,
} from '../fixtures/page-checks';

test('buys by subscription and by the hour, then renews, activates and releases', async ({ page }, testInfo) => {
  await readyToBuy(page.request, testInfo);
  await page.goto('/');
  await page.getByRole('link', { name: 'Products', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Buy a product' })).toBeVisible();
  await expect(page.getByText('Nothing bought yet.')).toBeVisible();

  // Mainland-China regions say what they need; the server refuses them without it.
  await page.getByLabel('Region').selectOption({ label: 'China (Hangzhou) — real-name registration needed' });
  await expect(page.getByText(/China \(Hangzhou\) is a mainland-China region/)).toBeVisible();
  await expect(page.getByRole('link', { name: 'Register your real name' })).toBeVisible();
  await page.getByRole('button', { name: 'Buy Now' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'needs real-name registration first' })).toBeVisible();

  await page.getByLabel('Region').selectOption({ label: 'Singapore' });
  await page.getByLabel('Subscription period').selectOption({ label: '3 months' });
  await expect(page.getByText('USD 60.00 for 3 months')).toBeVisible();
  await page.getByRole('checkbox', { name: 'Renew automatically when it expires' }).check();
  await expect(page.getByRole('radio', { name: 'Default payment method' })).toBeChecked();
  await expect(page.getByRole('radio', { name: 'Free credit (USD 300.00 left)' })).toBeVisible();
  await expectAccessible(page, 'products');
  await expectNoSidewaysScroll(page);
  await expectTouchTargets(page, testInfo);
  await snapshot(page, testInfo, 'products-buy');

  await page.getByRole('button', { name: 'Buy Now' }).click();
  const bought = page.getByRole('status').filter({ hasText: 'Bought Elastic Compute Service (ECS) in Singapore' });
  await expect(bought).toContainText('Charged USD 60.00.');
  const ecsId = (await bought.textContent())!.match(/instance (\S+)\./)![1];
  const ecs = page.getByRole('listitem').filter({ hasText: ecsId });
  await expect(ecs.getByText('Running')).toBeVisible();
  await expect(ecs).toContainText('renews automatically');

  await ecs.getByRole('button', { name: 'Renew' }).click();
  const renew = page.getByRole('dialog', { name: `Renew ${ecsId}` });
  await expect(renew).toBeVisible();
  await renew.getByLabel('Renewal period').selectOption({ label: '1 month' });
  await renew.getByRole('radio', { name: 'Free credit' }).check();
  await expectAccessible(page, 'renew dialog');
  await renew.getByRole('button', { name: 'Renew' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${ecsId} renewed for 1 month.` })).toBeVisible();

  // A resource plan, paid with the credit, then activated. Its product is also sold by the
  // hour: such usage draws on the active plan before it is billed (SPEC §5).
  await page.getByLabel('Product', { exact: true }).selectOption({ label: 'OSS storage plan (500 GB) — USD 9.90 a month' });
  await page.getByRole('radio', { name: 'Pay-as-you-go' }).check();
  await expect(page.getByText('USD 0.02 per hour (1 GB an hour), billed by usage after what your active plan covers')).toBeVisible();
  await page.getByRole('radio', { name: 'Subscription' }).check();
  await page.getByRole('radio', { name: /^Free credit/ }).check();
  await page.getByRole('button', { name: 'Buy Now' }).click();
  const planBought = page.getByRole('status').filter({ hasText: 'Bought OSS storage plan' });
  const planId = (await planBought.textContent())!.match(/instance (\S+)\./)![1];
  const plan = page.getByRole('listitem').filter({ hasText: planId });
  await expect(plan.getByText('Not activated')).toBeVisible();
  await plan.getByRole('button', { name: 'Activate' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${planId} activated.` })).toBeVisible();
  await expect(plan.getByText('Activated', { exact: true })).toBeVisible();

  // Pay-as-you-go: priced by the hour, released rather than unsubscribed.
  await page.getByLabel('Product', { exact: true }).selectOption({ label: 'Elastic Compute Service (ECS) — USD 20.00 a month' });
  await page.getByRole('radio', { name: 'Pay-as-you-go' }).check();
  await expect(page.getByText('USD 0.05 per hour, billed by usage')).toBeVisible();
  await page.getByRole('button', { name: 'Buy Now' }).click();
  const paygBought = page.getByRole('status').filter({ hasText: 'Bought Elastic Compute Service' });
  await expect(paygBought).toContainText('Charged USD 0.00.');
  const paygId = (await paygBought.textContent())!.match(/instance (\S+)\./)![1];
  const payg = page.getByRole('listitem').filter({ hasText: paygId });
  await expect(payg).toContainText('Pay-as-you-go since');
  await snapshot(page, testInfo, 'products-instances');
  await payg.getByRole('button', { name: 'Release' }).click();
  await page.getByRole('dialog', { name: `Release ${paygId}?` }).getByRole('button', { name: 'Release' }).click();
  await expect(page.getByRole('status').filter({ hasText: `${paygId} released.` })).toBeVisible();
  await expect(payg.getByRole('button', { name: 'Release' })).toHaveCount(0);
});
