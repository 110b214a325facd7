import { test, expect } from '@playwright/test';

// The interactive API documentation is served from local assets and renders the generated OpenAPI document.
test('API docs render the OpenAPI document', async ({ page, request }, testInfo) => {
  const doc = await request.get('/api/v1/openapi.json');
  expect(doc.status()).toBe(200);
  const json = await doc.json();
  expect(json.openapi).toBe('3.1.0');
  expect(Object.keys(json.paths)).toContain('/api/v1/data/{table}/query');

  test.skip(testInfo.project.name !== 'hydrated', 'Swagger UI needs JavaScript');
  const external: string[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.hostname !== '127.0.0.1' && url.hostname !== 'localhost' && url.protocol.startsWith('http')) external.push(r.url());
  });
  await page.goto('/api/docs');
  await expect(page.locator('.swagger-ui .title')).toContainText('Tessera API', { timeout: 15_000 });
  await expect(page.locator('.opblock-tag-section').first()).toBeVisible();
  await expect(page.getByText('/api/v1/data/{table}/batch').first()).toBeVisible();
  expect(external, 'no request leaves the server').toEqual([]);
});
