import { test, expect, type Browser, type Page } from '@playwright/test';
import { hydrated, screen, signIn, watchErrors } from './helpers';

// Names of this file's own: the demo's users and roles stay as they are for the other tests.
const run = Date.now().toString(36);
const login = `e2e-${run}`;
const role = `e2e-mumbai-${run}`;

/** Signs in with a password that is not a demo one and waits for the overview's first answer (rows or "empty"). */
async function signInWith(browser: Browser, user: string, password: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await page.goto('/login?next=/sessions');
  await hydrated(page);
  await page.getByLabel('Login').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await hydrated(page);
  return page;
}

/** The gateways of the rows on screen (their cluster names), once the grid or its empty note has rendered. */
async function gatewaysShown(page: Page): Promise<string[]> {
  await expect(page.locator('table.sessions tbody tr, p.empty').first()).toBeVisible();
  return page.locator('table.sessions tbody tr td:nth-child(3)').evaluateAll((tds) =>
    tds.map((td) => td.getAttribute('title') ?? ''),
  );
}

test('an administrator creates a user and a role; the role\'s Secure Remote Access rule decides what the user sees at their next listing', async ({ page, browser }) => {
  const errors = watchErrors(page);
  page.on('dialog', (dialog) => dialog.accept());
  await signIn(page, 'admin');
  await page.getByRole('link', { name: 'Administration' }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await hydrated(page);

  // A new user: the generated password is shown once.
  const newUser = page.getByRole('form', { name: 'New user' });
  await newUser.getByLabel('Login').fill(login);
  await newUser.getByLabel('Display name').fill('End To End');
  await newUser.getByRole('button', { name: 'Create user' }).click();
  const shown = page.locator('.one-time-secret');
  await expect(shown).toContainText(`Created the user ${login}.`);
  const password = (await shown.locator('code.secret').textContent())!;
  expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
  await screen(page, 'admin-user-created');
  await shown.getByRole('button', { name: 'Done, I have copied it' }).click();
  await expect(shown).toHaveCount(0);
  const row = page.locator(`tr[data-login="${login}"]`);
  await expect(row).toContainText('End To End');
  await expect(row).toContainText('Never');
  // A login that is not allowed is refused, naming it.
  await newUser.getByLabel('Login').fill('no spaces allowed');
  await newUser.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByRole('alert')).toContainText('no spaces allowed');

  // With no role the user sees only their own sessions: they have none.
  const user = await signInWith(browser, login, password);
  expect(await gatewaysShown(user)).toEqual([]);
  await expect(user.getByRole('link', { name: 'Administration' })).toHaveCount(0);

  // A role whose rule is Own on one gateway, given to the user.
  await page.goto('/admin/roles');
  await hydrated(page);
  const newRole = page.getByRole('form', { name: 'New access role' });
  await newRole.getByLabel('Name').fill(role);
  await newRole.getByRole('radio', { name: /^Own/ }).check();
  await newRole.getByRole('checkbox', { name: 'gw-ap-south-1' }).check();
  await newRole.getByRole('button', { name: 'Create role' }).click();
  await expect(page.getByRole('status')).toHaveText(`Created the role ${role}.`);
  const card = page.locator(`article.role[data-role="${role}"]`);
  await expect(card.getByRole('radio', { name: /^Own/ })).toBeChecked();
  await expect(card.getByRole('checkbox', { name: 'gw-ap-south-1' })).toBeChecked();
  await screen(page, 'admin-roles', true);

  await page.goto('/admin/users');
  await hydrated(page);
  await page.getByLabel(`Give ${login} a role`).selectOption(role);
  await expect(page.getByRole('status')).toHaveText(`Gave ${login} the role ${role}.`);
  await expect(page.locator(`tr[data-login="${login}"] .chip`)).toHaveText(`${role}×`);

  // The user's next listing: every session of gw-ap-south-1, and nothing else.
  await user.reload();
  await hydrated(user);
  const granted = await gatewaysShown(user);
  expect(granted.length).toBeGreaterThan(0);
  expect(new Set(granted)).toEqual(new Set(['gw-ap-south-1']));
  // The user opens one of those sessions: the administrator can see that they did; the user's own timeline does not
  // list readers.
  // Any row will do: every row on screen is one of gw-ap-south-1's, and there is at least one (checked just above).
  const viewed = (await user.locator('table.sessions tbody tr').first().getAttribute('data-session-id'))!;
  await user.goto(`/sessions/${viewed}`);
  await hydrated(user);
  await expect(user.locator('table.audit-log')).toContainText('started');
  await expect(user.locator('table.audit-log')).not.toContainText('viewed the session');
  await page.goto(`/audit?actor=${login}&action=view.session`);
  await hydrated(page);
  const views = page.locator('table.audit-log tbody tr');
  await expect(views).toHaveCount(1);
  await expect(views).toContainText(`${login} viewed the session`);
  await expect(views.getByRole('link', { name: viewed })).toBeVisible();

  // The rule back to None: the next listing is empty again.
  await page.goto('/admin/roles');
  await hydrated(page);
  await card.getByRole('radio', { name: /^None/ }).check();
  await expect(card.locator('.unsaved')).toBeVisible();
  await card.getByRole('button', { name: 'Save' }).click();
  await expect(page.getByRole('status')).toHaveText(`Saved the Secure Remote Access rule of ${role}.`);
  await user.goto('/sessions');
  await hydrated(user);
  expect(await gatewaysShown(user)).toEqual([]);

  // Disabled: the user's sign-in ends at once.
  await page.goto('/admin/users');
  await hydrated(page);
  await page.getByRole('button', { name: `Disable ${login}` }).click();
  await expect(page.getByRole('status')).toHaveText(`Disabled ${login}; their sign-ins have ended.`);
  await expect(page.locator(`tr[data-login="${login}"]`)).toContainText('Disabled');
  await user.goto('/sessions');
  await expect(user).toHaveURL(/\/login\?next=/);

  // The audit log has each change, with the administrator as its actor.
  await page.goto(`/audit?actor=admin`);
  for (const said of [login, role]) await expect(page.locator('main')).toContainText(said);
  // The one error the browser logged is the refused login's 400 answer.
  expect(errors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
});

test('API keys and gateway keys are shown once; a revoked key is marked so', async ({ page }) => {
  page.on('dialog', (dialog) => dialog.accept());
  await signIn(page, 'admin');
  await page.goto('/admin/keys');
  await hydrated(page);
  await page.getByLabel('For user').selectOption('carol');
  await page.getByRole('button', { name: 'Create API key' }).click();
  const shown = page.locator('.one-time-secret');
  await expect(shown).toContainText('Created an API key for carol.');
  const accessId = (await shown.locator('code.access-id').textContent())!;
  const key = page.locator(`tr[data-access-id="${accessId}"]`);
  await expect(key).toContainText('Active');
  await key.getByRole('button', { name: `Revoke ${accessId}` }).click();
  await expect(page.getByRole('status')).toHaveText(`Revoked the API key ${accessId} and its tokens.`);
  await expect(key).toContainText('Revoked');
  await expect(key.getByRole('button')).toHaveCount(0);

  const gateway = `gw-e2e-${run}`;
  await page.goto('/admin/gateways');
  await hydrated(page);
  await page.getByLabel('Name', { exact: true }).fill(gateway);
  await page.getByRole('button', { name: 'Register gateway' }).click();
  await expect(page.getByRole('status')).toHaveText(`Registered the gateway ${gateway}.`);
  const row = page.locator(`tr[data-gateway="${gateway}"]`);
  await expect(row).toContainText('None yet');
  await expect(row).toContainText('Never');
  await row.getByRole('button', { name: `New ingest key for ${gateway}` }).click();
  await expect(page.locator('.one-time-secret code.secret')).toHaveText(/.{20,}/);
  await expect(row).toContainText('Issued');
  // The demo's gateways report every 15 s: each has a last heartbeat.
  await expect(page.locator('tr[data-gateway="gw-us-east-1"] td.time time')).toHaveCount(1);
  await screen(page, 'admin-gateways');
});

test('audit destinations: added with the secret shown once, their failures shown as they happen, removed', async ({ page }) => {
  page.on('dialog', (dialog) => dialog.accept());
  await signIn(page, 'admin');
  await page.goto('/admin/destinations');
  await hydrated(page);
  // Nothing listens on port 9 here: every delivery fails, and the page says why.
  const name = `siem-${run}`;
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('URL').fill('http://127.0.0.1:9/hook');
  await page.getByRole('button', { name: 'Add destination' }).click();
  const shown = page.locator('.one-time-secret');
  await expect(shown).toContainText(`Added ${name}: the audit log is delivered to it.`);
  await expect(shown.locator('code.secret')).toHaveText(/^[A-Za-z0-9_-]{40,}$/);
  const row = page.locator(`tr[data-destination="${name}"]`);
  await expect(row).toContainText('http://127.0.0.1:9/hook');
  await expect(row).toContainText(/entries behind|entry behind/);
  // The leader tries within a second or two; the page shows it on its next reading.
  await expect(async () => {
    await page.reload();
    await hydrated(page);
    await expect(row.locator('td.last-failure')).toContainText('cannot be reached', { timeout: 1_000 });
  }).toPass({ timeout: 20_000 });
  await expect(row).toHaveClass(/failing/);
  await screen(page, 'admin-destinations');
  // A bad URL is refused, naming it.
  await page.getByLabel('Name', { exact: true }).fill(`bad-${run}`);
  await page.getByLabel('URL').fill('ftp://logs');
  await page.getByRole('button', { name: 'Add destination' }).click();
  await expect(page.getByRole('alert')).toContainText('"ftp://logs" is not an http:// or https:// URL');
  await row.getByRole('button', { name: `Remove ${name}` }).click();
  await expect(page.getByRole('status')).toHaveText(`Removed ${name}: nothing more is delivered to it.`);
  await expect(row).toHaveCount(0);
});

test('the administration is not there for anyone but an administrator', async ({ page }) => {
  await signIn(page, 'olivia');
  await expect(page.getByRole('link', { name: 'Administration' })).toHaveCount(0);
  const answer = await page.goto('/admin/roles');
  expect(answer?.status()).toBe(404);
  expect((await page.goto('/admin/destinations'))?.status()).toBe(404);
  await page.goto('/admin/roles');
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});
