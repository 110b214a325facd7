import { test } from '@playwright/test';
import * as path from 'node:path';
import { expect } from '@playwright/test';
import { hydrated, ownerApi, signIn } from './helpers';

// Screenshots of each page for docs/screenshots/ — only when TESSERA_E2E_SCREENSHOTS names the folder
// (scripts/screenshots.sh), in the hydrated project.
const folder = process.env.TESSERA_E2E_SCREENSHOTS;

test('screenshots of the sign-in, account and administration pages', async ({ page }, testInfo) => {
  test.skip(!folder || testInfo.project.name !== 'hydrated', 'TESSERA_E2E_SCREENSHOTS is not set');
  await page.setViewportSize({ width: 1400, height: 900 });
  const shot = (name: string) => page.screenshot({ path: path.join(folder!, `${name}.png`), fullPage: false });
  await page.goto('/sign-in');
  await hydrated(page, testInfo);
  await shot('sign-in');
  await signIn(page);
  for (const [name, url] of [['home', '/'], ['account', '/account'], ['users', '/admin/users'], ['roles', '/admin/roles'], ['audit', '/admin/audit']]) {
    await page.goto(url);
    await hydrated(page, testInfo);
    await page.waitForTimeout(300);
    await shot(name);
  }
});

test('screenshot of the data grid', async ({ page }, testInfo) => {
  test.skip(!folder || testInfo.project.name !== 'hydrated', 'TESSERA_E2E_SCREENSHOTS is not set');
  await page.setViewportSize({ width: 1400, height: 900 });
  const api = await ownerApi();
  await api.post('/api/v1/tables', { data: { table_name: 'products', description: 'What the shop sells' } });
  for (const column of [
    { column_name: 'product_name', data_type: 'String', is_mandatory: true, description: 'Shown on the shop page' },
    { column_name: 'sku', data_type: 'String', is_value_unique: true },
    { column_name: 'price', data_type: 'Decimal', default_value: '0', validation_rule_type: 'range', validation_parameters: { min: 0 } },
    { column_name: 'stock', data_type: 'Int' },
    { column_name: 'released', data_type: 'Date' },
    { column_name: 'in_catalogue', data_type: 'Boolean' },
  ]) await api.post('/api/v1/tables/products/columns', { data: column });
  const adjectives = ['Walnut', 'Linen', 'Copper', 'Oak', 'Wool', 'Ceramic', 'Steel', 'Cotton'];
  const nouns = ['desk lamp', 'cushion', 'kettle', 'side table', 'throw', 'mug', 'shelf', 'apron', 'planter'];
  const operations = Array.from({ length: 400 }, (_, i) => ({
    op: 'create',
    values: {
      product_name: `${adjectives[i % adjectives.length]} ${nouns[(i * 7) % nouns.length]}`,
      sku: `SKU-${String(10000 + i * 13)}`,
      price: `${(9 + ((i * 7919) % 24000) / 100).toFixed(2)}`,
      stock: (i * 37) % 180,
      released: `202${i % 5}-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 27) + 1).padStart(2, '0')}`,
      in_catalogue: i % 6 !== 0,
    },
  }));
  expect((await api.post('/api/v1/data/products/batch', { data: { operations } })).status()).toBe(200);
  await signIn(page, undefined, undefined, '/tables/products');
  await hydrated(page, testInfo);
  await page.locator('[data-testid="grid-row"][aria-rowindex="4"] [data-col="1"]').click();
  await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Shift+ArrowRight');
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(folder!, 'grid.png'), fullPage: false });

  // The grid's tools: a filter with two groups, sorted by two columns, and the row drawer.
  const view = {
    filter: { and: [{ and: [{ field: 'stock', op: 'ge', value: 20 }, { field: 'in_catalogue', op: 'eq', value: true }] }] },
    sort: [{ field: 'price', direction: 'asc' }, { field: 'stock', direction: 'asc' }],
    limit: 1,
  };
  const first = (await (await api.post('/api/v1/data/products/query', { data: view })).json()).items[0];
  await api.patch(`/api/v1/data/products/${first.id}`, { data: { version: first.version, code: 'WL-001', extended_properties: { colour: 'walnut', dimensions: { width_cm: 18, height_cm: 42 }, tags: ['lighting', 'bestseller'] } } });
  await page.reload();
  await hydrated(page, testInfo);
  await page.getByTestId('grid-filter').click();
  const builder = page.getByTestId('filter-builder');
  await builder.getByTestId('filter-add-group').click();
  await builder.getByTestId('filter-field').first().selectOption('stock');
  await builder.getByTestId('filter-op').first().selectOption('ge');
  await builder.getByTestId('filter-value').first().fill('20');
  await builder.getByTestId('filter-value').first().press('Tab');
  await builder.getByTestId('filter-add').first().click();
  await builder.getByTestId('filter-field').nth(1).selectOption('in_catalogue');
  await builder.getByTestId('filter-value').nth(1).fill('true');
  await builder.getByTestId('filter-value').nth(1).press('Tab');
  await builder.getByTestId('filter-apply').click();
  await page.getByRole('columnheader', { name: /price/ }).getByTestId('grid-sort').click();
  await page.getByRole('columnheader', { name: /stock/ }).getByTestId('grid-sort').click({ modifiers: ['Shift'] });
  await page.locator('[data-testid="grid-row"][aria-rowindex="2"]').getByTestId('row-open').click();
  await expect(page.getByTestId('drawer-ext')).not.toHaveValue('');
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(folder!, 'grid-tools.png'), fullPage: false });

  // A small shop for the ER diagram: customers ← orders ← order lines → items.
  const post = (url: string, data: unknown) => api.post(url, { data });
  await post('/api/v1/tables', { table_name: 'items' });
  for (const column of [['item_no', 'Int'], ['title', 'String'], ['unit_price', 'Decimal']]) {
    await post('/api/v1/tables/items/columns', { column_name: column[0], data_type: column[1] });
  }
  await post('/api/v1/tables/items/constraints', { constraint_name: 'pk_items', constraint_type: 'PRIMARY KEY', columns: ['item_no'] });
  await post('/api/v1/tables', { table_name: 'customers' });
  for (const column of [['customer_no', 'Int'], ['full_name', 'String'], ['email', 'String']]) {
    await post('/api/v1/tables/customers/columns', { column_name: column[0], data_type: column[1] });
  }
  await post('/api/v1/tables/customers/constraints', { constraint_name: 'pk_customers', constraint_type: 'PRIMARY KEY', columns: ['customer_no'] });
  await post('/api/v1/tables', { table_name: 'orders' });
  for (const column of [['order_no', 'Int'], ['customer_no', 'Int'], ['ordered_at', 'DateTime']]) {
    await post('/api/v1/tables/orders/columns', { column_name: column[0], data_type: column[1] });
  }
  await post('/api/v1/tables/orders/constraints', { constraint_name: 'pk_orders', constraint_type: 'PRIMARY KEY', columns: ['order_no'] });
  await post('/api/v1/tables/orders/constraints', { constraint_name: 'fk_orders_customer', constraint_type: 'FOREIGN KEY', columns: ['customer_no'], referenced_table: 'customers' });
  await post('/api/v1/tables', { table_name: 'order_lines' });
  for (const column of [['order_no', 'Int'], ['line_no', 'Int'], ['item_no', 'Int'], ['quantity', 'Int']]) {
    await post('/api/v1/tables/order_lines/columns', { column_name: column[0], data_type: column[1] });
  }
  await post('/api/v1/tables/order_lines/constraints', { constraint_name: 'pk_order_lines', constraint_type: 'PRIMARY KEY', columns: ['order_no', 'line_no'] });
  await post('/api/v1/tables/order_lines/constraints', { constraint_name: 'fk_lines_order', constraint_type: 'FOREIGN KEY', columns: ['order_no'], referenced_table: 'orders', on_delete: 'CASCADE' });
  await post('/api/v1/tables/order_lines/constraints', { constraint_name: 'fk_lines_item', constraint_type: 'FOREIGN KEY', columns: ['item_no'], referenced_table: 'items' });
  await post('/api/v1/tables/order_lines/constraints', { constraint_name: 'ck_quantity', constraint_type: 'CHECK', check_expression: 'quantity > 0', error_message: 'order at least one' });
  await page.goto('/schema/order_lines');
  await hydrated(page, testInfo);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(folder!, 'designer.png'), fullPage: true });
  await page.goto('/diagram');
  await hydrated(page, testInfo);
  await page.waitForTimeout(300);
  await page.screenshot({ path: path.join(folder!, 'er-diagram.png'), fullPage: false });
});
