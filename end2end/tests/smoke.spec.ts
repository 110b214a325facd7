import { test, expect, type ConsoleMessage, type Request } from '@playwright/test';

// Smoke test of the page contract at `/`: server-side rendering (with data read from the database through a
// server function), hydration of the wasm front end, and a server function called from the browser.
//
// Environment:
//   BASE_URL             the running server (required, see playwright.config.ts)
//   TESSERA_E2E_BACKEND  `sqlite` or `postgres`: the backend the server was started on. When unset, either is
//                        accepted.

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
  test('server-rendered HTML of / carries the page contract', async ({ request }) => {
    const response = await request.get('/');
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type'] ?? '').toContain('text/html');
    expect(response.headers()['x-request-id'], 'x-request-id header on /').toBeTruthy();

    const html = await response.text();
    expect(html).toMatch(/<title>[^<]*Tessera[^<]*<\/title>/);
    expect(html).toMatch(/<h1\b[^>]*>\s*(?:<!--[\s\S]*?-->|<!>)?\s*Tessera/);
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
    const response = await page.goto('/');
    expect(response, 'navigation response').not.toBeNull();
    expect(response!.status()).toBe(200);
    expect(response!.headers()['x-request-id'], 'x-request-id header on /').toBeTruthy();

    await expect(page).toHaveTitle(/Tessera/);
    await expect(page.locator('h1')).toHaveText('Tessera');
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

    await page.goto('/');
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
    await expect(page.locator('h1')).toHaveText('Tessera');

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

    await page.goto('/');
    await expect(page.locator('h1')).toHaveText('Tessera');
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
  });
});
