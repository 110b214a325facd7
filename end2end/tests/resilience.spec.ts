import { test, expect, request } from '@playwright/test';
import { baseURL, createUser, hydrated, ownerApi, signIn, strongPassword, unique } from './helpers';

// What the hydrated app does when the server cannot be reached or the session ends underneath it.

test.beforeEach(({}, testInfo) => {
  test.skip(testInfo.project.name !== 'hydrated', 'reacting to failed calls needs JavaScript');
});

test('a dropped connection shows a retry banner; retry loads the data again', async ({ page }, testInfo) => {
  await signIn(page, undefined, undefined, '/account');
  await hydrated(page, testInfo);
  await page.route('**/fn/**', (route) => route.abort('internetdisconnected'));
  await page.getByTestId('revoke-other-sessions').click();
  const banner = page.getByTestId('offline-banner');
  await expect(banner).toBeVisible();
  await page.unroute('**/fn/**');
  const reload = page.waitForResponse((r) => r.url().includes('/fn/account/get') && r.ok());
  await banner.getByRole('button').click();
  await reload;
  await expect(banner).toHaveCount(0);
  await expect(page.getByTestId('sessions')).toBeVisible();
});

test('an ended session sends the user to sign-in and back to the page', async ({ page }, testInfo) => {
  const api = await ownerApi();
  const username = unique('ended', testInfo);
  await createUser(api, username);
  await signIn(page, username, strongPassword, '/account');
  await hydrated(page, testInfo);

  // The same user signs out every other session from an API client: the browser's session ends.
  const client = await request.newContext({ baseURL });
  const login = await client.post('/api/v1/auth/login', { data: { username, password: strongPassword } });
  const { access_token } = await login.json();
  const revoked = await client.delete('/api/v1/auth/sessions', { headers: { authorization: `Bearer ${access_token}` } });
  expect(revoked.status()).toBe(200);
  await client.dispose();

  await page.locator('#token-name').fill('after the end');
  await page.getByTestId('create-token').click();
  await expect(page).toHaveURL(/\/sign-in\?next=\/account$/);
  await hydrated(page, testInfo);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(strongPassword);
  await page.getByTestId('sign-in').click();
  await expect(page).toHaveURL(/\/account$/);
  await expect(page.locator('h1')).toHaveText('Account');
  await api.dispose();
});
