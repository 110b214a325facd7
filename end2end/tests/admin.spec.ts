import { test, expect } from '@playwright/test';
import { collectErrors, createUser, hydrated, ownerApi, signIn, strongPassword, unique, virtualAuthenticator } from './helpers';

// Administration: users (invite, enrollment link, deactivate, reset lockout), roles and permissions (per
// table, expiring assignments), the audit log (filters, CSV export), and what users without the
// permissions see.

const isHydrated = (name: string) => name === 'hydrated';

test('users: invite, deactivate and activate, reset a lockout', async ({ page }, testInfo) => {
  const username = unique('inv', testInfo);
  await signIn(page, undefined, undefined, '/admin/users');
  await hydrated(page, testInfo);
  // A bad username is shown at its field and what was typed stays.
  await page.locator('#new-username').fill('Not Valid!');
  await page.locator('#new-email').fill(`${username}@example.com`);
  await page.locator('#new-password').fill(strongPassword);
  await page.getByTestId('invite').click();
  await expect(page.locator('[data-field="username"]')).toBeVisible();
  if (isHydrated(testInfo.project.name)) await expect(page.locator('#new-email')).toHaveValue(`${username}@example.com`);

  await page.locator('#new-username').fill(username);
  await page.locator('#new-email').fill(`${username}@example.com`);
  await page.locator('#new-password').fill(strongPassword);
  await page.getByTestId('invite').click();
  const row = page.locator(`[data-testid="user"][data-username="${username}"]`);
  await expect(row).toBeVisible();
  await expect(row.getByTestId('user-status')).toHaveText('active');

  await row.getByTestId('toggle-active').click();
  await expect(row.getByTestId('user-status')).toHaveText('inactive');
  await row.getByTestId('toggle-active').click();
  await expect(row.getByTestId('user-status')).toHaveText('active');

  // Five failures lock the account; the administrator clears it.
  const api = await ownerApi();
  const anonymous = await (await import('@playwright/test')).request.newContext({ baseURL: process.env.BASE_URL });
  for (let i = 0; i < 5; i++) await anonymous.post('/api/v1/auth/login', { data: { username, password: `nope ${i}` } });
  await anonymous.dispose();
  await page.reload();
  await expect(row.getByTestId('user-locked')).toBeVisible();
  await row.getByTestId('unlock').click();
  await expect(row.getByTestId('user-locked')).toHaveCount(0);
  const device = await page.context().browser()!.newContext({ javaScriptEnabled: isHydrated(testInfo.project.name) });
  await signIn(await device.newPage(), username, strongPassword);
  await device.close();
  await api.dispose();
});

test('enrollment link: an invited user registers a passkey and signs in with it', async ({ page, browser }, testInfo) => {
  test.skip(!isHydrated(testInfo.project.name), 'WebAuthn needs JavaScript');
  const errors = collectErrors(page);
  const username = unique('enr', testInfo);
  await signIn(page, undefined, undefined, '/admin/users');
  await hydrated(page, testInfo);
  await page.locator('#new-username').fill(username);
  await page.getByTestId('invite').click();
  await expect(page.getByTestId('enrollment-link')).toHaveAttribute('data-username', username);
  const link = await page.getByTestId('enrollment-link').textContent();
  expect(link).toMatch(/\/enroll\?token=tse_/);

  const device = await browser.newContext();
  const invited = await device.newPage();
  await virtualAuthenticator(invited);
  await invited.goto(new URL(link!).pathname + new URL(link!).search);
  await hydrated(invited, testInfo);
  await invited.getByTestId('enroll').click();
  await expect(invited).toHaveURL(/\/sign-in\?notice=enrolled/);
  await hydrated(invited, testInfo);
  await invited.getByTestId('sign-in-passkey').click();
  await expect(invited.getByTestId('signed-in-as')).toHaveText(username);
  // The link is single-use.
  await invited.goto(new URL(link!).pathname + new URL(link!).search);
  await hydrated(invited, testInfo);
  await invited.getByTestId('enroll').click();
  await expect(invited.getByTestId('form-error')).toBeVisible();
  await device.close();
  expect(errors).toEqual([]);
});

test('roles: create, grant per table and per resource, assign with expiry, revoke', async ({ page }, testInfo) => {
  const api = await ownerApi();
  const username = unique('member', testInfo);
  await createUser(api, username);
  const table = unique('tbl', testInfo).replace(/-/g, '_');
  expect((await api.post('/api/v1/tables', { data: { table_name: table } })).status()).toBe(201);
  const role = unique('role', testInfo);

  await signIn(page, undefined, undefined, '/admin/roles');
  await hydrated(page, testInfo);
  await expect(page.locator('[data-testid="role"][data-role="Owner"]')).toBeVisible();
  await page.locator('#role-name').fill(role);
  await page.locator('#role-description').fill('Reads one table');
  await page.getByTestId('create-role').click();
  const card = page.locator(`[data-testid="role"][data-role="${role}"]`);
  await expect(card).toBeVisible();

  const grant = card.getByTestId('grant-form');
  await grant.locator('select[name="resource"]').selectOption('table');
  await grant.locator('select[name="table"]').selectOption({ label: table });
  await grant.locator('select[name="action"]').selectOption('read');
  await grant.getByTestId('grant').click();
  await expect(card.getByTestId('permission').filter({ hasText: `table:${table}:read` })).toBeVisible();
  await grant.locator('select[name="resource"]').selectOption('audit');
  await grant.locator('select[name="action"]').selectOption('read');
  await grant.getByTestId('grant').click();
  await expect(card.locator('[data-permission="audit:read"]')).toBeVisible();
  await card.locator('[data-permission="audit:read"]').getByTestId('revoke-permission').click();
  await expect(card.locator('[data-permission="audit:read"]')).toHaveCount(0);

  // Assign it until a date; the user then sees the table in the sidebar.
  await page.goto('/admin/users');
  await hydrated(page, testInfo);
  const row = page.locator(`[data-testid="user"][data-username="${username}"]`);
  await row.locator('select[name="role_id"]').selectOption({ label: role });
  await row.locator('input[name="expires_at"]').fill('2099-12-31');
  await row.getByTestId('assign-role').click();
  await expect(row.getByTestId('user-role').filter({ hasText: role })).toContainText('2099');

  const member = await page.context().browser()!.newContext({ javaScriptEnabled: isHydrated(testInfo.project.name) });
  const memberPage = await member.newPage();
  await signIn(memberPage, username, strongPassword);
  await expect(memberPage.getByTestId('nav-tables')).toContainText(table);
  await member.close();

  await row.getByTestId('user-role').filter({ hasText: role }).getByRole('button').click();
  await expect(row.getByTestId('user-role').filter({ hasText: role })).toHaveCount(0);
  await page.goto('/admin/roles');
  await page.locator(`[data-testid="role"][data-role="${role}"]`).getByTestId('delete-role').click();
  await expect(page.locator(`[data-testid="role"][data-role="${role}"]`)).toHaveCount(0);
  await api.dispose();
});

test('audit log: filter by action, page through, export the same filter as CSV', async ({ page }, testInfo) => {
  const api = await ownerApi();
  await createUser(api, unique('aud', testInfo));
  await signIn(page, undefined, undefined, '/admin/audit');
  await hydrated(page, testInfo);
  await expect(page.getByTestId('audit-entry').first()).toBeVisible();
  await page.locator('#f-action').fill('UserCreated');
  await page.getByTestId('audit-apply').click();
  await expect(page).toHaveURL(/action=UserCreated/);
  const actions = page.getByTestId('audit-action');
  await expect(actions.first()).toHaveText('UserCreated');
  for (const text of await actions.allTextContents()) expect(text).toBe('UserCreated');

  const href = await page.getByTestId('audit-export').getAttribute('href');
  expect(href).toContain('action=UserCreated');
  const csv = await page.request.get(href!);
  expect(csv.status()).toBe(200);
  const lines = (await csv.text()).trim().split('\n');
  expect(lines[0]).toMatch(/^id,created_at,actor_user_id/);
  expect(lines.length).toBeGreaterThan(1);
  for (const line of lines.slice(1)) expect(line).toContain('UserCreated');

  // An unknown action matches nothing; a bad date is refused.
  await page.goto('/admin/audit?action=NoSuchAction');
  await expect(page.getByTestId('audit-empty')).toBeVisible();
  await api.dispose();
});

test('users without the permissions see no administration', async ({ page }, testInfo) => {
  const api = await ownerApi();
  const username = unique('plain', testInfo);
  await createUser(api, username);
  await signIn(page, username, strongPassword);
  await expect(page.locator('.sidebar')).not.toContainText('Administration');
  await page.goto('/admin/users');
  await expect(page.locator('.content [role="alert"]')).toContainText(/missing permission users:manage/i);
  await expect(page.getByTestId('users')).toHaveCount(0);
  await api.dispose();
});
