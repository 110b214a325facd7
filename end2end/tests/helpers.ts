import { expect, request as playwrightRequest, type APIRequestContext, type Page, type TestInfo } from '@playwright/test';

// Shared helpers of the browser specs. The server under test was started by scripts/e2e.sh with an Owner
// (TESSERA_E2E_USER / TESSERA_E2E_PASSWORD) and writes mail to TESSERA_E2E_MAIL_DIR.

export const owner = {
  username: process.env.TESSERA_E2E_USER ?? 'owner',
  password: process.env.TESSERA_E2E_PASSWORD ?? '',
};
export const baseURL = process.env.BASE_URL ?? '';
export const strongPassword = 'violet anchor marmalade 1987 quartz';

/** A name no other test (or project, or earlier run on the same database) uses. */
export function unique(prefix: string, testInfo: TestInfo): string {
  const project = testInfo.project.name.replace(/[^a-z]/g, '');
  return `${prefix}-${project}-${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`.toLowerCase();
}

/** Signs in through the form on /sign-in (works with and without JavaScript) and waits to land. */
export async function signIn(page: Page, username = owner.username, password = owner.password, next = '') {
  await page.goto(next ? `/sign-in?next=${encodeURIComponent(next)}` : '/sign-in');
  await expect(page.getByTestId('sign-in-form')).toBeVisible();
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.getByTestId('sign-in').click();
  await expect(page).not.toHaveURL(/\/sign-in/);
  await expect(page.getByTestId('user-menu')).toBeVisible();
}

/** Waits until the page runs its wasm (hydrated project) — a no-op without JavaScript. */
export async function hydrated(page: Page, testInfo: TestInfo) {
  if (testInfo.project.name === 'hydrated') {
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 20_000 });
  }
}

/** An API client signed in as the Owner (bearer token), for arranging data. */
export async function ownerApi(): Promise<APIRequestContext> {
  const anonymous = await playwrightRequest.newContext({ baseURL });
  const login = await anonymous.post('/api/v1/auth/login', { data: { username: owner.username, password: owner.password } });
  expect(login.status(), await login.text()).toBe(200);
  const { access_token } = await login.json();
  await anonymous.dispose();
  return playwrightRequest.newContext({ baseURL, extraHTTPHeaders: { authorization: `Bearer ${access_token}` } });
}

/** Creates a user through the API; answers its id. */
export async function createUser(api: APIRequestContext, username: string, extra: Record<string, unknown> = {}) {
  const response = await api.post('/api/v1/users', { data: { username, password: strongPassword, ...extra } });
  expect(response.status(), await response.text()).toBe(201);
  return (await response.json()).id as string;
}

/** Chromium's virtual authenticator (CTAP2, resident keys, user verification) on this page's target. */
export async function virtualAuthenticator(page: Page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return {
    async credentials() {
      return (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
    },
  };
}

/** Errors the page reported (uncaught exceptions, console errors other than failed loads). */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) errors.push(message.text());
  });
  return errors;
}
