import { test, expect, type Locator, type Page, type TestInfo } from '@playwright/test';
import { hydrated, ownerApi, signIn, unique } from './helpers';

// The schema designer: create a table, add columns (new, with type, mandatory, unique, default, masking and
// description; or picked from the attribute library), see the server's field errors at their fields,
// remove a column, open the table's data, delete the table; declare and drop constraints (with live CHECK
// feedback), reorder columns, change a table's settings. With and without JavaScript.

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

  // A validation rule with its parameters (JSON); parameters that are not JSON come back at their field.
  await attach(`${name}_size`, 'String', async (form) => {
    await form.locator('#column-rule').selectOption('enum');
    await form.locator('#column-rule-parameters').fill('{"options": ["S", "M"');
  });
  await expect(page.locator('[data-field="validation_parameters"]')).toContainText('JSON');
  await attach(`${name}_size`, 'String', async (form) => {
    await form.locator('#column-rule').selectOption('enum');
    await form.locator('#column-rule-parameters').fill('{"options": ["S", "M", "L"]}');
  });
  await expect(page.locator(`[data-testid="design-column"][data-column="${name}_size"]`)).toContainText('enum');

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
  expect(described.columns.map((c: { column_name: string }) => c.column_name)).toEqual([`${name}_name`, `${name}_size`, `${name}_email`]);

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

/** The designer's steps, on `page`. */
function designer(page: Page, testInfo: TestInfo) {
  const isHydrated = testInfo.project.name === 'hydrated';
  return {
    isHydrated,
    async createTable(name: string) {
      await page.goto('/schema');
      await hydrated(page, testInfo);
      await page.locator('#table-name').fill(name);
      await page.getByTestId('create-table').click();
      await expect(page).toHaveURL(new RegExp(`/schema/${name}$`));
      await hydrated(page, testInfo);
    },
    async attach(column: string, type = 'Int') {
      const form = page.getByTestId('attach-form');
      await form.locator('#column-name').fill(column);
      await form.locator('#column-type').selectOption(type);
      await page.getByTestId('attach-column').click();
      await expect(page.locator(`[data-testid="design-column"][data-column="${column}"]`)).toBeVisible();
    },
    /** Fills the declaration form (name, type, then `extra`) and submits it. */
    async declare(name: string, type: string, extra: (form: Locator) => Promise<void> = async () => {}) {
      const form = page.getByTestId('declare-form');
      await form.locator('#constraint-name').fill(name);
      await form.locator('#constraint-type').selectOption(type);
      await extra(form);
      await page.getByTestId('declare-constraint').click();
    },
    /** Ticks exactly these key columns, in this order (a failed declaration leaves its ticks behind). */
    tick: (...columns: string[]) => async (form: Locator) => {
      const ticked = form.locator('input[name="columns[]"]:checked');
      while (await ticked.count() > 0) await ticked.first().uncheck();
      for (const column of columns) await form.locator(`input[name="columns[]"][value="${column}"]`).check();
    },
    constraint: (name: string) => page.locator(`[data-testid="design-constraint"][data-constraint="${name}"]`),
    fieldError: (field: string) => page.getByTestId('declare-form').locator(`[data-field="${field}"]`),
    column: (name: string) => page.locator(`[data-testid="design-column"][data-column="${name}"]`),
    async expectOrder(names: string[]) {
      const rows = page.locator('[data-testid="design-column"]');
      await expect(rows).toHaveCount(names.length);
      for (const [i, name] of names.entries()) await expect(rows.nth(i)).toHaveAttribute('data-column', name);
    },
  };
}

test('design a small shop with keys, foreign keys and a CHECK through the UI', async ({ page }, testInfo) => {
  test.setTimeout(120_000);
  const shop = unique('shop', testInfo).replace(/[^a-z0-9]/g, '_');
  const [customers, orders, lines] = [`${shop}_customers`, `${shop}_orders`, `${shop}_order_lines`];
  const api = await ownerApi();
  const d = designer(page, testInfo);
  await signIn(page, undefined, undefined, '/schema');
  await hydrated(page, testInfo);

  // customers(customer_id PK), with a case-insensitive UNIQUE over an extended property.
  await d.createTable(customers);
  await d.attach('customer_id');
  await expect(page.getByTestId('constraints-empty')).toBeVisible();
  await d.declare('pk_customers', 'PRIMARY KEY', d.tick('customer_id'));
  await expect(d.constraint('pk_customers')).toContainText('PRIMARY KEY');
  await expect(d.constraint('pk_customers')).toContainText('customer_id');
  await d.declare('uq_customers_handle', 'UNIQUE', async (form) => {
    await d.tick()(form);
    await form.locator('input[name="case_sensitive"]').uncheck();
    await form.locator('#json-paths').fill('profile.handle');
  });
  await expect(d.constraint('uq_customers_handle')).toContainText('ext.profile.handle');
  await expect(d.constraint('uq_customers_handle')).toContainText('case-insensitive');
  // A name the table already uses: the server's answer at the name.
  await d.declare('pk_customers', 'UNIQUE', d.tick('customer_id'));
  await expect(d.fieldError('constraint_name')).toContainText('pk_customers');

  // orders(order_id PK, customer_id → customers ON DELETE CASCADE). A foreign key to a table without a
  // primary key (orders itself, before its key) is refused at the referenced table.
  await d.createTable(orders);
  await d.attach('order_id');
  await d.attach('customer_id');
  await d.declare('fk_orders_self', 'FOREIGN KEY', async (form) => {
    await d.tick('customer_id')(form);
    await form.locator('#referenced-table').selectOption(orders);
  });
  await expect(d.fieldError('referenced_table')).toContainText('PRIMARY KEY');
  await expect(d.constraint('fk_orders_self')).toHaveCount(0);
  await d.declare('pk_orders', 'PRIMARY KEY', d.tick('order_id'));
  await expect(d.constraint('pk_orders')).toBeVisible();
  await d.declare('fk_orders_customer', 'FOREIGN KEY', async (form) => {
    await d.tick('customer_id')(form);
    await form.locator('#referenced-table').selectOption(customers);
    await form.locator('#on-delete').selectOption('CASCADE');
  });
  await expect(d.constraint('fk_orders_customer')).toContainText(`→ ${customers}`);
  await expect(d.constraint('fk_orders_customer')).toContainText('ON DELETE CASCADE');

  // order_lines(order_id, line_no, quantity): a composite primary key, a foreign key and a CHECK.
  await d.createTable(lines);
  for (const column of ['order_id', 'line_no', 'quantity']) await d.attach(column);
  await d.declare('pk_order_lines', 'PRIMARY KEY', d.tick('order_id', 'line_no'));
  await expect(d.constraint('pk_order_lines')).toContainText('order_id, line_no');
  await d.declare('fk_order_lines_order', 'FOREIGN KEY', async (form) => {
    await d.tick('order_id')(form);
    await form.locator('#referenced-table').selectOption(orders);
  });
  await expect(d.constraint('fk_order_lines_order')).toContainText(`→ ${orders}`);

  const expression = page.locator('#check-expression');
  const feedback = page.getByTestId('check-feedback');
  if (d.isHydrated) {
    // The server parses the expression as it is typed.
    await page.locator('#constraint-type').selectOption('CHECK');
    await expression.fill('quantity >');
    await expect(feedback).toHaveAttribute('data-valid', 'false');
    await expect(feedback).toContainText('Line: 1');
    await expression.fill('quantiy > 0');
    await expect(feedback).toContainText('unknown column quantiy');
    await expression.fill('quantity > 0');
    await expect(feedback).toHaveAttribute('data-valid', 'true');
    await expect(feedback).toHaveText('The expression is valid.');
  }
  // A bad expression submitted anyway comes back at the expression.
  await d.declare('ck_quantity', 'CHECK', async () => { await expression.fill('quantity >'); });
  await expect(d.fieldError('check_expression')).toContainText('syntax error');
  await d.declare('ck_quantity', 'CHECK', async () => {
    await expression.fill('quantity > 0');
    await page.locator('#error-message').fill('a line needs a positive quantity');
  });
  await expect(d.constraint('ck_quantity')).toContainText('quantity > 0');
  await expect(d.constraint('ck_quantity')).toContainText('a line needs a positive quantity');

  // What the UI declared is what the API describes.
  const described = async (table: string) => {
    const response = await api.get(`/api/v1/tables/${table}/constraints`);
    expect(response.status()).toBe(200);
    const items: Array<Record<string, unknown>> = (await response.json()).items;
    return Object.fromEntries(items.map((c) => [c.constraint_name as string, c]));
  };
  const customerKeys = await described(customers);
  expect(customerKeys.pk_customers).toMatchObject({ constraint_type: 'PRIMARY KEY', columns: ['customer_id'] });
  expect(customerKeys.uq_customers_handle).toMatchObject({
    constraint_type: 'UNIQUE', columns: [], case_sensitive: false, json_properties: [{ path: 'profile.handle', case_sensitive: false }],
  });
  expect((await described(orders)).fk_orders_customer).toMatchObject({
    columns: ['customer_id'], referenced_table: customers, on_delete: 'CASCADE', on_update: 'NO ACTION', match_type: 'SIMPLE',
  });
  const lineKeys = await described(lines);
  expect(Object.keys(lineKeys).sort()).toEqual(['ck_quantity', 'fk_order_lines_order', 'pk_order_lines']);
  expect(lineKeys.pk_order_lines).toMatchObject({ constraint_type: 'PRIMARY KEY', columns: ['order_id', 'line_no'] });
  expect(lineKeys.ck_quantity).toMatchObject({ check_expression: 'quantity > 0', error_message: 'a line needs a positive quantity' });

  if (d.isHydrated) {
    // Fill the shop through the grid, and meet each constraint there.
    const addRow = async (table: string, values: Record<string, string>) => {
      await page.getByTestId('grid-add').click();
      const form = page.getByTestId('grid-new-row');
      for (const [column, value] of Object.entries(values)) await form.locator(`[data-column="${column}"]`).fill(value);
      await page.getByTestId('grid-new-row-save').click();
      return form;
    };
    const gridCell = (row: number, col: number) =>
      page.locator(`[data-testid="grid-row"][aria-rowindex="${row + 1}"] [role="gridcell"][data-col="${col}"]`);
    await page.goto(`/tables/${customers}`);
    await hydrated(page, testInfo);
    await expect(await addRow(customers, { customer_id: '1' })).toHaveCount(0);
    await expect(gridCell(1, 0)).toHaveText('1');
    // PRIMARY KEY: a second customer 1 is refused in the form, which keeps what was typed.
    let form = await addRow(customers, { customer_id: '1' });
    await expect(form.locator('.form-error')).toContainText('pk_customers');
    await expect(form.locator('[data-column="customer_id"]')).toHaveValue('1');
    await form.locator('[data-column="customer_id"]').fill('2');
    await page.getByTestId('grid-new-row-save').click();
    await expect(form).toHaveCount(0);
    // UNIQUE over ext.profile.handle, case-insensitive: set in the row drawer.
    for (const [row, handle, ok] of [[1, 'Ada', true], [2, 'ADA', false]] as const) {
      await page.locator(`[data-testid="grid-row"][aria-rowindex="${row + 1}"]`).getByTestId('row-open').click();
      await page.getByTestId('drawer-ext').fill(JSON.stringify({ profile: { handle } }));
      await page.getByTestId('drawer-save').click();
      if (ok) await expect(page.getByTestId('drawer-version')).toContainText('2');
      else await expect(page.getByTestId('drawer-error')).toContainText('uq_customers_handle');
      await page.getByTestId('drawer-close').click();
    }

    await page.goto(`/tables/${orders}`);
    await hydrated(page, testInfo);
    // FOREIGN KEY: an order of a customer that does not exist.
    form = await addRow(orders, { order_id: '10', customer_id: '99' });
    await expect(form.locator('.form-error')).toContainText('fk_orders_customer');
    await form.locator('[data-column="customer_id"]').fill('1');
    await page.getByTestId('grid-new-row-save').click();
    await expect(form).toHaveCount(0);

    await page.goto(`/tables/${lines}`);
    await hydrated(page, testInfo);
    // CHECK: a line of quantity 0, then an edit of a saved line to -1, each with the constraint's message.
    form = await addRow(lines, { order_id: '10', line_no: '1', quantity: '0' });
    await expect(form.locator('.form-error')).toContainText('a line needs a positive quantity');
    await form.locator('[data-column="quantity"]').fill('2');
    await page.getByTestId('grid-new-row-save').click();
    await expect(form).toHaveCount(0);
    await gridCell(1, 2).dblclick();
    await page.getByTestId('cell-editor').fill('-1');
    await page.keyboard.press('Enter');
    await expect(page.getByTestId('grid-error')).toContainText('a line needs a positive quantity');
    await expect(gridCell(1, 2)).toHaveText('2');
    // The composite key: duplicating the line repeats (order_id, line_no).
    await page.locator('[data-testid="grid-row"][aria-rowindex="2"]').getByTestId('row-select').check();
    await page.getByTestId('grid-duplicate').click();
    await expect(page.getByTestId('toast').last()).toContainText('pk_order_lines');
    await expect(page.getByTestId('grid-total')).toHaveText(/^1 /);
    await page.goto(`/schema/${lines}`);
    await hydrated(page, testInfo);
  }

  // Drop the CHECK.
  await d.constraint('ck_quantity').getByTestId('drop-constraint').click();
  await expect(d.constraint('ck_quantity')).toHaveCount(0);
  await expect(d.constraint('pk_order_lines')).toBeVisible();
  expect(Object.keys(await described(lines)).sort()).toEqual(['fk_order_lines_order', 'pk_order_lines']);
});

test('reorder columns with the buttons and by drag; the order stays after a reload', async ({ page }, testInfo) => {
  const t = unique('r', testInfo).replace(/[^a-z0-9]/g, '_');
  const [a, b, c] = [`${t}_a`, `${t}_b`, `${t}_c`];
  const api = await ownerApi();
  expect((await api.post('/api/v1/tables', { data: { table_name: t } })).status()).toBe(201);
  for (const column of [a, b, c]) {
    const response = await api.post(`/api/v1/tables/${t}/columns`, { data: { column_name: column, data_type: 'String' } });
    expect(response.status(), await response.text()).toBe(201);
  }
  const d = designer(page, testInfo);
  await signIn(page, undefined, undefined, `/schema/${t}`);
  await hydrated(page, testInfo);
  await d.expectOrder([a, b, c]);
  await expect(d.column(a).getByTestId('move-up')).toBeDisabled();
  await expect(d.column(c).getByTestId('move-down')).toBeDisabled();

  await d.column(a).getByTestId('move-down').click();
  await d.expectOrder([b, a, c]);
  await d.column(c).getByTestId('move-up').click();
  await d.expectOrder([b, c, a]);
  let expected = [b, c, a];
  if (d.isHydrated) {
    // Drag a row by its handle onto another row: it takes that row's place.
    await d.column(a).getByTestId('drag-handle').dragTo(d.column(b).getByTestId('drag-handle'));
    await d.expectOrder([a, b, c]);
    // The buttons work from the keyboard, and the focus follows the moved row.
    await d.column(b).getByTestId('move-down').focus();
    await page.keyboard.press('Enter');
    await d.expectOrder([a, c, b]);
    await expect(d.column(b).getByTestId('move-up')).toBeFocused();
    expected = [a, c, b];
  }

  await page.reload();
  await hydrated(page, testInfo);
  await d.expectOrder(expected);
  const described = await (await api.get(`/api/v1/tables/${t}`)).json();
  expect(described.columns.map((col: { column_name: string }) => col.column_name)).toEqual(expected);
});

test('table settings: rename (the address follows), description, hierarchy and cache policy', async ({ page }, testInfo) => {
  const t = unique('t', testInfo).replace(/[^a-z0-9]/g, '_');
  const api = await ownerApi();
  for (const name of [t, `${t}_taken`]) {
    expect((await api.post('/api/v1/tables', { data: { table_name: name } })).status()).toBe(201);
  }
  await signIn(page, undefined, undefined, `/schema/${t}`);
  await hydrated(page, testInfo);
  const form = page.getByTestId('settings-form');
  await expect(form.locator('#settings-cache')).toHaveValue('None');
  await expect(form.locator('#settings-hierarchical')).not.toBeChecked();

  await form.locator('#settings-description').fill('Settings of the shop');
  await form.locator('#settings-hierarchical').check();
  await form.locator('#settings-cache').selectOption('FullTable');
  await page.getByTestId('save-settings').click();
  await expect
    .poll(async () => (await (await api.get(`/api/v1/tables/${t}`)).json()).cache_policy)
    .toBe('FullTable');
  await page.reload();
  await hydrated(page, testInfo);
  await expect(form.locator('#settings-cache')).toHaveValue('FullTable');
  await expect(form.locator('#settings-hierarchical')).toBeChecked();
  await expect(form.locator('#settings-description')).toHaveValue('Settings of the shop');
  const saved = await (await api.get(`/api/v1/tables/${t}`)).json();
  expect(saved).toMatchObject({ is_hierarchical: true, cache_policy: 'FullTable', description: 'Settings of the shop' });

  // A name another table has: the server's answer at the name.
  await form.locator('#settings-name').fill(`${t}_taken`);
  await page.getByTestId('save-settings').click();
  await expect(form.locator('[data-field="table_name"]')).toContainText('already exists');
  await expect(page).toHaveURL(new RegExp(`/schema/${t}(\\?.*)?$`));

  // Rename: the designer moves to the new address.
  await form.locator('#settings-name').fill(`${t}_renamed`);
  await page.getByTestId('save-settings').click();
  await expect(page).toHaveURL(new RegExp(`/schema/${t}_renamed$`));
  await hydrated(page, testInfo);
  await expect(page.locator('h1')).toHaveText(`${t}_renamed`);
  await expect(form.locator('#settings-cache')).toHaveValue('FullTable');
  expect((await api.get(`/api/v1/tables/${t}`)).status()).toBe(404);
  expect((await api.get(`/api/v1/tables/${t}_renamed`)).status()).toBe(200);
});
