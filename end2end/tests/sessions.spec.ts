import { test, expect } from '@playwright/test';
import { expectEvery, expectSorted, hydrated, screen, signIn, watchErrors, withoutStream } from './helpers';

const COLUMNS = [
  'Client Interface',
  'User',
  'Gateway Name',
  'Resource Type',
  'Secret Name',
  'Session ID',
  'Status',
  'Started ▼', // the default sort: newest first
  'Duration',
  'Actions',
];

test('the overview renders demo sessions from the store and hydrates without errors', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'admin');
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
  await expect(first.nth(6)).toHaveText(/^(Connecting|Connected|Failed|Completed|Terminated|Terminating…)$/);
  await expect(first.nth(7)).toHaveText(/^\d{4}-\d\d-\d\d \d\d:\d\d$/);
  await expect(first.nth(8)).toHaveText(/^\d+[dhms]/);
  await screen(page, 'overview');
  expect(errors).toEqual([]);
});

test('the Refresh button fetches the list again through the server function', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'admin');
  const call = page.waitForResponse((r) => r.url().includes('/api/list_sessions') && r.status() === 200);
  await page.getByRole('button', { name: 'Refresh' }).click();
  const response = await call;
  const body = await response.json();
  expect(body.sessions.length).toBe(50);
  await expect(page.locator('table.sessions tbody tr')).toHaveCount(50);
  expect(errors).toEqual([]);
});

test('without its event stream the list refreshes itself every 20 seconds, asking only what changed', async ({ page }) => {
  await withoutStream(page);
  await signIn(page, 'admin');
  await page.clock.install();
  await page.reload();
  await hydrated(page);
  await expect(page.locator('.overview-head .updated')).toHaveAttribute('data-mode', 'polling');
  const call = page.waitForResponse((r) => r.url().includes('/api/session_changes'));
  await page.clock.fastForward(20_000);
  const answer = await call;
  expect(answer.status()).toBe(200);
  expect(['unchanged', 'changed', 'reset']).toContain((await answer.json()).changes.kind);
});

test('the root leads to the overview, through sign-in, and unknown pages say so', async ({ page }) => {
  await page.goto('/');
  await expect(page).toHaveURL(/\/login\?next=%2Fsessions$|\/login\?next=\/sessions$/);
  const response = await page.goto('/no-such-page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

test('a wrong password is refused without saying whether the user exists', async ({ page }) => {
  const errors: string[] = [];
  await page.goto('/login');
  await screen(page, 'login');
  await hydrated(page);
  for (const login of ['admin', 'no-such-user']) {
    await page.getByLabel('Login').fill(login);
    await page.getByLabel('Password').fill('definitely-wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('wrong login or password');
    errors.push(await page.getByRole('alert').innerText());
  }
  expect(errors[0]).toBe(errors[1]);
  await expect(page).toHaveURL(/\/login/);
});

// Each demo user sees exactly what their roles allow (the demo's users and grants are in server/src/demo.rs).
const VISIBILITY: { login: string; name: string; allowed: (user: string, gateway: string) => boolean }[] = [
  { login: 'admin', name: 'Ada Admin', allowed: () => true },
  {
    login: 'olivia',
    name: 'Olivia Ops',
    allowed: (user, gateway) => user === 'olivia' || /US East|EU West/.test(gateway),
  },
  { login: 'oscar', name: 'Oscar Onprem', allowed: (user, gateway) => user === 'oscar' || /On-prem DC2/.test(gateway) },
  { login: 'alice', name: 'Alice Developer', allowed: (user) => user === 'alice' },
  { login: 'bob', name: 'Bob DBA', allowed: (user) => user === 'bob' },
  { login: 'carol', name: 'Carol Analyst', allowed: (user) => user === 'carol' },
];

for (const { login, name, allowed } of VISIBILITY) {
  test(`${login} sees exactly the sessions their roles allow`, async ({ page }) => {
    await signIn(page, login);
    await expect(page.locator('.whoami')).toHaveText(name);
    const rows = await page.locator('table.sessions tbody tr').evaluateAll((trs) =>
      trs.map((tr) => {
        const cells = Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '');
        return { user: cells[1], gateway: cells[2] };
      }),
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(allowed(row.user, row.gateway), JSON.stringify(row)).toBe(true);
    if (login === 'admin' || login.startsWith('o')) {
      // All and Own users see other people's sessions too, not only their own.
      expect(rows.some((r) => r.user !== login)).toBe(true);
    } else {
      expect(rows.every((r) => r.user === login)).toBe(true);
    }
    await screen(page, `overview-${login}`);
  });
}

test('signing out ends the sign-in', async ({ page }) => {
  await signIn(page, 'carol');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/sessions');
  await expect(page).toHaveURL(/\/login\?next=/);
});

test('an administrator terminates a live session: it shows as terminating until its gateway ends it', async ({ page }) => {
  test.setTimeout(90_000);
  const errors = watchErrors(page);
  await signIn(page, 'admin');
  const live = page.locator('table.sessions tbody tr', { has: page.getByRole('button', { name: /^Terminate session/ }) });
  await expect(live.first()).toBeVisible();
  const row = live.first();
  const id = await row.getAttribute('data-session-id');
  await row.getByRole('button', { name: /^Terminate session/ }).click();
  const confirm = page.getByRole('alertdialog', { name: `Terminate session ${id}?` });
  await expect(confirm).toBeVisible();
  // A reason is required: Terminate stays disabled until one is given.
  const yes = confirm.getByRole('button', { name: 'Yes, terminate' });
  await expect(yes).toBeDisabled();
  await confirm.getByLabel(/^Reason/).fill('ticket 4711: credentials leaked');
  await screen(page, 'terminate-confirmation');
  await yes.click();
  await expect(confirm).toHaveCount(0);
  const same = page.locator(`table.sessions tbody tr[data-session-id="${id}"]`);
  // "Terminating…" until the gateway reports the end — unless its heartbeat (every 15 s) came between the request and
  // the grid's answer, and the end is already in.
  await expect(same.locator('td').nth(6)).toHaveText(/^Terminat(ing…|ed)$/);
  await expect(same.getByRole('button', { name: /^Terminate session/ })).toHaveCount(0);
  // The demo's gateway hears of it in its next heartbeat (every 15 s) and reports the end.
  await expect(async () => {
    await page.getByRole('button', { name: 'Refresh' }).click();
    await expect(same.locator('td').nth(6)).toHaveText('Terminated', { timeout: 2_000 });
  }).toPass({ timeout: 60_000, intervals: [3_000] });
  // Who asked and why stay with the session, and in its audit trail.
  await page.goto(`/sessions/${id}`);
  await expect(page.locator('dl.fields dt', { hasText: 'Reason' }).locator('+ dd')).toHaveText('ticket 4711: credentials leaked');
  await expect(page.locator('dl.fields dt', { hasText: 'Requested by' }).locator('+ dd')).toHaveText('admin');
  await expect(page.locator('table.audit-log')).toContainText('ticket 4711: credentials leaked');
  expect(errors).toEqual([]);
});

test('several sessions are terminated together: ticked in the grid, confirmed with one reason, listed by ID', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'admin');
  const live = page.locator('table.sessions tbody tr', { has: page.getByRole('button', { name: /^Terminate session/ }) });
  await expect(live.nth(1)).toBeVisible();
  const ids = [(await live.nth(0).getAttribute('data-session-id'))!, (await live.nth(1).getAttribute('data-session-id'))!];
  for (const id of ids) {
    await page.getByRole('checkbox', { name: `Select session ${id} to terminate` }).check();
  }
  // Ticking is not opening: no detail panel.
  await expect(page).not.toHaveURL(/open=/);
  const bar = page.getByRole('region', { name: 'Selected sessions' });
  await expect(bar).toContainText('2 sessions selected');
  await bar.getByRole('button', { name: 'Terminate 2 sessions' }).click();
  const confirm = page.getByRole('alertdialog', { name: 'Terminate 2 sessions selected?' });
  await expect(confirm).toBeVisible();
  // The server's answer to "what would happen": each ID either ends or is skipped with why (the demo's gateways may
  // end one on their own meanwhile).
  await expect(confirm.locator('#confirm-description')).not.toContainText('Finding the sessions');
  for (const id of ids) await expect(confirm.locator('#confirm-description')).toContainText(id);
  await confirm.getByLabel(/^Reason/).fill('incident 88: contractor offboarded');
  await screen(page, 'terminate-several');
  await confirm.getByRole('button', { name: /^Yes, terminate/ }).click();
  await expect(confirm).toHaveCount(0);
  await expect(bar).toHaveCount(0);
  for (const id of ids) {
    const status = page.locator(`table.sessions tbody tr[data-session-id="${id}"] td:nth-child(7)`);
    await expect(status).toHaveText(/^(Terminating…|Terminated|Completed|Failed)$/);
  }
  expect(errors).toEqual([]);
});

test("a session's page terminates every active session of its user after listing them", async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'admin');
  const live = page.locator('table.sessions tbody tr', { has: page.getByRole('button', { name: /^Terminate session/ }) });
  await expect(live.first()).toBeVisible();
  const id = (await live.first().getAttribute('data-session-id'))!;
  const user = (await live.first().locator('td:nth-child(2)').textContent())!.trim();
  await page.goto(`/sessions/${id}`);
  await page.getByRole('button', { name: `Terminate every active session of ${user}` }).click();
  const confirm = page.getByRole('alertdialog', { name: `Terminate every active session of ${user}?` });
  await expect(confirm).toBeVisible();
  const description = confirm.locator('#confirm-description');
  await expect(description).toContainText(/will end when|No active session/);
  // Cancel changes nothing, and the focus goes back to the button that asked.
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(page.getByRole('button', { name: `Terminate every active session of ${user}` })).toBeFocused();
  await page.getByRole('button', { name: `Terminate every active session of ${user}` }).click();
  await confirm.getByLabel(/^Reason/).fill('account suspended');
  const yes = confirm.getByRole('button', { name: /^Yes, terminate/ });
  if (await yes.isEnabled()) {
    await yes.click();
    await expect(confirm).toHaveCount(0);
    await expect(page.locator('dl.fields dt', { hasText: 'Reason' }).locator('+ dd')).toHaveText('account suspended');
  }
  expect(errors).toEqual([]);
});

test('a termination can block the user from new sessions on the gateway; the block is listed and lifted', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'admin');
  const live = page.locator('table.sessions tbody tr', { has: page.getByRole('button', { name: /^Terminate session/ }) });
  await expect(live.first()).toBeVisible();
  const row = live.first();
  const id = (await row.getAttribute('data-session-id'))!;
  const user = (await row.locator('td:nth-child(2)').textContent())!.trim();
  const gateway = (await row.locator('td:nth-child(3)').getAttribute('title'))!;
  await row.getByRole('button', { name: /^Terminate session/ }).click();
  const confirm = page.getByRole('alertdialog', { name: `Terminate session ${id}?` });
  await confirm.getByLabel(/^Reason/).fill('phished laptop');
  await confirm.getByLabel(/^Also keep the user/).selectOption('24h');
  await confirm.getByRole('button', { name: 'Yes, terminate' }).click();
  await expect(confirm).toHaveCount(0);
  await page.getByRole('link', { name: 'Blocks' }).click();
  await expect(page).toHaveURL(/\/blocks$/);
  const block = page.locator('table.block-list tbody tr', { hasText: 'phished laptop' }).filter({ hasText: user }).filter({ hasText: gateway });
  await expect(block).toHaveCount(1);
  await expect(block.locator('td:nth-child(4)')).toHaveText('admin');
  await screen(page, 'blocks');
  await block.getByRole('button', { name: `Lift the block of ${user} on ${gateway}` }).click();
  await expect(block).toHaveCount(0);
  expect(errors).toEqual([]);
});

test('only sessions of granted gateways can be terminated', async ({ page }) => {
  await signIn(page, 'alice');
  await expect(page.getByRole('button', { name: /^Terminate session/ })).toHaveCount(0);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'olivia');
  const buttons = page.locator('table.sessions tbody tr', { has: page.getByRole('button', { name: /^Terminate session/ }) });
  await expect(buttons.first()).toBeVisible();
  await expectEvery(buttons.locator('td:nth-child(3)'), /US East|EU West/);
  await expectEvery(buttons.locator('td:nth-child(7)'), /^(Connecting|Connected)$/);
});

test('a session also has its own page with every field and its audit timeline', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'olivia');
  // A session olivia sees through her Own grant on gw-us-east-1 and oscar may not see: not on his gateway
  // (gw-onprem-dc2) and not his own. Chosen by those properties, never by position: the demo data is random.
  await page.goto('/sessions?gateway=gw-us-east-1');
  const row = page
    .locator('table.sessions tbody tr')
    .filter({ has: page.locator('td:nth-child(3)[title="gw-us-east-1"]') })
    .filter({ hasNot: page.locator('td:nth-child(2)', { hasText: /^oscar$/ }) })
    .first();
  await expect(row).toBeVisible();
  const link = row.locator('td:nth-child(6) a');
  const id = (await link.textContent())!.trim();
  await link.click();
  await page.getByRole('dialog').getByRole('link', { name: 'Open as a page' }).click();
  await expect(page).toHaveURL(new RegExp(`/sessions/${id}$`));
  await expect(page.getByRole('heading', { name: `Session ${id}` })).toBeVisible();
  for (const field of ['User', 'Client interface', 'Gateway', 'Resource type', 'Secret', 'Target host', 'Started', 'Duration']) {
    await expect(page.locator('dl.fields dt', { hasText: field }).first()).toBeVisible();
  }
  const actions = page.locator('table.audit-log tbody tr td:nth-child(3)');
  await expect(actions.first()).toHaveText('session.started');
  await expect(page.locator('table.audit-log tbody tr td:nth-child(2)').first()).toHaveText(/^gateway:gw-/);
  await screen(page, 'session-page', true);

  // A link to it works for whoever may see it, and for nobody else.
  await page.goto(`/sessions/${id}`);
  await expect(page.getByRole('heading', { name: `Session ${id}` })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'oscar');
  await page.goto(`/sessions/${id}`);
  await expect(page.getByRole('alert')).toContainText('cannot be shown');
  expect(errors.filter((e) => !e.includes('404'))).toEqual([]);
});

test('the audit log lists entries by actor and time, newest first, under the sessions\' visibility', async ({ page }) => {
  await signIn(page, 'admin');
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page).toHaveURL(/\/audit$/);
  const rows = page.locator('table.audit-log tbody tr');
  await expect(rows.first()).toBeVisible();
  // Administrators see administrative entries too (the demo's set-up was done by the system).
  await page.getByLabel('Actor').fill('system');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.locator('table.audit-log tbody tr td:nth-child(3)', { hasText: 'user.created' }).first()).toBeAttached();
  await page.getByLabel('Actor').fill('gateway:gw-onprem-dc2');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/actor=gateway%3Agw-onprem-dc2/);
  await expectEvery(page.locator('table.audit-log tbody tr td:nth-child(2)'), /^gateway:gw-onprem-dc2$/);
  // In the order they were recorded, latest first (gateways may report an event's time late).
  const ids = (await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-audit-id')))));
  expect([...ids].sort((a, b) => b - a)).toEqual(ids);
  await page.getByRole('link', { name: 'Older entries →' }).click();
  await expect(page).toHaveURL(/before=\d+/);
  await expect(rows.first()).toBeVisible();

  // By action: session changes read in words, with the raw details one toggle away.
  await page.goto('/audit');
  await page.getByLabel('Action').selectOption('session.*');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/action=session\.\*/);
  await expectEvery(page.locator('table.audit-log tbody tr td:nth-child(3)'), /^session\./);
  const started = rows.filter({ has: page.locator('td:nth-child(3)', { hasText: /^session\.started$/ }) }).first();
  await expect(started.locator('td.summary')).toHaveText(/^started: \S+ to .+ through gw-/);
  const raw = started.locator('td.details code');
  await expect(raw).toBeHidden();
  await started.locator('td.details summary').click();
  await expect(raw).toContainText('"to":"connecting"');
  // A session's ID leads to its page; the Session ID filter narrows to one trail.
  const id = (await started.locator('td:nth-child(4)').textContent())!.trim();
  await page.getByLabel('Session ID').fill(id);
  await page.getByRole('button', { name: 'Apply' }).click();
  await expectEvery(page.locator('table.audit-log tbody tr td:nth-child(4)'), new RegExp(`^${id}$`));

  // A Self user sees only the audit of their own sessions, and no administrative entries.
  await page.getByRole('button', { name: 'Sign out' }).click();
  await signIn(page, 'alice');
  await page.goto('/audit');
  await expect(rows.first()).toBeVisible();
  await expectEvery(page.locator('table.audit-log tbody tr td:nth-child(2)'), /^(gateway:|user:)/);
  await expectEvery(page.locator('table.audit-log tbody tr td:nth-child(3)'), /^session\./);
});

test('filters, sort and page live in the URL: reload, share and back/forward keep the view', async ({ page }) => {
  await signIn(page, 'admin');
  const rows = page.locator('table.sessions tbody tr');
  await page.getByRole('checkbox', { name: /^Failed/ }).check();
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/status=failed/);
  await expectEvery(rows.locator('td:nth-child(7)'), /^Failed$/);
  // The status filter shows its counts, and the total says how many match.
  const failedLabel = await page.getByRole('checkbox', { name: /^Failed/ }).locator('..').textContent();
  const failedCount = Number(/\((\d+)\)/.exec(failedLabel!)![1]);
  await expect(page.locator('p.count')).toContainText(`of ${failedCount} matching sessions`);
  await page.reload();
  await expect(page.getByRole('checkbox', { name: /^Failed/ })).toBeChecked();
  await expectEvery(rows.locator('td:nth-child(7)'), /^Failed$/);

  // Sort by user: ascending, then descending.
  await page.getByRole('link', { name: 'User', exact: true }).click();
  await expect(page).toHaveURL(/sort=user%3Aasc/);
  await expectSorted(rows.locator('td:nth-child(2)'));
  await page.getByRole('link', { name: /^User/ }).click();
  await expect(page).toHaveURL(/sort=user%3Adesc/);
  await expectSorted(rows.locator('td:nth-child(2)'), true);
  await expect(page.getByRole('columnheader', { name: /User/ })).toHaveAttribute('aria-sort', 'descending');

  // Pages: older, then back to newer, without repeats. A closed window in the past: the demo's gateways keep starting
  // sessions, which would push new rows onto an open-ended first page between two looks.
  const dayAgo = new Date(Date.now() - 86_400_000).toISOString().slice(0, 16);
  const view = `/sessions?range=custom&to=${encodeURIComponent(dayAgo)}&size=25`;
  await page.goto(view);
  const firstIds = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-session-id')));
  expect(firstIds.length).toBe(25);
  await page.getByRole('link', { name: 'Older →' }).click();
  await expect(page).toHaveURL(/cursor=/);
  const secondIds = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-session-id')));
  expect(secondIds.filter((id) => firstIds.includes(id))).toEqual([]);
  await page.goBack();
  await expect(page).toHaveURL((url) => url.pathname + url.search === view);
  await expect(rows.first()).toHaveAttribute('data-session-id', firstIds[0]!);
});

test('timeframe presets narrow the sessions to those overlapping the window', async ({ page }) => {
  await signIn(page, 'admin');
  await page.getByLabel('Timeframe', { exact: true }).selectOption('1h');
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/range=1h/);
  await expect(page.locator('p.timeframe')).toHaveText('Last hour');
  const hourAgo = Date.now() - 3_600_000 - 60_000;
  const rows = await page.locator('table.sessions tbody tr').evaluateAll((trs) =>
    trs.map((tr) => ({
      started: tr.querySelector('td:nth-child(8) time')!.getAttribute('datetime')!,
      // "ended <local> · <RFC 3339>" or "still active"
      ended: tr.querySelector('td:nth-child(9)')!.getAttribute('title')!,
    })),
  );
  expect(rows.length).toBeGreaterThan(0);
  for (const { started, ended } of rows) {
    const end = / · (\S+)$/.exec(ended);
    expect(Date.parse(started) >= hourAgo || !end || Date.parse(end[1]) >= hourAgo, `${started} ${ended}`).toBe(true);
  }
});

test('when the server cannot be reached the grid keeps its data under a stale banner and recovers', async ({ page }) => {
  await signIn(page, 'admin');
  const rows = page.locator('table.sessions tbody tr');
  const before = await rows.count();
  await page.route('**/api/list_sessions', (route) => route.abort('connectionrefused'));
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(page.getByRole('status')).toContainText('The server cannot be reached');
  await expect(rows).toHaveCount(before);
  await screen(page, 'stale');
  await page.unroute('**/api/list_sessions');
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(page.getByRole('status')).toHaveCount(0);
  await expect(rows).toHaveCount(before);
});

test('durations of active sessions tick every second without asking the server', async ({ page }) => {
  await signIn(page, 'admin');
  const live = page.locator('table.sessions tbody tr', { has: page.locator('td:nth-child(7)', { hasText: /^Connected$/ }) }).first();
  const cell = live.locator('td:nth-child(9)');
  const first = await cell.textContent();
  let calls = 0;
  page.on('request', (r) => { if (r.url().includes('/api/list_sessions')) calls++; });
  await expect(async () => expect(await cell.textContent()).not.toBe(first)).toPass({ timeout: 5_000 });
  expect(calls).toBe(0);
});

test("a user's name narrows the view to their sessions, and the User filter takes several", async ({ page }) => {
  await signIn(page, 'admin');
  const rows = page.locator('table.sessions tbody tr');
  const users = rows.locator('td:nth-child(2)');
  await expect(users.first()).toBeVisible();
  const all = [...new Set((await users.allTextContents()).map((u) => u.trim()))];
  const user = all[0]!;
  await rows.locator('a.user-filter', { hasText: new RegExp(`^${user}$`) }).first().click();
  await expect(page).toHaveURL(new RegExp(`[?&]user=${encodeURIComponent(user)}(&|$)`));
  await expectEvery(users, new RegExp(`^${user}$`));
  await expect(page.getByRole('textbox', { name: 'User' })).toHaveValue(user);

  // Several users, exactly: typed into the filter, comma-separated.
  const other = all.find((u) => u !== user);
  expect(other, 'the demo\'s first page holds sessions of several users').toBeDefined();
  await page.getByRole('textbox', { name: 'User' }).fill(`${user},${other}`);
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(/user=/);
  await expectEvery(users, new RegExp(`^(${user}|${other!})$`));
  await expect(page.getByRole('textbox', { name: 'User' })).toHaveValue([user, other!].sort().join(','));
});
