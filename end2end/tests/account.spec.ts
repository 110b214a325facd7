import { test, expect } from '@playwright/test';
import { baseURL, collectErrors, createUser, hydrated, ownerApi, signIn, strongPassword, unique, virtualAuthenticator } from './helpers';

// The account page: preferences, password, sessions, API tokens and passkeys — with and without JavaScript
// (adding a passkey needs WebAuthn, so JavaScript). Every test uses a user of its own.

const isHydrated = (name: string) => name === 'hydrated';

test('preferences: Spanish and a time zone, kept with the account', async ({ page, browser }, testInfo) => {
  const api = await ownerApi();
  const username = unique('prefs', testInfo);
  await createUser(api, username);
  await signIn(page, username, strongPassword, '/account');
  await hydrated(page, testInfo);
  // An unknown time zone is refused next to its field.
  await page.locator('#pref-tz').fill('Mars/Olympus');
  await page.getByTestId('save-preferences').click();
  await expect(page.locator('[data-field="time_zone"]')).toContainText('unknown time zone');

  await page.locator('#pref-lang').selectOption('es');
  await page.locator('#pref-tz').fill('Europe/Madrid');
  await page.getByTestId('save-preferences').click();
  await expect(page.locator('h1')).toHaveText('Cuenta');
  await expect(page.locator('#pref-tz')).toHaveValue('Europe/Madrid');
  // Instants are shown in Spanish and in Madrid's time (this session started moments ago).
  const seen = (await page.locator('[data-testid="session"][data-current="true"] td').nth(3).textContent()) ?? '';
  expect(seen).toMatch(/^\d{1,2} (ene|feb|mar|abr|may|jun|jul|ago|sept|oct|nov|dic) \d{4}, \d{2}:\d{2}$/);
  const madridHour = (at: Date) =>
    new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Madrid', hour: '2-digit', hourCycle: 'h23' }).format(at);
  const now = new Date();
  expect([madridHour(now), madridHour(new Date(now.getTime() - 120_000))]).toContain(seen.slice(-5, -3));

  // Another browser (English) gets Spanish once this user signs in there.
  const other = await browser.newContext({ locale: 'en-US', javaScriptEnabled: isHydrated(testInfo.project.name) });
  const second = await other.newPage();
  await signIn(second, username, strongPassword, '/account');
  await expect(second.locator('h1')).toHaveText('Cuenta');
  await other.close();
  await api.dispose();
});

test('change password: a wrong current password is shown at its field, then the change works', async ({ page }, testInfo) => {
  const api = await ownerApi();
  const username = unique('pw', testInfo);
  await createUser(api, username);
  await signIn(page, username, strongPassword, '/account');
  await hydrated(page, testInfo);
  await page.locator('#current_password').fill('not my password at all');
  await page.locator('#new_password').fill('copper meadow 5521 sparrow');
  await page.getByTestId('change-password').click();
  await expect(page.locator('[data-field="current_password"]')).toBeVisible();
  await expect(page.locator('#current_password')).toHaveAttribute('aria-invalid', 'true');

  await page.locator('#current_password').fill(strongPassword);
  await page.locator('#new_password').fill('copper meadow 5521 sparrow');
  await page.getByTestId('change-password').click();
  await expect(page.locator('[data-field="current_password"]')).toHaveCount(0);
  if (isHydrated(testInfo.project.name)) await expect(page.getByTestId('toast')).toContainText('Password changed');
  const check = await (await import('@playwright/test')).request.newContext({ baseURL });
  const login = await check.post('/api/v1/auth/login', { data: { username, password: 'copper meadow 5521 sparrow' } });
  expect(login.status()).toBe(200);
  await check.dispose();
  await api.dispose();
});

test('sessions: other devices are listed, one is revoked, then all others', async ({ page, browser }, testInfo) => {
  const api = await ownerApi();
  const username = unique('sess', testInfo);
  await createUser(api, username);
  const devices = [];
  for (let i = 0; i < 2; i++) {
    const context = await browser.newContext({ javaScriptEnabled: isHydrated(testInfo.project.name) });
    const other = await context.newPage();
    await signIn(other, username, strongPassword);
    devices.push({ context, page: other });
  }

  await signIn(page, username, strongPassword, '/account');
  const rows = page.getByTestId('session');
  await expect(rows).toHaveCount(3);
  await expect(page.locator('[data-testid="session"][data-current="true"]')).toHaveCount(1);
  await hydrated(page, testInfo);
  await page.locator('[data-testid="session"][data-current="false"]').first().getByTestId('revoke-session').click();
  await expect(rows).toHaveCount(2);
  await page.getByTestId('revoke-other-sessions').click();
  await expect(rows).toHaveCount(1);

  // The other devices are signed out at once: their next page is the sign-in page.
  for (const device of devices) {
    await device.page.goto('/account');
    await expect(device.page).toHaveURL(/\/sign-in\?next=\/account/);
    await device.context.close();
  }
  await api.dispose();
});

test('API tokens: the secret is shown once, works, and stops working when revoked', async ({ page }, testInfo) => {
  const api = await ownerApi();
  const username = unique('tok', testInfo);
  await createUser(api, username);
  await signIn(page, username, strongPassword, '/account');
  await hydrated(page, testInfo);
  // A bad scope is refused next to the field.
  await page.locator('#token-name').fill('bad');
  await page.locator('#token-scopes').fill('not a permission!');
  await page.getByTestId('create-token').click();
  await expect(page.locator('[data-field^="scopes"]').first()).toBeVisible();

  await page.locator('#token-name').fill('Nightly export');
  await page.locator('#token-scopes').fill('table:*:read');
  await page.getByTestId('create-token').click();
  const token = page.getByTestId('token').filter({ hasText: 'Nightly export' });
  await expect(token).toBeVisible();
  if (isHydrated(testInfo.project.name)) {
    const secret = (await page.getByTestId('token-secret').textContent()) ?? '';
    expect(secret).toMatch(/^tsk_/);
    const client = await (await import('@playwright/test')).request.newContext({
      baseURL,
      extraHTTPHeaders: { authorization: `Bearer ${secret}` },
    });
    expect((await client.get('/api/v1/tables')).status()).toBe(200);
    await token.getByTestId('revoke-token').click();
    await expect(token).toContainText('revoked');
    expect((await client.get('/api/v1/tables')).status()).toBe(401);
    await client.dispose();
    // Shown once: a reload does not show it again.
    await page.reload();
    await expect(page.getByTestId('token-secret')).toHaveCount(0);
  } else {
    await token.getByTestId('revoke-token').click();
    await expect(page.getByTestId('token').filter({ hasText: 'Nightly export' })).toContainText('revoked');
  }
  await api.dispose();
});

test('passkeys: add, rename and delete', async ({ page }, testInfo) => {
  test.skip(!isHydrated(testInfo.project.name), 'WebAuthn needs JavaScript');
  const errors = collectErrors(page);
  const api = await ownerApi();
  const username = unique('pk', testInfo);
  await createUser(api, username);
  await virtualAuthenticator(page);
  await signIn(page, username, strongPassword, '/account');
  await hydrated(page, testInfo);
  await expect(page.getByTestId('passkeys-empty')).toBeVisible();
  await page.locator('#new-passkey-name').fill('Work laptop');
  await page.getByTestId('add-passkey').click();
  const item = page.getByTestId('passkey');
  await expect(item).toHaveCount(1);
  await expect(item.locator('.passkey-name')).toHaveText('Work laptop');

  await item.locator('input[name="name"]').fill('Home desktop');
  await item.getByTestId('rename-passkey').click();
  await expect(page.getByTestId('passkey').locator('.passkey-name')).toHaveText('Home desktop');

  await page.getByTestId('passkey').getByTestId('delete-passkey').click();
  await expect(page.getByTestId('passkey')).toHaveCount(0);
  await expect(page.getByTestId('passkeys-empty')).toBeVisible();
  expect(errors).toEqual([]);
  await api.dispose();
});
