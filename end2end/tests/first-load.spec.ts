import type { Page, Route } from '@playwright/test';
import { createAccount } from '../fixtures/accounts';
import { expectAccessible } from '../fixtures/page-checks';
import { expect, test } from '../fixtures/test';

// A visitor without a session gets the sign-in form in the page itself (signin.html, built
// from public/index.html and sent at / and /signin by server/src/lib.rs): it can be filled in
// while the app's code is on its way, and the page's script hands what was typed to the app's
// own form. These tests hold the app's main module back to see the page alone, then let it go.

/** Holds the requests for the app's main module until the returned function lets them go. */
async function holdTheApp(page: Page): Promise<() => Promise<void>> {
  const held: Route[] = [];
  let released = false;
  await page.route(/\/pkg\/[0-9a-f]+\/app_bg\.wasm$/, async (route) => {
    if (released) await route.continue();
    else held.push(route);
  });
  return async () => {
    released = true;
    await Promise.all(held.splice(0).map((route) => route.continue()));
  };
}

/** The page's own form, which the app removes once it has taken it over. */
const pageForm = (page: Page) => page.locator('#sign-in-shell');

/**
 * The signed-out frame as markup: each element with its attributes and its text, without the
 * app's comment marks and whitespace, and without what typing changes (values, focus).
 */
function outline(page: Page, selector: string): Promise<string> {
  return page.locator(selector).evaluate((root) => {
    const walk = (node: Node): string => {
      if (node.nodeType === Node.TEXT_NODE) return (node.textContent ?? '').replace(/\s+/g, ' ').trim();
      if (node.nodeType !== Node.ELEMENT_NODE) return '';
      const element = node as Element;
      const attributes = [...element.attributes]
        .map((a) => `${a.name}="${a.value}"`)
        .sort()
        .join(' ');
      const children = [...element.childNodes].map(walk).filter((part) => part !== '');
      return `<${element.localName} ${attributes}>${children.join('|')}</${element.localName}>`;
    };
    return walk(root);
  });
}

test('the sign-in form is in the page before the app arrives, drawn as the app draws it', async ({ page }) => {
  const release = await holdTheApp(page);
  await page.goto('/signin');

  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(page.getByLabel('Email')).toBeEditable();
  await expect(page.getByLabel('Password')).toBeEditable();
  await expectAccessible(page, 'the sign-in page before the app');
  // The page's form (with its form's `method`, which keeps a password out of the address
  // should a submission ever slip past the page's script) against the app's own.
  const before = (await outline(page, '#sign-in-shell .auth-frame')).replace(' method="post"', '');

  await release();
  await expect(pageForm(page)).toHaveCount(0);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  expect(before).toEqual(await outline(page, 'body > .auth-frame'));
});

test('what was typed before the app arrived, and Sign In pressed meanwhile, carry over', async ({
  page,
  request,
}, testInfo) => {
  // `request` has its own cookies: the page starts signed out.
  const account = await createAccount(request, testInfo);
  const release = await holdTheApp(page);
  await page.goto('/');

  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign In' }).click();
  // Held for the app: the page neither goes anywhere nor sends the form.
  await expect(page.getByRole('button', { name: 'Sign In' })).toBeDisabled();
  await expect(page).toHaveURL(/\/$/);

  await release();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('main').getByText(account.email)).toBeVisible();
});

test('typing goes on in the same field while the app takes the form over', async ({ page }) => {
  const release = await holdTheApp(page);
  await page.goto('/signin');
  await page.getByLabel('Email').click();
  await page.keyboard.type('someone');

  await release();
  await expect(pageForm(page)).toHaveCount(0);
  await page.keyboard.type('@example.com');
  await expect(page.getByLabel('Email')).toHaveValue('someone@example.com');
  await expect(page.getByLabel('Email')).toBeFocused();

  // It is the app's form now: its own checks answer.
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByLabel('Password')).toHaveAttribute('aria-invalid', 'true');
});

test('a visitor with a session never sees a sign-in form while the console loads', async ({ page }, testInfo) => {
  // `page.request` shares the page's cookies: the page is signed in.
  await createAccount(page.request, testInfo);
  const release = await holdTheApp(page);
  await page.goto('/');

  await expect(page.locator('body')).toBeAttached();
  expect(await page.getByLabel('Email').count(), 'no sign-in form in the page').toBe(0);

  await release();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
});
