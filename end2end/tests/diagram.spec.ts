import { test, expect } from '@playwright/test';
import { hydrated, ownerApi, signIn, unique } from './helpers';

// The ER diagram: every table as a box, foreign keys as arrows, keys marked, pan and zoom, click-through to
// the table's designer.

test('the ER diagram shows tables, keys and foreign keys and opens a table', async ({ page }, testInfo) => {
  const p = unique('e', testInfo).replace(/[^a-z0-9]/g, '_');
  const api = await ownerApi();
  const post = async (url: string, data: unknown) => {
    const response = await api.post(url, { data });
    expect(response.status(), await response.text()).toBe(201);
  };
  await post('/api/v1/tables', { table_name: `${p}_customers` });
  await post(`/api/v1/tables/${p}_customers/columns`, { column_name: `${p}_customer_no`, data_type: 'Int', is_mandatory: true });
  await post(`/api/v1/tables/${p}_customers/constraints`, { constraint_name: `pk_${p}_c`, constraint_type: 'PRIMARY KEY', columns: [`${p}_customer_no`] });
  await post('/api/v1/tables', { table_name: `${p}_orders` });
  await post(`/api/v1/tables/${p}_orders/columns`, { column_name: `${p}_order_no`, data_type: 'Int', is_mandatory: true });
  await post(`/api/v1/tables/${p}_orders/columns`, { column_name: `${p}_customer_no`, data_type: 'Int' });
  await post(`/api/v1/tables/${p}_orders/constraints`, { constraint_name: `pk_${p}_o`, constraint_type: 'PRIMARY KEY', columns: [`${p}_order_no`] });
  await post(`/api/v1/tables/${p}_orders/constraints`, {
    constraint_name: `fk_${p}_o_c`, constraint_type: 'FOREIGN KEY', columns: [`${p}_customer_no`], referenced_table: `${p}_customers`,
  });

  await signIn(page, undefined, undefined, '/diagram');
  await hydrated(page, testInfo);
  const diagram = page.getByTestId('er-diagram');
  await expect(diagram).toBeVisible();
  const customers = diagram.locator(`[data-testid="er-table"][data-table="${p}_customers"]`);
  const orders = diagram.locator(`[data-testid="er-table"][data-table="${p}_orders"]`);
  await expect(customers.locator('text[data-key="true"]')).toHaveText(`${p}_customer_no`);
  await expect(orders.locator('text[data-key="true"]')).toHaveText(`${p}_order_no`);
  await expect(orders.locator('text[data-key="false"]')).toHaveText(`${p}_customer_no`);
  await expect(diagram.locator(`[data-testid="er-link"][data-from="${p}_orders"][data-to="${p}_customers"]`)).toHaveCount(1);
  // Referenced tables are laid out to the left of the tables referencing them.
  const [c, o] = [await customers.boundingBox(), await orders.boundingBox()];
  expect(c!.x).toBeLessThan(o!.x);

  if (testInfo.project.name === 'hydrated') {
    await page.getByTestId('er-zoom-in').click();
    await expect(diagram).toHaveAttribute('data-zoom', '1.25');
    await page.getByTestId('er-reset').click();
    await expect(diagram).toHaveAttribute('data-zoom', '1.00');
    await orders.click();
    await expect(page).toHaveURL(new RegExp(`/schema/${p}_orders$`));
    await expect(page.locator('h1')).toHaveText(`${p}_orders`);
  }
});
