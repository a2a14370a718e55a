import type { Page } from '@playwright/test';
import { createAccount } from '../fixtures/accounts';
import { expect, test } from '../fixtures/test';

// The rarely used flows are split out of the first load (app/src/flows.rs, .ci/build-app):
// their code arrives as wasm chunks the first time one of their pages is shown.

/** Requests for a lazily loaded part of the app: a flow's chunk or code flows share. */
const CHUNK = /\/pkg\/[0-9a-f]+\/(split|chunk)_[^/]*\.wasm$/;

/** The addresses of the chunks `page` asks for from now on, filled in as it asks. */
function chunksFetched(page: Page): string[] {
  const chunks: string[] = [];
  page.on('request', (request) => {
    if (CHUNK.test(new URL(request.url()).pathname)) chunks.push(request.url());
  });
  return chunks;
}

test('the sign-in page needs no lazily loaded part; sign-up fetches its own on first use', async ({ page }) => {
  const chunks = chunksFetched(page);

  await page.goto('/signin');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(chunks, 'the first load is the main module alone').toEqual([]);

  await page.getByRole('link', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
  expect(chunks.some((url) => url.includes('signup_flow')), `sign-up's chunk: ${chunks.join(', ')}`).toBe(true);
});

test('the console comes in its own chunk, fetched only once the server confirms a session', async ({
  page,
}, testInfo) => {
  const chunks = chunksFetched(page);

  // Signed out, the overview's address ends on sign-in without fetching the console.
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(chunks, 'a signed-out visit fetches no lazily loaded part').toEqual([]);

  // Signed in, the same address shows the shell and the overview from the console's chunk.
  await createAccount(page.request, testInfo);
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('banner').getByRole('link', { name: 'Account Center' })).toBeVisible();
  expect(chunks.some((url) => url.includes('console_flow')), `the console's chunk: ${chunks.join(', ')}`).toBe(true);
});

test('a refused sign-in fetches nothing more; an accepted one fetches the session reader and the console', async ({
  page,
  request,
}, testInfo) => {
  // `request` has its own cookies: the page starts signed out.
  const account = await createAccount(request, testInfo);
  const chunks = chunksFetched(page);

  await page.goto('/signin');
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill('Wrong-password-1');
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByRole('alert')).toBeVisible();
  await page.waitForLoadState('networkidle');
  expect(chunks, 'a refusal is read by the first load').toEqual([]);

  // The account view (and the decimal parser its credit balance needs) is read by code
  // fetched once the server has accepted the sign-in (app/src/api.rs, `parse_session`).
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  await expect(page.getByRole('main').getByText(account.email)).toBeVisible();
  expect(chunks.some((url) => url.includes('parse_session')), `the session reader: ${chunks.join(', ')}`).toBe(true);
  expect(chunks.some((url) => url.includes('console_flow')), `the console's chunk: ${chunks.join(', ')}`).toBe(true);
});

test('an accepted sign-in fetches the console beside the session reader, not after it', async ({
  page,
  request,
}, testInfo) => {
  const account = await createAccount(request, testInfo);

  // The session reader's chunk is held back until the console's chunk has been asked for (or
  // 5 s have passed). Were the console fetched only once the reader had run, it would not be
  // asked for while the reader is held.
  let consoleAsked!: () => void;
  const consoleRequested = new Promise<'console first'>((resolve) => {
    consoleAsked = () => resolve('console first');
  });
  page.on('request', (r) => {
    if (CHUNK.test(new URL(r.url()).pathname) && r.url().includes('console_flow')) consoleAsked();
  });
  let order = '';
  await page.route(
    (url) => CHUNK.test(url.pathname) && url.pathname.includes('parse_session'),
    async (route) => {
      const held = new Promise<'reader alone'>((resolve) => setTimeout(() => resolve('reader alone'), 5000));
      order ||= await Promise.race([consoleRequested, held]);
      await route.continue();
    },
  );

  await page.goto('/signin');
  await page.getByLabel('Email').fill(account.email);
  await page.getByLabel('Password').fill(account.password);
  await page.getByRole('button', { name: 'Sign In' }).click();
  await expect(page.getByRole('heading', { name: 'Overview' })).toBeVisible();
  expect(order).toBe('console first');
});

test('a page whose code cannot be fetched says the app stopped and offers a reload', async ({ page }) => {
  await page.route(CHUNK, (route) => route.abort('internetdisconnected'));

  await page.goto('/signin');
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.getByRole('link', { name: 'Sign up' }).click();

  const notice = page.getByRole('alert').filter({ hasText: 'Account Center stopped' });
  await expect(notice).toBeVisible();
  await expect(notice).toContainText('reload the page');

  // With the network back, the offered reload starts the app again where it was (the
  // navigation to sign-up never completed), and sign-up now loads.
  await page.unroute(CHUNK);
  await notice.getByRole('button', { name: 'Reload' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await expect(notice).toBeHidden();
  await page.getByRole('link', { name: 'Sign up' }).click();
  await expect(page.getByRole('heading', { name: 'Create your account' })).toBeVisible();
});
