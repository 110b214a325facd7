// The grid benchmark's browser half (run by bench/grid.sh against a server on a large table): Chromium via
// playwright-core, medians of RUNS runs. Prints a Markdown table.
//
//   first rows      navigation to /tables/<table> → the first row's cells rendered (hydrated, data loaded)
//   jump            scrollTop set to a point deep in the table → every row in view rendered with data
//   DOM rows        row elements in the DOM, sampled while scrolling the whole table top to bottom
//   memory          JS heap and DOM nodes after that scroll (after a forced GC), against right after load
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
const table = process.env.GRID_TABLE ?? 'bench_items';
const runs = Number(process.env.GRID_RUNS ?? 5);
const steps = Number(process.env.GRID_SCROLL_STEPS ?? 400);
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => `${x.toFixed(0)} ms`;

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
const context = await browser.newContext({ baseURL: base, viewport: { width: 1400, height: 900 } });
const page = await context.newPage();
await page.goto('/sign-in');
await page.locator('#username').fill(process.env.GRID_USER);
await page.locator('#password').fill(process.env.GRID_PASSWORD);
await page.getByTestId('sign-in').click();
await page.getByTestId('user-menu').waitFor();

// The first row's first cell holds data (not the loading placeholder).
const firstRowReady = () => {
  const cell = document.querySelector('[data-testid="grid-row"][aria-rowindex="2"] [role="gridcell"] span:not(.null)');
  return cell && document.body.dataset.hydrated === 'true' ? performance.now() : false;
};
const firstRows = [];
for (let i = 0; i <= runs; i++) {
  await page.goto(`/tables/${table}`);
  const at = await (await page.waitForFunction(firstRowReady, null, { timeout: 60_000, polling: 'raf' })).jsonValue();
  if (i > 0) firstRows.push(at); // the first navigation warms the server's caches
}
const total = await page.getByTestId('grid-total').innerText();

const cdp = await context.newCDPSession(page);
await cdp.send('Performance.enable');
const metrics = async () => {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (name) => metrics.find((m) => m.name === name)?.value ?? 0;
  return { heap: get('JSHeapUsedSize'), nodes: get('Nodes') };
};
const before = await metrics();

// Every row in view is rendered with its data (no loading placeholders).
const settled = () => {
  const grid = document.querySelector('[data-testid="grid"]');
  const top = grid.scrollTop;
  const bottom = top + grid.clientHeight;
  const rows = [...document.querySelectorAll('[data-testid="grid-row"]')].filter((r) => {
    const y = parseFloat(r.style.top);
    return y + 32 > top && y < bottom - 32;
  });
  return rows.length > 0 && rows.every((r) => !r.classList.contains('loading')) ? performance.now() : false;
};
const scrollTo = (fraction) =>
  page.evaluate((f) => {
    const grid = document.querySelector('[data-testid="grid"]');
    window.__jumpAt = performance.now();
    grid.scrollTop = Math.floor((grid.scrollHeight - grid.clientHeight) * f);
  }, fraction);

const jumps = [];
for (const fraction of [0.5, 0.25, 0.75, 0.6, 0.4, 0.55, 0.45].slice(0, Math.max(runs, 1))) {
  await scrollTo(fraction);
  const done = await (await page.waitForFunction(settled, null, { timeout: 60_000, polling: 'raf' })).jsonValue();
  jumps.push(done - (await page.evaluate(() => window.__jumpAt)));
}

// The whole table, top to bottom, in `steps` jumps; then the last row.
let maxRows = 0;
let maxNodes = 0;
for (let k = 0; k <= steps; k++) {
  await scrollTo(k / steps);
  await page.waitForFunction(settled, null, { timeout: 60_000, polling: 'raf' });
  const counted = await page.evaluate(() => ({
    rows: document.querySelectorAll('[data-testid="grid-row"]').length,
    nodes: document.getElementsByTagName('*').length,
  }));
  maxRows = Math.max(maxRows, counted.rows);
  maxNodes = Math.max(maxNodes, counted.nodes);
}
const lastRow = await page.evaluate(() => {
  const rows = [...document.querySelectorAll('[data-testid="grid-row"]')];
  return Math.max(...rows.map((r) => Number(r.getAttribute('aria-rowindex')))) - 1;
});
const after = await metrics();
await browser.close();

const mb = (bytes) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
console.log(`| Measure (${total}, ${runs} runs) | Median | Notes |`);
console.log('|---|---:|---|');
console.log(`| first rows: navigation → first grid rows rendered | ${ms(median(firstRows))} | min ${ms(Math.min(...firstRows))}, max ${ms(Math.max(...firstRows))} |`);
console.log(`| jump to the middle (offset + estimated total) → rows in view rendered | ${ms(median(jumps))} | ${jumps.length} jumps to 25–75 % |`);
console.log(`| DOM rows while scrolling the whole table (${steps + 1} positions, last row ${lastRow}) | ${maxRows} | at most; elements in the page at most ${maxNodes} |`);
console.log(`| memory after that scroll: JS heap / DOM nodes | ${mb(after.heap)} / ${after.nodes} | right after loading: ${mb(before.heap)} / ${before.nodes} |`);
