import { test, expect } from '@playwright/test';
import { hydrated, ownerApi, signIn, unique } from './helpers';

// The schema designer: create a table, add columns (new, with type, mandatory, unique, default, masking and
// description; or picked from the attribute library), see the server's field errors at their fields,
// remove a column, open the table's data, delete the table. With and without JavaScript.

test('design a table through the UI', async ({ page }, testInfo) => {
  const name = unique('s', testInfo).replace(/[^a-z0-9]/g, '_');
  const api = await ownerApi();
  // A definition of the attribute library, attached elsewhere, to pick from.
  await api.post('/api/v1/tables', { data: { table_name: `${name}_other` } });
  await api.post(`/api/v1/tables/${name}_other/columns`, { data: { column_name: `${name}_email`, data_type: 'String', validation_rule_type: 'email' } });

  await signIn(page, undefined, undefined, '/schema');
  await hydrated(page, testInfo);
  await expect(page.getByTestId('schema-tables')).toBeVisible();
  await page.locator('#table-name').fill(name);
  await page.locator('#table-description').fill('Customers of the shop');
  await page.getByTestId('create-table').click();
  await expect(page).toHaveURL(new RegExp(`/schema/${name}$`));
  await hydrated(page, testInfo);
  await expect(page.locator('h1')).toHaveText(name);

  const attach = async (column: string, type: string, extra: (form: ReturnType<typeof page.getByTestId>) => Promise<void> = async () => {}) => {
    const form = page.getByTestId('attach-form');
    await form.locator('#column-name').fill(column);
    await form.locator('#column-type').selectOption(type);
    await extra(form);
    await page.getByTestId('attach-column').click();
  };

  // A new mandatory, unique String with a description, and a Decimal with a default and a masking rule.
  await attach(`${name}_name`, 'String', async (form) => {
    await form.locator('input[name="mandatory"]').check();
    await form.locator('input[name="unique"]').check();
    await form.locator('#column-description').fill('Full name');
  });
  const nameRow = page.locator(`[data-testid="design-column"][data-column="${name}_name"]`);
  await expect(nameRow).toBeVisible();
  await expect(nameRow).toContainText('mandatory');
  await expect(nameRow).toContainText('unique');
  await expect(nameRow).toContainText('Full name');
  await attach(`${name}_credit`, 'Decimal', async (form) => {
    await form.locator('#column-default').fill('10.50');
    await form.locator('#column-masking').selectOption('full');
  });
  const credit = page.locator(`[data-testid="design-column"][data-column="${name}_credit"]`);
  await expect(credit).toContainText('Decimal');
  await expect(credit).toContainText('10.50');
  await expect(credit).toContainText('masking full');

  // Bad input comes back at its field: a name that breaks the naming rule, a default of the wrong type.
  await attach('Not Valid', 'String');
  await expect(page.locator('[data-field="column_name"]')).toBeVisible();
  await attach(`${name}_age`, 'Int', async (form) => { await form.locator('#column-default').fill('old'); });
  await expect(page.locator('[data-field="default_value"]')).toBeVisible();
  await expect(page.locator(`[data-testid="design-column"][data-column="${name}_age"]`)).toHaveCount(0);

  // From the attribute library: the definition keeps its type and rule.
  await attach(`${name}_email`, '');
  const email = page.locator(`[data-testid="design-column"][data-column="${name}_email"]`);
  await expect(email).toContainText('String');
  await expect(email).toContainText('email');

  // Remove a column.
  await credit.getByTestId('detach-column').click();
  await expect(credit).toHaveCount(0);
  const described = await (await api.get(`/api/v1/tables/${name}`)).json();
  expect(described.columns.map((c: { column_name: string }) => c.column_name)).toEqual([`${name}_name`, `${name}_email`]);

  // The data grid shows the designed columns.
  await page.getByTestId('open-data').click();
  await expect(page).toHaveURL(new RegExp(`/tables/${name}$`));
  await hydrated(page, testInfo);
  if (testInfo.project.name === 'hydrated') {
    await expect(page.getByRole('columnheader', { name: new RegExp(`${name}_email`) })).toBeVisible();
  }

  // Delete the table.
  await page.goto(`/schema/${name}`);
  await hydrated(page, testInfo);
  await page.getByTestId('delete-table').click();
  await expect(page).toHaveURL(/\/schema$/);
  await expect(page.locator(`[data-testid="schema-table"][data-table="${name}"]`)).toHaveCount(0);
  expect((await api.get(`/api/v1/tables/${name}`)).status()).toBe(404);
});
