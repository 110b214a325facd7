import { test, expect, type APIRequestContext, type Page } from '@playwright/test';
import * as fs from 'node:fs';
import { collectErrors, createUser, hydrated, ownerApi, signIn, strongPassword } from './helpers';
import { arrange, cell, rowAt, tableName } from './grid-helpers';

// The grid's tools: the filter builder (AND/OR groups), multi-column sort, export of the current view to
// CSV and XLSX, ranges copied and pasted as TSV (one batch), undo, the row drawer with its JSON editor,
// columns hidden / resized / reordered and remembered per user, duplicate rows, the tree view of a
// hierarchical table, the reference picker, read-only users, masked values and a conflict made by a second
// browser. All of it runs in the browser (wasm), so only the hydrated project runs these.

test.beforeEach(async ({}, testInfo) => {
  test.skip(testInfo.project.name !== 'hydrated', 'the grid reads and writes rows from the browser (wasm)');
});

async function query(api: APIRequestContext, name: string, body: object) {
  const response = await api.post(`/api/v1/data/${name}/query`, { data: body });
  expect(response.status(), await response.text()).toBe(200);
  return response.json();
}

async function openGrid(page: Page, name: string, testInfo: Parameters<typeof hydrated>[1]) {
  await signIn(page, undefined, undefined, `/tables/${name}`);
  await hydrated(page, testInfo);
  await expect(cell(page, 1, 0)).not.toBeEmpty();
}

test('filter groups, multi-column sort and export of the current view', async ({ page }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  await arrange(api, name);
  const errors = collectErrors(page);
  await openGrid(page, name, testInfo);

  // (qty ≥ 50 AND ok = true) OR (name starts with "row 00")
  await page.getByTestId('grid-filter').click();
  const builder = page.getByTestId('filter-builder');
  await builder.getByTestId('filter-add-group').click();
  let condition = builder.getByTestId('filter-condition').nth(0);
  await condition.getByTestId('filter-field').selectOption(`${name}_qty`);
  await condition.getByTestId('filter-op').selectOption('ge');
  await condition.getByTestId('filter-value').fill('50');
  await condition.getByTestId('filter-value').press('Tab');
  await builder.getByTestId('filter-group').nth(0).getByTestId('filter-add').click();
  condition = builder.getByTestId('filter-condition').nth(1);
  await condition.getByTestId('filter-field').selectOption(`${name}_ok`);
  await condition.getByTestId('filter-value').fill('true');
  await condition.getByTestId('filter-value').press('Tab');
  await builder.getByTestId('filter-add-group').click();
  condition = builder.getByTestId('filter-condition').nth(2);
  await condition.getByTestId('filter-field').selectOption(`${name}_name`);
  await condition.getByTestId('filter-op').selectOption('starts_with');
  await condition.getByTestId('filter-value').fill('row 00');
  await condition.getByTestId('filter-value').press('Tab');
  await builder.getByTestId('filter-join').first().selectOption('or');
  await builder.getByTestId('filter-apply').click();

  const filter = {
    or: [
      { and: [{ field: `${name}_qty`, op: 'ge', value: 50 }, { field: `${name}_ok`, op: 'eq', value: true }] },
      { and: [{ field: `${name}_name`, op: 'starts_with', value: 'row 00' }] },
    ],
  };
  const expected = await query(api, name, { filter, include_total: 'exact', limit: 1 });
  expect(expected.total).toBeGreaterThan(10);
  expect(expected.total).toBeLessThan(250);
  await expect(page.getByTestId('grid-total')).toHaveText(new RegExp(`^${expected.total} `));
  await expect(page.getByTestId('grid-filter')).toContainText('(3)');

  // Sort by ok, then (Shift+click) by qty descending.
  const okHeader = page.getByRole('columnheader', { name: new RegExp(`${name}_ok`) });
  const qtyHeader = page.getByRole('columnheader', { name: new RegExp(`${name}_qty`) });
  await okHeader.getByTestId('grid-sort').click();
  await qtyHeader.getByTestId('grid-sort').click({ modifiers: ['Shift'] });
  await qtyHeader.getByTestId('grid-sort').click({ modifiers: ['Shift'] });
  await expect(okHeader).toHaveAttribute('aria-sort', 'ascending');
  await expect(qtyHeader).toHaveAttribute('aria-sort', 'descending');
  const sorted = await query(api, name, {
    filter,
    sort: [{ field: `${name}_ok`, direction: 'asc' }, { field: `${name}_qty`, direction: 'desc' }],
    limit: 3,
  });
  for (const [i, row] of sorted.items.entries()) {
    await expect(cell(page, i + 1, 0)).toHaveText(row.values[`${name}_name`]);
  }

  // CSV of the view: the filtered rows in the grid's order, the shown columns.
  const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('grid-export-csv').click()]);
  expect(csv.suggestedFilename()).toBe(`${name}.csv`);
  const lines = fs.readFileSync(await csv.path(), 'utf8').trim().split(/\r?\n/);
  expect(lines.length).toBe(expected.total + 1);
  expect(lines[0]).toContain(`${name}_qty`);
  expect(lines[1]).toContain(sorted.items[0].values[`${name}_name`]);
  const [xlsx] = await Promise.all([page.waitForEvent('download'), page.getByTestId('grid-export-xlsx').click()]);
  expect(xlsx.suggestedFilename()).toBe(`${name}.xlsx`);
  expect(fs.readFileSync(await xlsx.path()).subarray(0, 2).toString()).toBe('PK');

  // A value the column cannot take: the server's 400 is shown in the builder.
  await builder.getByTestId('filter-condition').nth(0).getByTestId('filter-value').fill('many');
  await builder.getByTestId('filter-condition').nth(0).getByTestId('filter-value').press('Tab');
  await builder.getByTestId('filter-apply').click();
  await expect(page.getByTestId('filter-error')).toBeVisible();
  await builder.getByTestId('filter-clear').click();
  await expect(page.getByTestId('grid-total')).toHaveText(/^250 /);
  expect(errors).toEqual([]);
});

test('ranges are pasted as one batch, copied as TSV, cleared and undone', async ({ page, context }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  await arrange(api, name);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openGrid(page, name, testInfo);
  const ids = (await query(api, name, { limit: 3 })).items.map((r: { id: string }) => r.id);
  const batches: string[] = [];
  page.on('request', (r) => { if (r.url().includes('/fn/data/cells')) batches.push(r.url()); });

  // Paste a 2×2 block at qty of row 1 (qty, price).
  await cell(page, 1, 1).click();
  await page.evaluate(() => navigator.clipboard.writeText('11\t1.25\r\n22\t2.50\r\n'));
  await page.keyboard.press('Control+V');
  await expect(cell(page, 1, 1)).toHaveText('11');
  await expect(cell(page, 2, 2)).toHaveText('2.50');
  expect(batches.length).toBe(1);
  const second = await (await api.get(`/api/v1/data/${name}/${ids[1]}`)).json();
  expect(second.values[`${name}_qty`]).toBe(22);
  expect(second.values[`${name}_price`]).toBe('2.50');

  // Copy the block back as TSV (Shift+arrows select it).
  await cell(page, 1, 1).click();
  await page.keyboard.press('Shift+ArrowDown');
  await page.keyboard.press('Shift+ArrowRight');
  await expect(cell(page, 2, 2)).toHaveClass(/in-range/);
  await page.keyboard.press('Control+C');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe('11\t1.25\n22\t2.50');

  // Undo the paste: the earlier values are back, in the grid and on the server.
  await page.getByTestId('grid-undo').click();
  await expect(cell(page, 1, 1)).toHaveText('0');
  await expect(cell(page, 2, 2)).toHaveText('1.50');

  // All or nothing: a block with one refused value saves none of it and names the cell.
  await cell(page, 1, 1).click();
  await page.evaluate(() => navigator.clipboard.writeText('77\t-3'));
  await page.keyboard.press('Control+V');
  await expect(page.getByTestId('grid-error')).toBeVisible();
  await expect(cell(page, 1, 2)).toHaveAttribute('aria-invalid', 'true');
  await expect(cell(page, 1, 1)).toHaveText('0');
  const first = await (await api.get(`/api/v1/data/${name}/${ids[0]}`)).json();
  expect(first.values[`${name}_qty`]).toBe(0);

  // Delete clears the selected range; Ctrl+Z brings it back.
  await cell(page, 3, 1).click();
  await page.keyboard.press('Shift+ArrowRight');
  await page.keyboard.press('Delete');
  await expect(cell(page, 3, 1)).toHaveText('');
  await expect(cell(page, 3, 2)).toHaveText('');
  await page.keyboard.press('Control+z');
  await expect(cell(page, 3, 2)).toHaveText('2.50');
  await expect(cell(page, 3, 1)).not.toHaveText('');
});

test('the row drawer edits extended properties as JSON; rows are duplicated', async ({ page }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  await arrange(api, name);
  await openGrid(page, name, testInfo);
  const id = (await query(api, name, { limit: 1 })).items[0].id;

  await rowAt(page, 1).getByTestId('row-open').click();
  const drawer = page.getByTestId('row-drawer');
  await expect(drawer.getByTestId('drawer-values')).toContainText('row 000');
  const ext = drawer.getByTestId('drawer-ext');
  await expect(ext).toHaveValue('{}');
  await ext.fill('{"colour": "red",');
  await expect(drawer.getByTestId('drawer-ext-error')).not.toBeEmpty();
  await expect(drawer.getByTestId('drawer-save')).toBeDisabled();
  await ext.fill('{"colour": "red", "tags": {"a": 1, "b": 2}}');
  await drawer.locator('#drawer-code').fill('R-000');
  await drawer.getByTestId('drawer-save').click();
  await expect(drawer.getByTestId('drawer-version')).toContainText('2');
  let row = await (await api.get(`/api/v1/data/${name}/${id}`)).json();
  expect(row.extended_properties).toEqual({ colour: 'red', tags: { a: 1, b: 2 } });
  expect(row.code).toBe('R-000');
  // Removing keys in the editor removes them on the server.
  await ext.fill('{"tags": {"a": 1}}');
  await drawer.getByTestId('drawer-save').click();
  await expect(drawer.getByTestId('drawer-version')).toContainText('3');
  row = await (await api.get(`/api/v1/data/${name}/${id}`)).json();
  expect(row.extended_properties).toEqual({ tags: { a: 1 } });
  await drawer.getByTestId('drawer-close').click();
  await expect(drawer).toHaveCount(0);

  // Shift+Enter opens the drawer of the active row.
  await cell(page, 2, 0).click();
  await page.keyboard.press('Shift+Enter');
  await expect(drawer.getByTestId('drawer-values')).toContainText('row 001');
  await drawer.getByTestId('drawer-close').click();

  // Duplicate two rows.
  await rowAt(page, 1).getByTestId('row-select').check();
  await rowAt(page, 2).getByTestId('row-select').check();
  await page.getByTestId('grid-duplicate').click();
  await expect(page.getByTestId('grid-total')).toHaveText(/^252 /);
  const copies = await query(api, name, { filter: { field: `${name}_name`, op: 'eq', value: 'row 000' }, include_total: 'exact', limit: 5 });
  expect(copies.total).toBe(2);
});

test('columns are hidden, reordered and resized, and stay so for this user', async ({ page }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  await arrange(api, name);
  await openGrid(page, name, testInfo);
  const headers = page.locator('[role="columnheader"][data-column]');
  await expect(headers).toHaveCount(5);

  await page.getByTestId('grid-columns').click();
  const item = (column: string) => page.locator(`[data-testid="columns-item"][data-column="${name}_${column}"]`);
  await item('day').getByTestId('column-visible').uncheck();
  await expect(headers).toHaveCount(4);
  await item('price').getByTestId('column-earlier').click();
  await item('price').getByTestId('column-earlier').click();
  await expect(headers.nth(0)).toHaveAttribute('data-column', `${name}_price`);
  await item('name').getByTestId('column-width').fill('300');
  await item('name').getByTestId('column-width').press('Tab');
  const nameHeader = page.locator(`[role="columnheader"][data-column="${name}_name"]`);
  await expect.poll(async () => Math.round((await nameHeader.boundingBox())!.width)).toBe(300);

  // Drag the qty column's edge 60 px wider.
  const qtyHeader = page.locator(`[role="columnheader"][data-column="${name}_qty"]`);
  const before = (await qtyHeader.boundingBox())!;
  const handle = qtyHeader.getByTestId('grid-resize');
  const box = (await handle.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + box.width / 2 + 60, box.y + box.height / 2, { steps: 5 });
  await page.mouse.up();
  await expect.poll(async () => Math.round((await qtyHeader.boundingBox())!.width)).toBeGreaterThan(before.width + 40);

  // The layout is the user's: after a reload it is the same, and the API shows it.
  await expect.poll(async () => (await (await api.get(`/api/v1/auth/preferences/grid/${name}`)).json()).hidden).toEqual([`${name}_day`]);
  await page.reload();
  await hydrated(page, testInfo);
  await expect(headers).toHaveCount(4);
  await expect(headers.nth(0)).toHaveAttribute('data-column', `${name}_price`);
  await expect.poll(async () => Math.round((await nameHeader.boundingBox())!.width)).toBe(300);
  // Bad layouts are refused with the field.
  const bad = await api.put(`/api/v1/auth/preferences/grid/${name}`, { data: { widths: { [`${name}_name`]: 5 } } });
  expect(bad.status()).toBe(422);
  expect((await bad.json()).errors[0].field).toBe(`widths.${name}_name`);
});

test('a hierarchical table opens as a tree', async ({ page }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  expect((await api.post('/api/v1/tables', { data: { table_name: name, is_hierarchical: true } })).status()).toBe(201);
  expect((await api.post(`/api/v1/tables/${name}/columns`, { data: { column_name: `${name}_title`, data_type: 'String' } })).status()).toBe(201);
  const create = async (title: string, parent: string | null = null) => {
    const r = await api.post(`/api/v1/data/${name}`, { data: { values: { [`${name}_title`]: title }, parent_row_id: parent } });
    expect(r.status(), await r.text()).toBe(201);
    return (await r.json()).id as string;
  };
  const root = await create('Europe');
  await create('Asia');
  const spain = await create('Spain', root);
  await create('France', root);
  await create('Madrid', spain);

  await openGrid(page, name, testInfo);
  await page.getByTestId('grid-tree').click();
  const tree = page.getByTestId('tree');
  const lines = tree.getByTestId('tree-row');
  await expect(lines).toHaveCount(2);
  await lines.filter({ hasText: 'Europe' }).getByTestId('tree-toggle').click();
  await expect(lines).toHaveCount(4);
  await expect(lines.filter({ hasText: 'Spain' })).toHaveAttribute('data-depth', '1');
  // Keyboard: move to Spain and open it with ArrowRight; ArrowLeft closes it again.
  await tree.focus();
  const spainAt = await lines.evaluateAll((rows) => rows.findIndex((r) => r.textContent?.includes('Spain')));
  for (let i = 0; i < spainAt; i++) await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowRight');
  await expect(lines.filter({ hasText: 'Madrid' })).toHaveAttribute('data-depth', '2');
  await page.keyboard.press('ArrowLeft');
  await expect(lines.filter({ hasText: 'Madrid' })).toHaveCount(0);
});

test('a reference column is edited with a picker searching the referenced table', async ({ page }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  const parent = `${name}_p`;
  const post = async (path: string, data: object, status = 201) => {
    const r = await api.post(path, { data });
    expect(r.status(), await r.text()).toBe(status);
  };
  await post('/api/v1/tables', { table_name: parent });
  await post(`/api/v1/tables/${parent}/columns`, { column_name: `${parent}_id`, data_type: 'Int', is_mandatory: true });
  await post(`/api/v1/tables/${parent}/columns`, { column_name: `${parent}_name`, data_type: 'String' });
  await post(`/api/v1/tables/${parent}/constraints`, { constraint_name: `${parent}_pk`, constraint_type: 'PRIMARY KEY', columns: [`${parent}_id`] });
  await post(`/api/v1/data/${parent}/batch`, { operations: [
    { op: 'create', values: { [`${parent}_id`]: 1, [`${parent}_name`]: 'Alice' } },
    { op: 'create', values: { [`${parent}_id`]: 2, [`${parent}_name`]: 'Bob' } },
  ] }, 200);
  await post('/api/v1/tables', { table_name: name });
  await post(`/api/v1/tables/${name}/columns`, { column_name: `${name}_owner`, data_type: 'Int' });
  await post(`/api/v1/tables/${name}/constraints`, { constraint_name: `${name}_fk`, constraint_type: 'FOREIGN KEY', columns: [`${name}_owner`], referenced_table: parent });
  await post(`/api/v1/data/${name}`, { values: { [`${name}_owner`]: 1 } });

  await openGrid(page, name, testInfo);
  await cell(page, 1, 0).dblclick();
  const editor = page.getByTestId('cell-editor');
  await editor.fill('bo');
  const option = page.getByTestId('reference-option');
  await expect(option).toHaveCount(1);
  await expect(option).toContainText('Bob');
  await option.click();
  await expect(cell(page, 1, 0)).toHaveText('2');
  // A key that does not exist is refused by the foreign key, on the cell.
  await cell(page, 1, 0).dblclick();
  await editor.fill('99');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('grid-error')).toBeVisible();
  await expect(cell(page, 1, 0)).toHaveText('2');
});

test('read-only users get no edit affordances and see masked values masked', async ({ browser }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  await arrange(api, name);
  const secret = await api.post(`/api/v1/tables/${name}/columns`, { data: { column_name: `${name}_secret`, data_type: 'String', masking_rule: 'full' } });
  expect(secret.status(), await secret.text()).toBe(201);
  const first = (await query(api, name, { limit: 1 })).items[0];
  await api.patch(`/api/v1/data/${name}/${first.id}`, { data: { version: first.version, values: { [`${name}_secret`]: 'open sesame' } } });
  const tableId = (await (await api.get(`/api/v1/tables/${name}`)).json()).id;
  const role = await api.post('/api/v1/roles', { data: { name: `${name} reader` } });
  expect(role.status(), await role.text()).toBe(201);
  const roleId = (await role.json()).id;
  expect((await api.post(`/api/v1/roles/${roleId}/permissions`, { data: { permission: `table:${tableId}:read` } })).ok()).toBe(true);
  const username = `${name}_reader`;
  const userId = await createUser(api, username);
  expect((await api.post(`/api/v1/users/${userId}/roles`, { data: { role_id: roleId } })).ok()).toBe(true);

  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, username, strongPassword, `/tables/${name}`);
  await hydrated(page, testInfo);
  await expect(cell(page, 1, 0)).toHaveText('row 000');
  await expect(page.getByTestId('grid-read-only')).toBeVisible();
  await expect(page.getByTestId('grid')).toHaveAttribute('aria-readonly', 'true');
  for (const control of ['grid-add', 'grid-undo', 'grid-delete', 'grid-duplicate']) {
    await expect(page.getByTestId(control)).toHaveCount(0);
  }
  await expect(rowAt(page, 1).getByTestId('row-select')).toHaveCount(0);
  await cell(page, 1, 1).dblclick();
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('cell-editor')).toHaveCount(0);
  // The masked column shows the mask, never the value.
  await expect(cell(page, 1, 5)).toHaveClass(/masked/);
  await expect(cell(page, 1, 5)).not.toHaveText('open sesame');
  await expect(cell(page, 1, 5)).not.toBeEmpty();
  // The drawer is read-only too.
  await rowAt(page, 1).getByTestId('row-open').click();
  await expect(page.getByTestId('drawer-ext')).toHaveAttribute('readonly', '');
  await expect(page.getByTestId('drawer-save')).toHaveCount(0);
  await context.close();
});

test('a conflict made in a second browser is shown with its version and resolved', async ({ browser }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  await arrange(api, name);
  const [one, two] = [await browser.newContext(), await browser.newContext()];
  const [a, b] = [await one.newPage(), await two.newPage()];
  for (const page of [a, b]) await openGrid(page, name, testInfo);

  await cell(a, 1, 0).dblclick();
  await a.getByTestId('cell-editor').fill('from A');
  await a.keyboard.press('Enter');
  await expect(cell(a, 1, 0)).toHaveText('from A');

  await cell(b, 1, 0).dblclick();
  await b.getByTestId('cell-editor').fill('from B');
  await b.keyboard.press('Enter');
  const conflict = b.getByTestId('grid-conflict');
  await expect(conflict).toContainText('2');
  await conflict.getByTestId('grid-reload').click();
  await expect(cell(b, 1, 0)).toHaveText('from A');
  // B edits again on the fresh version and wins; A's next edit conflicts in turn and overwrites.
  await cell(b, 1, 0).dblclick();
  await b.getByTestId('cell-editor').fill('from B');
  await b.keyboard.press('Enter');
  await expect(cell(b, 1, 0)).toHaveText('from B');
  await cell(a, 1, 0).dblclick();
  await a.getByTestId('cell-editor').fill('A again');
  await a.keyboard.press('Enter');
  await a.getByTestId('grid-conflict').getByTestId('grid-overwrite').click();
  await expect(cell(a, 1, 0)).toHaveText('A again');
  await one.close();
  await two.close();
});

test('typing starts an edit, Tab leaves the grid at its edge, a refused filter is asked for once', async ({ page }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  await arrange(api, name);
  await openGrid(page, name, testInfo);

  // Typing into a cell replaces its value with what is typed, every character of it.
  await cell(page, 1, 1).click();
  await page.keyboard.type('57');
  await expect(page.getByTestId('cell-editor')).toHaveValue('57');
  await page.keyboard.press('Enter');
  await expect(cell(page, 1, 1)).toHaveText('57');
  // On a Boolean column a typed character opens the editor on the value instead.
  await cell(page, 1, 4).click();
  await page.keyboard.press('x');
  await expect(page.getByTestId('cell-editor')).toHaveValue('true');
  await page.keyboard.press('Escape');

  // Tab moves along the row and leaves the grid after the last column.
  await page.keyboard.press('End');
  await expect(cell(page, 1, 4)).toHaveClass(/active/);
  await page.keyboard.press('Tab');
  await expect(page.getByTestId('grid')).not.toBeFocused();

  // A filter the server refuses is shown once, not asked for again and again.
  const asked: string[] = [];
  page.on('request', (r) => { if (r.url().includes('/fn/data/rows')) asked.push(r.url()); });
  await page.getByTestId('grid-filter').click();
  const builder = page.getByTestId('filter-builder');
  await builder.getByTestId('filter-add-group').click();
  await builder.getByTestId('filter-field').selectOption(`${name}_qty`);
  await builder.getByTestId('filter-value').fill('lots');
  await builder.getByTestId('filter-value').press('Tab');
  await builder.getByTestId('filter-apply').click();
  await expect(page.getByTestId('filter-error')).toBeVisible();
  await page.waitForTimeout(1000);
  expect(asked.length).toBeLessThanOrEqual(2);
});

test('typed editors: enum, date and date-time; PageDown and PageUp move a screen', async ({ page }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  const post = async (path: string, data: object, status = 201) => {
    const r = await api.post(path, { data });
    expect(r.status(), await r.text()).toBe(status);
  };
  await post('/api/v1/tables', { table_name: name });
  await post(`/api/v1/tables/${name}/columns`, { column_name: `${name}_size`, data_type: 'String', validation_rule_type: 'enum', validation_parameters: { options: ['S', 'M', 'L'] } });
  await post(`/api/v1/tables/${name}/columns`, { column_name: `${name}_day`, data_type: 'Date' });
  await post(`/api/v1/tables/${name}/columns`, { column_name: `${name}_at`, data_type: 'DateTime' });
  await post(`/api/v1/data/${name}/batch`, { operations: Array.from({ length: 120 }, () => ({ op: 'create', values: { [`${name}_size`]: 'S' } })) }, 200);
  await openGrid(page, name, testInfo);
  const id = (await query(api, name, { limit: 1 })).items[0].id;
  const saved = async () => (await (await api.get(`/api/v1/data/${name}/${id}`)).json()).values;

  await cell(page, 1, 0).dblclick();
  await page.getByTestId('cell-editor').selectOption('L');
  await page.keyboard.press('Enter');
  await expect(cell(page, 1, 0)).toHaveText('L');
  await cell(page, 1, 1).dblclick();
  await expect(page.getByTestId('cell-editor')).toHaveAttribute('type', 'date');
  await page.getByTestId('cell-editor').fill('2024-05-06');
  await page.keyboard.press('Enter');
  await expect(cell(page, 1, 1)).toHaveText('2024-05-06');
  await cell(page, 1, 2).dblclick();
  await expect(page.getByTestId('cell-editor')).toHaveAttribute('type', 'datetime-local');
  await page.getByTestId('cell-editor').fill('2024-05-06T07:08:09');
  await page.keyboard.press('Enter');
  await expect(cell(page, 1, 2)).toContainText('2024-05-06T07:08:09');
  const values = await saved();
  expect(values[`${name}_size`]).toBe('L');
  expect(values[`${name}_day`]).toBe('2024-05-06');
  expect(values[`${name}_at`]).toMatch(/^2024-05-06T07:08:09/);

  // A screen down and back up.
  await cell(page, 1, 0).click();
  await page.keyboard.press('PageDown');
  const row = async () => Number(await page.locator('[role="gridcell"].active').evaluate((c) => c.parentElement!.getAttribute('aria-rowindex'))) - 1;
  const down = await row();
  expect(down).toBeGreaterThan(5);
  await page.keyboard.press('PageUp');
  expect(await row()).toBe(1);
  await page.keyboard.press('Control+End');
  await expect(page.locator('[role="gridcell"].active')).toHaveAttribute('data-col', '2');
  expect(await row()).toBe(120);
});

test('users who may not manage the schema get no designer', async ({ browser }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  await arrange(api, name);
  const username = `${name}_viewer`;
  const userId = await createUser(api, username);
  const tableId = (await (await api.get(`/api/v1/tables/${name}`)).json()).id;
  const role = await api.post('/api/v1/roles', { data: { name: `${name} viewer` } });
  const roleId = (await role.json()).id;
  await api.post(`/api/v1/roles/${roleId}/permissions`, { data: { permission: `table:${tableId}:read` } });
  await api.post(`/api/v1/users/${userId}/roles`, { data: { role_id: roleId } });
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, username, strongPassword, `/schema/${name}`);
  await hydrated(page, testInfo);
  await expect(page.getByRole('alert').first()).toBeVisible();
  for (const form of ['attach-form', 'declare-form', 'create-table-form']) await expect(page.getByTestId(form)).toHaveCount(0);
  await expect(page.locator('.nav-list a[href="/schema"]')).toHaveCount(0);
  await context.close();
});
