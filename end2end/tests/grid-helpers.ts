import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { unique } from './helpers';

// What the grid specs share: a table with typed columns and rows, and locators of rows and cells.

export const ROWS = 250;

/** A table `name` with ROWS rows: name, qty (Int), price (Decimal ≥ 0), day (Date), ok (Boolean), kind (enum). */
export async function arrange(api: APIRequestContext, name: string) {
  expect((await api.post('/api/v1/tables', { data: { table_name: name } })).status()).toBe(201);
  const columns = [
    { column_name: `${name}_name`, data_type: 'String', is_mandatory: true },
    { column_name: `${name}_qty`, data_type: 'Int' },
    { column_name: `${name}_price`, data_type: 'Decimal', validation_rule_type: 'range', validation_parameters: { min: 0 } },
    { column_name: `${name}_day`, data_type: 'Date' },
    { column_name: `${name}_ok`, data_type: 'Boolean' },
  ];
  for (const column of columns) {
    const response = await api.post(`/api/v1/tables/${name}/columns`, { data: column });
    expect(response.status(), await response.text()).toBe(201);
  }
  const operations = Array.from({ length: ROWS }, (_, i) => ({
    op: 'create',
    values: {
      [`${name}_name`]: `row ${String(i).padStart(3, '0')}`,
      [`${name}_qty`]: (i * 37) % 101,
      [`${name}_price`]: `${i}.50`,
      [`${name}_day`]: `2024-03-${String((i % 28) + 1).padStart(2, '0')}`,
      [`${name}_ok`]: i % 2 === 0,
    },
  }));
  const batch = await api.post(`/api/v1/data/${name}/batch`, { data: { operations } });
  expect(batch.status(), await batch.text()).toBe(200);
}

export function tableName(testInfo: Parameters<typeof unique>[1]) {
  return unique('g', testInfo).replace(/[^a-z0-9]/g, '_');
}

export const rows = (page: Page) => page.getByTestId('grid-row');
export const rowAt = (page: Page, n: number) => page.locator(`[data-testid="grid-row"][aria-rowindex="${n + 1}"]`);
export const cell = (page: Page, n: number, col: number) => rowAt(page, n).locator(`[role="gridcell"][data-col="${col}"]`);

