import { test, expect, type ConsoleMessage, type Request } from '@playwright/test';
import { owner, signIn } from './helpers';

// Smoke test of the page contract at `/`: anonymous visitors get the sign-in form and no data; after signing
// in (a form posting to a server function, with or without JavaScript) the page is server-rendered with data
// read from the database through a server function, hydrates, and calls a server function from the browser.
//
// Environment:
//   BASE_URL             the running server (required, see playwright.config.ts)
//   TESSERA_E2E_BACKEND  `sqlite` or `postgres`: the backend the server was started on. When unset, either is
//                        accepted.
//   TESSERA_E2E_USER, TESSERA_E2E_PASSWORD  the Owner the server created at start (scripts/e2e.sh)

const user = owner.username;
const password = owner.password;

const expectedBackend: string | undefined = (() => {
  const value = process.env.TESSERA_E2E_BACKEND;
  if (value === undefined || value === '') return undefined;
  if (value !== 'sqlite' && value !== 'postgres') {
    throw new Error(`TESSERA_E2E_BACKEND must be "sqlite" or "postgres", got "${value}"`);
  }
  return value;
})();

const backend = expectedBackend ?? '(?:sqlite|postgres)';

/** `Database: <backend> · <n> migrations applied · workspace Default` (whitespace-tolerant). */
const DB_STATUS = new RegExp(
  `Database:\\s*(${backend})\\s*·\\s*(\\d+)\\s+migrations? applied\\s*·\\s*workspace\\s+Default`,
);
const checksText = (n: number) => new RegExp(`Checks:\\s*${n}(?!\\d)`);

/** Asserts that `text` shows the database status and at least one applied migration. */
function expectDbStatus(text: string | null) {
  expect(text, 'db-status text').toMatch(DB_STATUS);
  const migrations = Number(DB_STATUS.exec(text ?? '')?.[2]);
  expect(migrations, 'migrations applied').toBeGreaterThanOrEqual(1);
}

/**
 * The text a browser without JavaScript would show for a server response: scripts, styles and `<template>`
 * contents (e.g. out-of-order streamed chunks that need JS to be swapped in) are dropped, as are comments
 * (Leptos hydration markers) and tags; common entities are decoded and whitespace collapsed.
 */
function visibleText(html: string): string {
  return html
    .replace(/<script\b[\s\S]*?<\/script>/gi, ' ')
    .replace(/<style\b[\s\S]*?<\/style>/gi, ' ')
    .replace(/<template\b[\s\S]*?<\/template>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<!>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&middot;|&#183;|&#x[bB]7;/g, '·')
    .replace(/&nbsp;|&#160;|&#x[aA]0;/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;|&#x27;/g, "'")
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Fetch/XHR requests that are not static assets (the wasm bundle is fetched too). */
function isApiCall(request: Request): boolean {
  if (!['fetch', 'xhr'].includes(request.resourceType())) return false;
  const path = new URL(request.url()).pathname;
  return !/\.(wasm|js|mjs|css|map|ico|png|svg|woff2?)$/.test(path);
}

test.describe('both projects', () => {
  test('anonymous visitors are sent to sign-in, get no data, and a nonce-based CSP', async ({ request }) => {
    const home = await request.get('/account', { headers: { accept: 'text/html' }, maxRedirects: 0 });
    expect(home.status()).toBe(302);
    expect(home.headers()['location']).toBe('/sign-in?next=/account');
    const response = await request.get('/sign-in');
    expect(response.status()).toBe(200);
    const csp = response.headers()['content-security-policy'] ?? '';
    expect(csp).toMatch(/script-src 'self' 'nonce-[A-Za-z0-9_-]+' 'wasm-unsafe-eval'/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(response.headers()['x-frame-options']).toBe('DENY');
    const html = await response.text();
    expect(html).toContain('data-testid="sign-in-form"');
    expect(html).not.toContain('data-testid="db-status"');
    const nonce = /'nonce-([A-Za-z0-9_-]+)'/.exec(csp)![1];
    expect(html, 'the hydration script carries the CSP nonce').toContain(`nonce="${nonce}"`);

    // The server function behind the status refuses anonymous callers.
    const status = await request.post('/fn/system/status', { form: { check: '1' } });
    expect(status.ok()).toBe(false);
  });

  test('a wrong password is refused with a message and no session', async ({ page }) => {
    await page.goto('/sign-in');
    await page.locator('#username').fill(user);
    await page.locator('#password').fill('not the password at all');
    await page.getByTestId('sign-in').click();
    await expect(page.getByTestId('form-error')).toHaveText(/wrong username or password/i);
    await expect(page.getByTestId('sign-in-form')).toBeVisible();
    await expect(page.getByTestId('db-status')).toHaveCount(0);
  });

  test('server-rendered HTML of / carries the page contract once signed in', async ({ request }) => {
    const login = await request.post('/api/v1/auth/login', { data: { username: user, password } });
    expect(login.status()).toBe(200);
    const response = await request.get('/');
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type'] ?? '').toContain('text/html');
    expect(response.headers()['x-request-id'], 'x-request-id header on /').toBeTruthy();

    const html = await response.text();
    expect(html).toMatch(/<title>[^<]*Tessera[^<]*<\/title>/);
    expect(html).toMatch(/<h1\b[^>]*>\s*(?:<!--[\s\S]*?-->|<!>)?\s*Home/);
    expect(html).toContain('data-testid="user-menu"');
    expect(html).toContain('data-testid="db-status"');
    expect(html).toContain('data-testid="checks"');
    expect(html).toMatch(/<button\b[^>]*data-testid="refresh-status"/);

    // The data is in the HTML itself, not only in serialized resources or streamed templates.
    const text = visibleText(html);
    expectDbStatus(text);
    expect(text).toMatch(checksText(1));

    // data-hydrated is set by the front end, never by the server.
    const body = /<body\b[^>]*>/i.exec(html);
    expect(body, '<body> tag in the response').not.toBeNull();
    expect(body![0]).not.toContain('data-hydrated');
  });

  test('/health/ready answers ready', async ({ request }) => {
    const response = await request.get('/health/ready');
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type'] ?? '').toContain('application/json');
    const body = await response.json();
    expect(body.status).toBe('ready');
  });

  test('page load of / is served with SSR content and a request id', async ({ page }) => {
    await signIn(page);
    const response = await page.goto('/');
    expect(response, 'navigation response').not.toBeNull();
    expect(response!.status()).toBe(200);
    expect(response!.headers()['x-request-id'], 'x-request-id header on /').toBeTruthy();

    await expect(page).toHaveTitle(/Tessera/);
    await expect(page.locator('h1')).toHaveText('Home');
    await expect(page.getByTestId('welcome')).toHaveText(`Signed in as ${user}`);
    const dbStatus = page.getByTestId('db-status');
    await expect(dbStatus).toHaveText(DB_STATUS);
    expectDbStatus(await dbStatus.textContent());
    await expect(page.getByTestId('checks')).toHaveText(checksText(1));
    await expect(page.locator('button[data-testid="refresh-status"]')).toBeVisible();
  });
});

test.describe('hydrated', () => {
  test.beforeEach(({}, testInfo) => {
    test.skip(testInfo.project.name !== 'hydrated', 'needs JavaScript (hydrated project only)');
  });

  test('hydrates, and the refresh button calls the server function', async ({ page }) => {
    const pageErrors: string[] = [];
    const consoleErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(String(error)));
    page.on('console', (message: ConsoleMessage) => {
      // A missing favicon or similar is not a hydration problem; panics, CSP violations and hydration
      // mismatches are.
      if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) {
        consoleErrors.push(message.text());
      }
    });

    await page.goto('/sign-in');
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 20_000 });
    await signIn(page);
    await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true', { timeout: 20_000 });

    const checks = page.getByTestId('checks');
    const dbStatus = page.getByTestId('db-status');
    const button = page.locator('button[data-testid="refresh-status"]');
    await expect(checks).toHaveText(checksText(1));
    await expect(dbStatus).toHaveText(DB_STATUS);

    for (const expected of [2, 3]) {
      const [call] = await Promise.all([page.waitForRequest(isApiCall), button.click()]);
      const reply = await call.response();
      expect(reply, `server function response (${call.method()} ${call.url()})`).not.toBeNull();
      expect(reply!.ok(), `server function status ${reply!.status()} for ${call.url()}`).toBe(true);
      await expect(checks).toHaveText(checksText(expected));
      await expect(dbStatus).toHaveText(DB_STATUS);
    }
    expectDbStatus(await dbStatus.textContent());
    await expect(page.locator('h1')).toHaveText('Home');

    // Sign out (from the user menu): back to the form, and the session is gone.
    await page.getByTestId('user-menu').locator('summary').click();
    await page.getByTestId('sign-out').click();
    await expect(page.getByTestId('sign-in-form')).toBeVisible();
    await page.reload();
    await expect(page.getByTestId('sign-in-form')).toBeVisible();

    expect(pageErrors, 'uncaught errors in the page').toEqual([]);
    expect(consoleErrors, 'console errors').toEqual([]);
  });
});

test.describe('no-js', () => {
  test.beforeEach(({}, testInfo) => {
    test.skip(testInfo.project.name !== 'no-js', 'runs with JavaScript disabled (no-js project only)');
  });

  test('the server-rendered page is complete and the button is inert', async ({ page }) => {
    const apiCalls: string[] = [];
    page.on('request', (request) => {
      if (isApiCall(request)) apiCalls.push(request.url());
    });

    await signIn(page);
    await expect(page.locator('h1')).toHaveText('Home');
    await expect(page.getByTestId('db-status')).toHaveText(DB_STATUS);
    expectDbStatus(await page.getByTestId('db-status').textContent());
    await expect(page.getByTestId('checks')).toHaveText(checksText(1));
    await expect(page.locator('body')).not.toHaveAttribute('data-hydrated');

    const pathBefore = new URL(page.url()).pathname;
    await page.locator('button[data-testid="refresh-status"]').click();
    await page.waitForLoadState('load');
    // Give anything that might (wrongly) react to the click time to do so.
    await page.waitForTimeout(500);

    expect(new URL(page.url()).pathname).toBe(pathBefore);
    await expect(page.getByTestId('checks')).toHaveText(checksText(1));
    await expect(page.locator('body')).not.toHaveAttribute('data-hydrated');
    expect(apiCalls, 'requests made without JavaScript').toEqual([]);

    // Signing out is a form too (the user menu is a <details>, which opens without JavaScript).
    await page.getByTestId('user-menu').locator('summary').click();
    await page.getByTestId('sign-out').click();
    await expect(page.getByTestId('sign-in-form')).toBeVisible();
    await expect(page.getByTestId('db-status')).toHaveCount(0);
  });
});
