import { test, expect, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { collectErrors, createUser, hydrated, ownerApi, signIn, strongPassword, unique, virtualAuthenticator } from './helpers';

// Sign-in and the other pages of anonymous visitors: return to the page asked for, wrong credentials, a
// locked account, password reset by mail, language and theme, passkey sign-in.

const isHydrated = (name: string) => name === 'hydrated';

test('sign-in sends the user back to the page they asked for', async ({ page }) => {
  await page.goto('/admin/users');
  await expect(page).toHaveURL(/\/sign-in\?next=\/admin\/users$/);
  await page.locator('#username').fill(process.env.TESSERA_E2E_USER ?? 'owner');
  await page.locator('#password').fill(process.env.TESSERA_E2E_PASSWORD ?? '');
  await page.getByTestId('sign-in').click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await expect(page.locator('h1')).toHaveText('Users');
});

test('an open redirect in ?next= is ignored, signing in or already signed in', async ({ page }) => {
  await signIn(page, undefined, undefined, 'https://evil.example/');
  await expect(page).toHaveURL(/^http:\/\/localhost:\d+\/$/);
  for (const next of ['//evil.example/', '/\\evil.example/', '/\t/evil.example/']) {
    await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
    await expect(page).toHaveURL(/^http:\/\/localhost:\d+\/$/);
  }
});

test('a locked account says so, the same as for an unknown name', async ({ page }, testInfo) => {
  const api = await ownerApi();
  const username = unique('locked', testInfo);
  await createUser(api, username);
  for (const name of [username, `${username}-nobody`]) {
    await page.goto('/sign-in');
    for (let i = 0; i < 5; i++) {
      await page.locator('#username').fill(name);
      await page.locator('#password').fill(`wrong password number ${i}`);
      await page.getByTestId('sign-in').click();
      await expect(page.getByTestId('form-error')).toBeVisible();
    }
    await page.locator('#username').fill(name);
    await page.locator('#password').fill(strongPassword);
    await page.getByTestId('sign-in').click();
    await expect(page.getByTestId('form-error')).toHaveText(/Too many attempts.*locked; try again in \d+ min/i);
  }
  await api.dispose();
});

/** The newest `.eml` in the server's mail folder addressed to `to`, once it appears. */
async function mailTo(to: string): Promise<string> {
  const dir = process.env.TESSERA_E2E_MAIL_DIR;
  test.skip(!dir, 'TESSERA_E2E_MAIL_DIR is not set (scripts/e2e.sh sets it)');
  let found = '';
  await expect
    .poll(() => {
      if (!fs.existsSync(dir!)) return '';
      for (const file of fs.readdirSync(dir!)) {
        const text = fs.readFileSync(path.join(dir!, file), 'utf8');
        if (text.includes(`To: ${to}`)) found = text;
      }
      return found;
    }, { timeout: 15_000 })
    .not.toBe('');
  return found;
}

/** The readable text of a message: quoted-printable and base64 bodies decoded. */
function decodeBody(mail: string): string {
  const quoted = mail.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(parseInt(hex, 16)));
  const base64 = mail
    .split(/\r?\n\r?\n/)
    .slice(1)
    .map((part) => (/^[A-Za-z0-9+/=\r\n]+$/.test(part.trim()) ? Buffer.from(part, 'base64').toString('utf8') : ''))
    .join('\n');
  return `${quoted}\n${base64}`;
}

test('password reset: request a link, choose a new password, sign in with it', async ({ page }, testInfo) => {
  const api = await ownerApi();
  const username = unique('reset', testInfo);
  const email = `${username}@example.com`;
  await createUser(api, username, { email });

  await page.goto('/sign-in');
  await page.getByTestId('forgot-password').click();
  await expect(page).toHaveURL(/\/reset-password$/);
  await hydrated(page, testInfo);
  await page.locator('#login').fill(email);
  await page.getByTestId('reset-send').click();
  await expect(page.getByTestId('reset-sent')).toBeVisible();

  const link = /\/reset-password\?token=([A-Za-z0-9_-]+)/.exec(decodeBody(await mailTo(email)));
  expect(link, 'a reset link in the mail').not.toBeNull();
  await page.goto(`/reset-password?token=${link![1]}`);
  await hydrated(page, testInfo);
  // A weak password is refused next to its field; nothing is lost.
  await page.locator('#new_password').fill('aaaaaaaaaaaa');
  await page.getByTestId('reset-confirm').click();
  await expect(page.locator('[data-field="new_password"]')).toBeVisible();
  const newPassword = 'lantern orchid 4491 tractor velvet';
  await page.locator('#new_password').fill(newPassword);
  await page.getByTestId('reset-confirm').click();
  await expect(page).toHaveURL(/\/sign-in\?notice=reset/);
  await expect(page.getByTestId('notice')).toBeVisible();
  await signIn(page, username, newPassword);
  await api.dispose();
});

test.describe('Spanish browsers', () => {
  test.use({ locale: 'es-ES' });

  test('get the sign-in page in Spanish from Accept-Language', async ({ page }) => {
    await page.goto('/sign-in');
    await expect(page.locator('html')).toHaveAttribute('lang', 'es');
    await expect(page.getByTestId('sign-in')).toHaveText('Iniciar sesión');
    await expect(page.locator('label[for="password"]')).toHaveText('Contraseña');
  });
});

test('language and theme switch at once and are remembered', async ({ page }, testInfo) => {
  test.skip(!isHydrated(testInfo.project.name), 'the switches need JavaScript');
  const errors = collectErrors(page);
  await page.goto('/sign-in');
  await hydrated(page, testInfo);
  await page.getByTestId('language-switch').selectOption('es');
  await expect(page.getByTestId('sign-in')).toHaveText('Iniciar sesión');
  await expect(page.locator('html')).toHaveAttribute('lang', 'es');
  await page.getByTestId('theme-switch').selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await page.reload();
  await expect(page.getByTestId('sign-in')).toHaveText('Iniciar sesión');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await hydrated(page, testInfo);
  await page.getByTestId('language-switch').selectOption('en');
  await page.getByTestId('theme-switch').selectOption('');
  await expect(page.getByTestId('sign-in')).toHaveText('Sign in');
  expect(errors).toEqual([]);
});

async function addPasskey(page: Page, name: string) {
  await page.goto('/account');
  await page.locator('#new-passkey-name').fill(name);
  await page.getByTestId('add-passkey').click();
  await expect(page.getByTestId('passkey').filter({ hasText: name })).toBeVisible();
}

test('passkeys: register on the account page, then sign in without a password', async ({ page }, testInfo) => {
  test.skip(!isHydrated(testInfo.project.name), 'WebAuthn needs JavaScript');
  const errors = collectErrors(page);
  const api = await ownerApi();
  const username = unique('passkey', testInfo);
  await createUser(api, username);
  const authenticator = await virtualAuthenticator(page);

  await signIn(page, username, strongPassword);
  await hydrated(page, testInfo);
  await addPasskey(page, 'Test laptop');
  expect(await authenticator.credentials()).toHaveLength(1);

  await page.getByTestId('user-menu').locator('summary').click();
  await page.getByTestId('sign-out').click();
  await expect(page.getByTestId('sign-in-form')).toBeVisible();
  await hydrated(page, testInfo);
  // Usernameless: the authenticator offers the discoverable credential.
  await page.getByTestId('sign-in-passkey').click();
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByTestId('signed-in-as')).toHaveText(username);

  // Username-first works too, and the passkey's last use is shown.
  await page.getByTestId('user-menu').locator('summary').click();
  await page.getByTestId('sign-out').click();
  await hydrated(page, testInfo);
  await page.locator('#username').fill(username);
  await page.getByTestId('sign-in-passkey').click();
  await expect(page.getByTestId('signed-in-as')).toHaveText(username);
  expect(errors).toEqual([]);
  await api.dispose();
});
