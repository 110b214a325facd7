import { test } from '@playwright/test';
import * as path from 'node:path';
import { hydrated, signIn } from './helpers';

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
