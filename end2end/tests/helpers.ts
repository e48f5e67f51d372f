import { expect, type ConsoleMessage, type Page } from '@playwright/test';

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
