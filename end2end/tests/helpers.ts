import { expect, type ConsoleMessage, type Locator, type Page } from '@playwright/test';

/**
 * Every one of `cells` matches `pattern` — retried until the view on screen is the new one — and there is at least
 * one: a check over an empty list would pass without checking anything.
 */
export async function expectEvery(cells: Locator, pattern: RegExp) {
  await expect(cells.first()).toBeVisible();
  await expect(cells.filter({ hasNotText: pattern })).toHaveCount(0);
}

/** The texts of `cells` are in order (ascending unless `descending`), retried until the new view is on screen. */
export async function expectSorted(cells: Locator, descending = false) {
  await expect(cells.first()).toBeVisible();
  await expect
    .poll(async () => {
      const texts = await cells.allTextContents();
      const sorted = [...texts].sort();
      if (descending) sorted.reverse();
      return JSON.stringify(texts) === JSON.stringify(sorted);
    })
    .toBe(true);
}

/** Collects console errors and uncaught exceptions so a test can assert the page ran cleanly. */
export function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg: ConsoleMessage) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

/** Resolves once the WASM has hydrated the page (the Refresh button then has its handler). */
export async function hydrated(page: Page) {
  await page.locator('body[data-hydrated="true"]').waitFor({ state: 'attached', timeout: 15_000 });
}

/** Signs in through the login page as a demo user (password `<login>-sra-demo`). */
export async function signIn(page: Page, login: string) {
  await page.goto('/login?next=/sessions');
  await hydrated(page);
  await page.getByLabel('Login').fill(login);
  await page.getByLabel('Password').fill(`${login}-sra-demo`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(page.locator('table.sessions tbody tr').first()).toBeVisible();
  await hydrated(page);
}

/** Saves a screenshot of a state into the test artifacts (end2end/test-results/screens/). */
export async function screen(page: Page, name: string, fullPage = false) {
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage });
}

/**
 * Keeps the overview off its event stream (the connection is refused), so it falls back to the 20-second refresh,
 * which asks what changed since the page (`/api/session_changes`). Call before the page loads.
 */
export async function withoutStream(page: Page) {
  await page.route('**/events/sessions**', (route) => route.abort('connectionrefused'));
}

/** Whether a request is the overview reading its view: the page again, or what changed since. */
export const readsView = (url: string) => /\/api\/(list_sessions|session_changes)/.test(url);
