import { test, expect, type ConsoleMessage, type Page } from '@playwright/test';

/** Collects console errors and uncaught exceptions so a test can assert the page ran cleanly. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

/** Resolves once the WASM has hydrated the page (the Refresh button then has its handler). */
async function hydrated(page: Page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 15_000 });
}

const COLUMNS = [
  'Client Interface',
  'User',
  'Gateway Name',
  'Resource Type',
  'Secret Name',
  'Session ID',
  'Status',
  'Duration',
];

test('the overview renders demo sessions from the store and hydrates without errors', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/sessions');
  await expect(page.getByRole('heading', { name: 'Sessions Overview' })).toBeVisible();
  await expect(page.locator('table.sessions thead th')).toHaveText(COLUMNS);
  const rows = page.locator('table.sessions tbody tr');
  await expect(rows).toHaveCount(50);
  await hydrated(page);

  // Every cell of the first row holds a value of the right shape.
  const first = rows.first().locator('td');
  await expect(first.nth(0)).toHaveText(/^(Web Portal - CLI|Web Portal - Web|CLI|Desktop Application)$/);
  await expect(first.nth(2)).toHaveText(/US East|EU West|AP South|On-prem/);
  await expect(first.nth(5)).toHaveText(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  await expect(first.nth(6)).toHaveText(/^(Connecting|Connected|Failed|Completed|Terminated)$/);
  await expect(first.nth(7)).toHaveText(/^\d+[dhms]/);
  await page.screenshot({ path: 'test-results/overview.png', fullPage: false });
  expect(errors).toEqual([]);
});

test('the Refresh button fetches the list again through the server function', async ({ page }) => {
  const errors = watchErrors(page);
  await page.goto('/sessions');
  await hydrated(page);
  const call = page.waitForResponse((r) => r.url().includes('/api/list_sessions') && r.status() === 200);
  await page.getByRole('button', { name: 'Refresh' }).click();
  const response = await call;
  const body = await response.json();
  expect(body.sessions.length).toBe(50);
  await expect(page.locator('table.sessions tbody tr')).toHaveCount(50);
  expect(errors).toEqual([]);
});

test('the list refreshes itself every 20 seconds', async ({ page }) => {
  await page.clock.install();
  await page.goto('/sessions');
  await hydrated(page);
  const call = page.waitForResponse((r) => r.url().includes('/api/list_sessions'));
  await page.clock.fastForward(20_000);
  expect((await call).status()).toBe(200);
});

test('the root redirects to the overview and unknown pages say so', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/sessions$/);
  const response = await page.goto('/no-such-page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
