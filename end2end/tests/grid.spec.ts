import { test, expect } from '@playwright/test';
import { collectErrors, hydrated, ownerApi, signIn } from './helpers';
import { ROWS, arrange, cell, rowAt, rows, tableName } from './grid-helpers';

// The data grid of a table: virtual scrolling (the DOM keeps only the rows in view), sorting from the
// header, keyboard navigation, typed inline editing, the server's validation errors on the cell and a
// conflicting edit from elsewhere resolved by reloading or overwriting.
//
// The grid reads and writes rows from the browser (server functions called by the wasm), so it needs
// JavaScript: the no-JS project only checks that the page renders its frame.

test('the grid scrolls a table through a constant number of row elements and sorts from the header', async ({ page }, testInfo) => {
  const name = tableName(testInfo);
  const api = await ownerApi();
  await arrange(api, name);
  const errors = collectErrors(page);
  await signIn(page, undefined, undefined, `/tables/${name}`);
  await hydrated(page, testInfo);
  await expect(page.locator('nav.breadcrumbs').getByText(name)).toBeVisible();
  await expect(page.getByTestId('nav-tables').getByRole('link', { name })).toBeVisible();
  test.skip(testInfo.project.name !== 'hydrated', 'the grid loads its rows from the browser (wasm)');

  await expect(page.getByTestId('grid-total')).toContainText(`${ROWS}`);
  await expect(cell(page, 1, 0)).toHaveText('row 000');
  const firstCount = await rows(page).count();
  expect(firstCount).toBeLessThan(60);

  // Scroll to the end: the last row is there, and the DOM still holds about one screen of rows.
  await page.getByTestId('grid').evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await expect(cell(page, ROWS, 0)).toHaveText(`row ${ROWS - 1}`);
  expect(await rows(page).count()).toBeLessThan(60);
  await page.getByTestId('grid').evaluate((el) => { el.scrollTop = 0; });
  await expect(cell(page, 1, 0)).toHaveText('row 000');

  // Sort by qty ascending, then descending (ties by id).
  const qtyHeader = page.getByRole('columnheader', { name: new RegExp(`${name}_qty`) });
  await qtyHeader.getByTestId('grid-sort').click();
  await expect(qtyHeader).toHaveAttribute('aria-sort', 'ascending');
  await expect(cell(page, 1, 1)).toHaveText('0');
  await qtyHeader.getByTestId('grid-sort').click();
  await expect(qtyHeader).toHaveAttribute('aria-sort', 'descending');
  await expect(cell(page, 1, 1)).toHaveText('100');
  expect(errors).toEqual([]);
});

test('cells are edited with the keyboard; errors and conflicts are shown on the grid', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'hydrated', 'the grid edits rows from the browser (wasm)');
  const name = tableName(testInfo);
  const api = await ownerApi();
  await arrange(api, name);
  await signIn(page, undefined, undefined, `/tables/${name}`);
  await hydrated(page, testInfo);
  await expect(cell(page, 1, 0)).toHaveText('row 000');

  // Keyboard: the first cell is active; move right and down, then edit qty of row 2.
  await cell(page, 1, 0).click();
  await expect(cell(page, 1, 0)).toHaveClass(/active/);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowDown');
  await expect(cell(page, 2, 1)).toHaveClass(/active/);
  await page.keyboard.press('Enter');
  const editor = page.getByTestId('cell-editor');
  await expect(editor).toBeFocused();
  await editor.fill('4242');
  await page.keyboard.press('Enter');
  await expect(cell(page, 2, 1)).toHaveText('4242');
  const second = (await (await api.post(`/api/v1/data/${name}/query`, { data: { sort: [{ field: 'id' }], limit: 2 } })).json()).items[1];
  expect(second.values[`${name}_qty`]).toBe(4242);

  // Escape cancels an edit; End and Home jump along the row.
  await page.keyboard.press('Enter');
  await editor.fill('1');
  await page.keyboard.press('Escape');
  await expect(cell(page, 2, 1)).toHaveText('4242');
  await page.keyboard.press('End');
  await expect(cell(page, 2, 4)).toHaveClass(/active/);
  await page.keyboard.press('Home');
  await expect(cell(page, 2, 0)).toHaveClass(/active/);

  // A value the column refuses: the server's message is shown on the cell, nothing is saved.
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await editor.fill('-5');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('grid-error')).toBeVisible();
  await expect(cell(page, 2, 2)).toHaveAttribute('aria-invalid', 'true');
  await expect(cell(page, 2, 2)).toHaveText('1.50');

  // Someone else changes row 1 after the grid read it: the edit gets the conflict with the new version.
  const first = (await (await api.post(`/api/v1/data/${name}/query`, { data: { sort: [{ field: 'id' }], limit: 1 } })).json()).items[0];
  const elsewhere = await api.patch(`/api/v1/data/${name}/${first.id}`, { data: { version: first.version, values: { [`${name}_name`]: 'changed elsewhere' } } });
  expect(elsewhere.status()).toBe(200);
  await cell(page, 1, 0).dblclick();
  await editor.fill('mine');
  await page.keyboard.press('Enter');
  const conflict = page.getByTestId('grid-conflict');
  await expect(conflict).toBeVisible();
  await expect(conflict).toContainText(`${first.version + 1}`);
  await conflict.getByTestId('grid-reload').click();
  await expect(cell(page, 1, 0)).toHaveText('changed elsewhere');

  // The same again, resolved by overwriting.
  const now = (await (await api.get(`/api/v1/data/${name}/${first.id}`)).json());
  await api.patch(`/api/v1/data/${name}/${first.id}`, { data: { version: now.version, values: { [`${name}_name`]: 'again elsewhere' } } });
  await cell(page, 1, 0).dblclick();
  await editor.fill('mine after all');
  await page.keyboard.press('Enter');
  await expect(conflict).toBeVisible();
  await conflict.getByTestId('grid-overwrite').click();
  await expect(cell(page, 1, 0)).toHaveText('mine after all');
  const saved = await (await api.get(`/api/v1/data/${name}/${first.id}`)).json();
  expect(saved.values[`${name}_name`]).toBe('mine after all');
});

test('rows are added from a form and selected rows deleted in one request', async ({ page }, testInfo) => {
  test.skip(testInfo.project.name !== 'hydrated', 'the grid writes rows from the browser (wasm)');
  const name = tableName(testInfo);
  const api = await ownerApi();
  await arrange(api, name);
  const count = async () => (await (await api.post(`/api/v1/data/${name}/query`, { data: { limit: 1, include_total: true } })).json()).total;
  await signIn(page, undefined, undefined, `/tables/${name}`);
  await hydrated(page, testInfo);
  await expect(cell(page, 1, 0)).toHaveText('row 000');

  // The mandatory name is missing: the server says so at its input, nothing is created.
  await page.getByTestId('grid-add').click();
  const form = page.getByTestId('grid-new-row');
  await form.locator(`[data-column="${name}_qty"]`).fill('7');
  await page.getByTestId('grid-new-row-save').click();
  await expect(form.locator(`p[data-field="${name}_name"]`)).toBeVisible();
  await expect(form.locator(`[data-column="${name}_qty"]`)).toHaveValue('7');
  expect(await count()).toBe(ROWS);
  await form.locator(`[data-column="${name}_name"]`).fill('added in the grid');
  await page.getByTestId('grid-new-row-save').click();
  await expect(form).toHaveCount(0);
  await expect(page.getByTestId('grid-total')).toContainText(`${ROWS + 1}`);
  expect(await count()).toBe(ROWS + 1);

  // Select two rows (click and Space) and delete them after confirming.
  await rowAt(page, 1).getByTestId('row-select').check();
  await cell(page, 2, 0).click();
  await page.keyboard.press(' ');
  await expect(rowAt(page, 2).getByTestId('row-select')).toBeChecked();
  await page.getByTestId('grid-delete').click();
  await page.getByTestId('grid-delete-confirm').click();
  await expect(page.getByTestId('grid-total')).toContainText(`${ROWS - 1}`);
  await expect(cell(page, 1, 0)).toHaveText('row 002');
  expect(await count()).toBe(ROWS - 1);
});
