import { test, expect, type Page } from '@playwright/test';
import { expectEvery, hydrated, readsView, screen, signIn, watchErrors, withoutStream } from './helpers';

const rows = (page: Page) => page.locator('table.sessions tbody tr');

/** A folded filter's choice by its label, with or without the count that follows it once counted. */
const choice = (label: string) => new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}( \\(\\d+\\))?$`);

/** Opens a folded filter (by its URL key) unless it is open, and ticks one of its choices. */
async function tick(page: Page, key: string, name: string | RegExp) {
  const menu = page.locator(`details.multi[data-key="${key}"]`);
  if (!(await menu.evaluate((d) => (d as HTMLDetailsElement).open))) await menu.locator('summary').click();
  await menu.getByRole('checkbox', { name: typeof name === 'string' ? choice(name) : name }).check();
}

/** Opens a folded filter and reads every choice's count once they show: label → sessions. */
async function choiceCounts(page: Page, key: string): Promise<Map<string, number>> {
  const menu = page.locator(`details.multi[data-key="${key}"]`);
  if (!(await menu.evaluate((d) => (d as HTMLDetailsElement).open))) await menu.locator('summary').click();
  const labels = menu.locator('label.check');
  await expect(labels.first()).toHaveText(/ \(\d+\)$/);
  const texts = await labels.allTextContents();
  return new Map(
    texts.map((t) => {
      const [, label, n] = /^(.*) \((\d+)\)$/.exec(t.trim())!;
      return [label, Number(n)];
    }),
  );
}
const sum = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);
const listCalls = (page: Page) => {
  const calls: string[] = [];
  page.on('request', (r) => {
    if (readsView(r.url())) calls.push(r.url());
  });
  return calls;
};

/** Terminates a session through the HTTP API as the admin: a change made outside this page. */
async function terminateElsewhere(page: Page, sessionId: string) {
  const auth = await page.request.post('/auth', {
    data: { 'access-type': 'password', 'admin-email': 'admin', 'admin-password': 'admin-sra-demo' },
  });
  expect(auth.status()).toBe(200);
  const { token } = await auth.json();
  const done = await page.request.post('/terminate-sra-session', { data: { token, 'session-id': sessionId, reason: 'changed elsewhere' } });
  expect(done.status(), await done.text()).toBe(200);
}

test.describe('in the browser\'s time zone', () => {
  test.use({ timezoneId: 'Asia/Kolkata' });

  test('times show in the reader\'s zone, with the instant on hover; a custom range is read in that zone', async ({ page }) => {
    await signIn(page, 'admin');
    // Chromium may name the zone by its older alias.
    await expect(page.locator('.overview-tools .zone')).toHaveText(/^Times in Asia\/(Kolkata|Calcutta) \(UTC\+05:30\)$/);
    const started = rows(page).first().locator('td:nth-child(8) time');
    const instant = (await started.getAttribute('datetime'))!;
    const local = new Date(Date.parse(instant) + 330 * 60_000).toISOString();
    await expect(started).toHaveText(`${local.slice(0, 10)} ${local.slice(11, 16)}`);
    await expect(started).toHaveAttribute('title', `${local.slice(0, 10)} ${local.slice(11, 19)} UTC+05:30 · ${instant}`);

    // The custom range's fields appear with "Custom" and take the reader's wall clock.
    const from = page.getByLabel('From');
    await expect(from).toBeHidden();
    await page.getByLabel('Timeframe', { exact: true }).selectOption('custom');
    await expect(from).toBeVisible();
    const hourAgo = Date.now() - 3_600_000;
    const wall = new Date(hourAgo + 330 * 60_000).toISOString().slice(0, 16);
    await from.fill(wall);
    await page.getByRole('button', { name: 'Apply' }).click();
    await expect(page).toHaveURL(/range=custom/);
    await expect(page).toHaveURL(/tz=330/);
    await expect(page.locator('p.timeframe')).toHaveText(`From ${wall.replace('T', ' ')} to now (UTC+05:30)`);
    // Every session shown overlaps the last hour: started in it, still active, or ended in it.
    const shown = await rows(page).evaluateAll((trs) =>
      trs.map((tr) => tr.querySelector('td:nth-child(9)')!.getAttribute('title')!),
    );
    expect(shown.length).toBeGreaterThan(0);
    for (const ended of shown) {
      const end = / · (\S+)$/.exec(ended);
      expect(!end || Date.parse(end[1]) >= hourAgo - 60_000, ended).toBe(true);
    }
  });
});

test('a row opens its detail in a panel over the grid; it survives a reload and Escape closes it', async ({ page }) => {
  const errors = watchErrors(page);
  await signIn(page, 'olivia');
  // Rows by session ID: the demo's gateways keep starting sessions, which moves rows down between two looks.
  const id = (await rows(page).nth(2).getAttribute('data-session-id'))!;
  const row = page.locator(`table.sessions tbody tr[data-session-id="${id}"]`);
  // A cell without a link of its own (the user's name links to their sessions).
  await row.locator('td:nth-child(4)').click();
  const panel = page.getByRole('dialog', { name: `Session ${id}` });
  await expect(panel).toBeVisible();
  await expect(page).toHaveURL(new RegExp(`open=${id}`));
  await expect(panel).toBeFocused();
  await expect(panel.locator('table.audit-log tbody tr td:nth-child(3)').first()).toHaveText('session.started');
  await expect(row).toHaveClass(/\bopen\b/);
  await expect(rows(page)).toHaveCount(50);
  await screen(page, 'detail-panel');

  await page.reload();
  await hydrated(page);
  await expect(panel).toBeVisible();
  await page.keyboard.press('Escape');
  await expect(panel).toHaveCount(0);
  await expect(page).not.toHaveURL(/open=/);
  await expect(row.locator('a.open-detail')).toBeFocused();

  // An active session's duration ticks on in the panel too, without asking the server.
  await page.keyboard.press('Escape');
  const live = rows(page).filter({ has: page.locator('td:nth-child(7)', { hasText: /^Connect(ed|ing)$/ }) }).first();
  await live.locator('td:nth-child(4)').click();
  const duration = page.getByRole('dialog').locator('dd .duration');
  const first = await duration.textContent();
  await expect(async () => expect(await duration.textContent()).not.toBe(first)).toPass({ timeout: 5_000 });
  await page.keyboard.press('Escape');

  // Another row's ID switches the panel; its close button closes it.
  const other = (await rows(page).nth(4).getAttribute('data-session-id'))!;
  await page.locator(`table.sessions tbody tr[data-session-id="${other}"] a.open-detail`).click();
  await expect(page.getByRole('dialog', { name: `Session ${other}` })).toBeVisible();
  await page.getByRole('link', { name: 'Close the session detail' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  expect(errors).toEqual([]);
});

/** Each row's session ID and status text, in order. */
const snapshot = (page: Page) =>
  rows(page).evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-session-id')!,
      status: tr.querySelector('td:nth-child(7)')!.textContent!,
      changed: tr.getAttribute('data-changed') === 'true',
      // Set on every row element before a refresh: still there after it if the grid kept that row's element.
      kept: (tr as unknown as { kept?: boolean }).kept === true,
    })),
  );

test('the 20-second refresh shows what changed, highlighted, and keeps scroll and the open detail', async ({ page }) => {
  test.setTimeout(60_000);
  await page.setViewportSize({ width: 1280, height: 500 });
  await withoutStream(page);
  await signIn(page, 'admin');
  await page.clock.install();
  await page.goto('/sessions');
  await hydrated(page);
  const live = rows(page).filter({ has: page.getByRole('button', { name: /^Terminate session/ }) });
  await expect(live.first()).toBeVisible();
  const id = (await live.last().getAttribute('data-session-id'))!;
  await rows(page).first().locator('a.open-detail').click();
  const panel = page.getByRole('dialog');
  await expect(panel).toBeVisible();
  const url = page.url();
  await page.evaluate(() => window.scrollTo(0, 300));
  const scroll = await page.evaluate(() => window.scrollY);
  expect(scroll).toBeGreaterThan(0);
  const before = new Map((await snapshot(page)).map((r) => [r.id, r.status]));
  /** Where the session's row is on screen: what the reader's pointer is over. */
  const onScreen = async () =>
    (await page.locator(`table.sessions tbody tr[data-session-id="${id}"]`).boundingBox())!.y;
  const at = await onScreen();
  await rows(page).evaluateAll((trs) => trs.forEach((tr) => ((tr as unknown as { kept: boolean }).kept = true)));

  // Someone else asks for the end of a live session on this page; the next automatic refresh shows it.
  await terminateElsewhere(page, id);
  // Without its stream the page asks only what changed since it was read.
  const refreshed = page.waitForResponse((r) => r.url().includes('/api/session_changes'));
  await page.clock.runFor(20_000);
  await refreshed;
  const same = page.locator(`table.sessions tbody tr[data-session-id="${id}"]`);
  await expect(same.locator('td:nth-child(7)')).toHaveText(/^Terminat(ing…|ed)$/);
  await expect(same).toHaveAttribute('data-changed', 'true');
  await expect(same).toHaveClass(/\bchanged\b/);
  // Exactly the rows that are new or whose state moved are highlighted (the demo's gateways keep reporting).
  // The rows are keyed: a refresh rebuilds exactly those rows and keeps every other row's element as it was.
  for (const row of await snapshot(page)) {
    const moved = before.get(row.id) !== row.status;
    expect(row.changed, `${row.id}: ${before.get(row.id)} → ${row.status}`).toBe(moved);
    expect(row.kept, `${row.id} ${moved ? 'rebuilt' : 'kept'}`).toBe(!moved);
  }
  expect(page.url()).toBe(url);
  // The rows stay where they were on screen, give or take a few pixels of a changed row above growing or shrinking
  // (a new row pushed in would move them by 32). The page itself may scroll by the height of an "N new sessions"
  // control that the demo's live traffic puts above the grid: the browser keeps the rows in place.
  expect(Math.abs((await onScreen()) - at)).toBeLessThanOrEqual(8);
  expect(await page.evaluate(() => window.scrollY)).toBeGreaterThanOrEqual(scroll);
  await expect(panel).toBeVisible();
  await screen(page, 'refreshed-with-change');
});

test('live: pushed changes update rows in place, new sessions wait behind a control, and the page is not read again', async ({ page }) => {
  test.setTimeout(90_000);
  await signIn(page, 'admin');
  const mode = page.locator('.overview-head .updated');
  await expect(mode).toHaveAttribute('data-mode', 'live');
  await expect(mode).toHaveText('Live: changes show as they happen');
  let reads = 0;
  page.on('request', (r) => {
    if (readsView(r.url())) reads++;
  });
  const first = (await rows(page).first().getAttribute('data-session-id'))!;
  // A session terminated elsewhere changes in place, where it is.
  const live = rows(page).filter({ has: page.getByRole('button', { name: /^Terminate session/ }) });
  const id = (await live.last().getAttribute('data-session-id'))!;
  const place = await rows(page).evaluateAll((trs, id) => trs.findIndex((tr) => tr.getAttribute('data-session-id') === id), id);
  await terminateElsewhere(page, id);
  const row = page.locator(`table.sessions tbody tr[data-session-id="${id}"]`);
  await expect(row.locator('td:nth-child(7)')).toHaveText(/^Terminat(ing…|ed)$/, { timeout: 10_000 });
  await expect(row).toHaveClass(/\bchanged\b/);
  expect(await rows(page).evaluateAll((trs, id) => trs.findIndex((tr) => tr.getAttribute('data-session-id') === id), id)).toBe(place);
  // The demo's gateways keep starting sessions: they wait above the rows instead of pushing them down.
  const control = page.locator('button.new-sessions');
  await expect(control).toBeVisible({ timeout: 60_000 });
  await expect(control).toHaveText(/^\d+ new sessions? — show$/);
  expect(await rows(page).first().getAttribute('data-session-id')).toBe(first);
  expect(reads, 'the page was read again while its stream was live').toBe(0);
  await screen(page, 'live-new-sessions');
  // Showing them reads the view again: they are on top now (and the demo may already have started more).
  await control.click();
  await expect(rows(page).first()).not.toHaveAttribute('data-session-id', first);
});

test('a refresh keeps the page, sort and filters it was asked for', async ({ page }) => {
  await withoutStream(page);
  await signIn(page, 'admin');
  await page.clock.install();
  await page.goto('/sessions?status=completed&sort=user%3Aasc&size=10');
  await hydrated(page);
  await page.getByRole('link', { name: 'Older →' }).click();
  await expect(page).toHaveURL(/cursor=/);
  const url = page.url();
  const refreshed = page.waitForResponse((r) => readsView(r.url()));
  await page.clock.runFor(20_000);
  const answer = await refreshed;
  // The same view was asked for again: its page cursor went with it.
  expect(answer.request().postData()).toContain('"cursor":"');
  expect(page.url()).toBe(url);
  await expect(page.getByRole('columnheader', { name: /User/ })).toHaveAttribute('aria-sort', 'ascending');
  await expect(page.getByRole('checkbox', { name: /^Completed/ })).toBeChecked();
  const shown = await snapshot(page);
  expect(shown.length).toBe(10);
  for (const row of shown) expect(row.status).toBe('Completed');
  const users = await rows(page).locator('td:nth-child(2)').allTextContents();
  expect([...users].sort()).toEqual(users);
});

test('auto-refresh pauses while the tab is hidden, catches up when it shows, and the toggle turns it off', async ({ page }) => {
  await withoutStream(page);
  await signIn(page, 'admin');
  await page.clock.install();
  await page.reload();
  await hydrated(page);
  const calls = listCalls(page);
  const setHidden = (hidden: boolean) =>
    page.evaluate((h) => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => h });
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
      document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
    }, hidden);

  await setHidden(true);
  await page.clock.runFor(65_000);
  expect(calls).toEqual([]);
  const shown = page.waitForResponse((r) => readsView(r.url()));
  await setHidden(false);
  await shown;
  expect(calls.length).toBe(1);
  await expect(page.locator('.overview-head .updated')).toHaveText(/^Updated \d+ s ago · next refresh in \d+ s$/);

  await page.getByRole('checkbox', { name: 'Auto-refresh' }).uncheck();
  await expect(page.locator('.overview-head .updated')).toHaveText(/auto-refresh off$/);
  await page.clock.runFor(65_000);
  expect(calls.length).toBe(1);
  // The Refresh button still works with auto-refresh off.
  const manual = page.waitForResponse((r) => r.url().includes('/api/list_sessions'));
  await page.getByRole('button', { name: 'Refresh' }).click();
  await manual;
  await page.getByRole('checkbox', { name: 'Auto-refresh' }).check();
  const resumed = page.waitForResponse((r) => readsView(r.url()));
  await page.clock.runFor(21_000);
  await resumed;
});

test('the export holds every page of the current view, as CSV and as JSON', async ({ page }) => {
  await signIn(page, 'olivia');
  // A closed window in the past: which sessions overlap it cannot change while the test runs (new ones start later).
  const day = 86_400_000;
  const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  const [from, to] = [minute(Date.now() - 8 * day), minute(Date.now() - day)];
  await page.goto(`/sessions?range=custom&from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&size=25`);
  await hydrated(page);
  const total = Number(/of (\d+) matching/.exec((await page.locator('p.count').textContent())!)![1]);
  expect(total).toBeGreaterThan(25);

  const download = page.waitForEvent('download');
  await page.getByRole('link', { name: 'CSV' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toMatch(/^sra-sessions-\d{8}T\d{6}\.csv$/);
  const csv = (await (await import('node:fs/promises')).readFile((await file.path())!, 'utf8')).trimEnd().split('\r\n');
  expect(csv[0]).toBe(
    'session_id,status,client_interface,user,gateway,gateway_name,resource_type,secret_name,target_name,target_host,' +
      'started_at,ended_at,duration_seconds,error_message,termination_requested_at,access_id,termination_requested_by,' +
      'termination_reason',
  );
  const body = csv.slice(1).map((line) => line.split(','));
  expect(body.length).toBe(total);
  expect(new Set(body.map((cells) => cells[0])).size).toBe(total);
  for (const cells of body) {
    expect(Date.parse(cells[10])).toBeLessThanOrEqual(Date.parse(`${to}:00Z`));
    // Olivia sees her own sessions and those of the gateways her role grants.
    expect(cells[3] === 'olivia' || /^gw-(us-east|eu-west)/.test(cells[4]), cells.join(',')).toBe(true);
  }

  const json = await page.request.get(await page.getByRole('link', { name: 'JSON' }).getAttribute('href') as string);
  expect(json.headers()['content-type']).toBe('application/json');
  const sessions: { session_id: string; status: string }[] = await json.json();
  expect(sessions.map((s) => s.session_id).sort()).toEqual(body.map((cells) => cells[0]).sort());

  // Without a sign-in there is nothing to download: the console asks to sign in first.
  await page.getByRole('button', { name: 'Sign out' }).click();
  const anonymous = await page.request.get('/export/sessions.csv', { maxRedirects: 0 });
  expect(anonymous.status()).toBe(303);
  expect(anonymous.headers()['location']).toMatch(/^\/login\?next=/);
});

test('keyboard only: filter, sort, open a session, close it with Escape', async ({ page }) => {
  await signIn(page, 'admin');
  /** Presses Tab until the focused element matches, or fails after `max` presses. */
  const tabTo = async (describe: string, matches: () => boolean, max = 150) => {
    for (let i = 0; i < max; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(matches)) return;
    }
    throw new Error(`Tab never reached ${describe}`);
  };
  await page.locator('h1').first().click();
  await tabTo('the Failed checkbox', () => (document.activeElement?.parentElement?.textContent ?? '').startsWith('Failed'));
  await page.keyboard.press('Space');
  // A folded filter: open it from the keyboard, narrow its choices by typing, tick one, close it with Escape.
  await tabTo('the Resource type filter', () => {
    const el = document.activeElement;
    return el?.tagName === 'SUMMARY' && el.closest('details')?.dataset.key === 'resource';
  });
  await page.keyboard.press('Enter');
  await page.keyboard.press('Tab');
  await expect(page.getByLabel('Filter the resource type choices')).toBeFocused();
  await page.keyboard.type('ss');
  await page.keyboard.press('Tab');
  await expect(page.getByRole('checkbox', { name: choice('ssh') })).toBeFocused();
  await page.keyboard.press('Space');
  await page.keyboard.press('Escape');
  await expect(page.locator('details.multi[data-key="resource"]')).not.toHaveAttribute('open');
  expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('SUMMARY');
  await tabTo('Apply', () => document.activeElement?.textContent === 'Apply');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/status=failed/);
  await expect(page).toHaveURL(/resource=ssh/);
  await expect(page.getByRole('link', { name: 'Remove the filter Resource type: ssh' })).toBeVisible();
  await tabTo('the User header', () => document.activeElement?.closest('th')?.textContent?.startsWith('User') ?? false);
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/sort=user%3Aasc/);
  await expectEvery(rows(page).locator('td:nth-child(7)'), /^Failed$/);
  await tabTo('a session link', () => document.activeElement?.classList.contains('open-detail') ?? false);
  const id = await page.evaluate(() => document.activeElement!.textContent!.trim());
  await page.keyboard.press('Enter');
  const panel = page.getByRole('dialog', { name: `Session ${id}` });
  await expect(panel).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(panel).toHaveCount(0);
  expect(await page.evaluate(() => document.activeElement!.textContent!.trim())).toBe(id);
});

test('empty views say why: nothing in the timeframe, or filters that exclude everything', async ({ page }) => {
  await signIn(page, 'admin');
  await page.goto('/sessions?q=no-such-session-anywhere');
  await expect(page.locator('p.empty')).toHaveText('No sessions match these filters in this timeframe. Clear all filters');
  await screen(page, 'empty-filtered');
  await page.goto('/sessions?range=custom&from=2001-01-01T00%3A00&to=2001-01-02T00%3A00');
  await expect(page.locator('p.empty')).toHaveText('No sessions in this timeframe.');
  await page.goto('/sessions?status=sleeping');
  await expect(page.getByRole('alert')).toContainText('unknown status "sleeping"; allowed: connecting, connected');
});

test('at 1280 px the grid fits; on a narrow screen the filters fold away and the page does not overflow', async ({ page }) => {
  await page.setViewportSize({ width: 1280, height: 800 });
  await signIn(page, 'admin');
  const wrap = page.locator('.table-wrap').first();
  const fits = await wrap.evaluate((el) => el.scrollWidth <= el.clientWidth);
  expect(fits).toBe(true);
  await expect(page.getByRole('button', { name: 'Show filters' })).toBeHidden();
  await expect(page.getByRole('form', { name: 'Filters' })).toBeVisible();
  /** How far down the first row's top is, with the page not scrolled. */
  const firstRowTop = async () => (await rows(page).first().boundingBox())!.y;
  // The filters fit above the grid: its first rows show without scrolling, even with filters in force.
  await page.goto('/sessions?resource=ssh&resource=rdp&gateway=gw-us-east-1&status=completed&status=failed');
  await hydrated(page);
  await expect(rows(page).first()).toBeVisible();
  expect(await firstRowTop()).toBeLessThan(800 - 5 * 32);
  await screen(page, 'filters-1280');

  await page.setViewportSize({ width: 390, height: 844 });
  const toggle = page.getByRole('button', { name: 'Show filters' });
  await expect(toggle).toBeVisible();
  await expect(toggle).toHaveAttribute('aria-expanded', 'false');
  await expect(page.getByRole('form', { name: 'Filters' })).toBeHidden();
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  expect(await firstRowTop()).toBeLessThan(844 / 2);
  await screen(page, 'narrow');
  await toggle.click();
  await expect(page.getByRole('button', { name: 'Hide filters' })).toHaveAttribute('aria-expanded', 'true');
  await expect(page.getByRole('form', { name: 'Filters' })).toBeVisible();
  await screen(page, 'narrow-filters', true);
});

test('each filter narrows the grid, the filters combine, and search finds a session by its ID', async ({ page }) => {
  await signIn(page, 'admin');
  const apply = () => page.getByRole('button', { name: 'Apply' }).click();
  const cells = (n: number) => rows(page).locator(`td:nth-child(${n})`);
  const single: { key?: string; name: string | RegExp; param: RegExp; cell: number; value: RegExp }[] = [
    { key: 'client', name: 'Desktop Application', param: /client=desktop_app/, cell: 1, value: /^Desktop Application$/ },
    { key: 'resource', name: 'postgres', param: /resource=postgres/, cell: 4, value: /^postgres$/ },
    { key: 'gateway', name: 'EU West (Ireland)', param: /gateway=gw-eu-west-1/, cell: 3, value: /^EU West \(Ireland\)$/ },
    // Status stays in sight, with its counts.
    { name: /^Failed \(\d+\)$/, param: /status=failed/, cell: 7, value: /^Failed$/ },
  ];
  for (const { key, name, param, cell, value } of single) {
    await page.goto('/sessions');
    await hydrated(page);
    if (key) await tick(page, key, name);
    else await page.getByRole('checkbox', { name, exact: typeof name === 'string' }).check();
    await apply();
    await expect(page).toHaveURL(param);
    await expectEvery(cells(cell), value);
  }

  // Two resource types on one gateway, completed only: every row meets all three.
  await page.goto('/sessions');
  await hydrated(page);
  await tick(page, 'resource', 'ssh');
  await tick(page, 'resource', 'rdp');
  // Opening one filter closes the other; what was ticked stays ticked.
  await tick(page, 'gateway', 'US East (N. Virginia)');
  await expect(page.locator('details.multi[open]')).toHaveCount(1);
  await page.getByRole('checkbox', { name: /^Completed/ }).check();
  await apply();
  await expect(page).toHaveURL(/resource=ssh&resource=rdp/);
  await expectEvery(cells(4), /^(ssh|rdp)$/);
  await expectEvery(cells(3), /^US East \(N\. Virginia\)$/);
  await expectEvery(cells(7), /^Completed$/);
  // Each folded filter says on its face what it keeps; the filters in force show as chips above the grid.
  await expect(page.locator('details.multi[data-key="resource"] .multi-face')).toHaveText('ssh, rdp');
  await expect(page.locator('details.multi[data-key="client"] .multi-face')).toHaveText('Any');
  const chips = page.getByRole('list', { name: 'Filters in force' }).locator('a.chip');
  await expect(chips).toHaveText([
    'Status: Completed ×',
    'Resource type: rdp ×',
    'Resource type: ssh ×',
    'Gateway: US East (N. Virginia) ×',
  ]);
  await screen(page, 'filtered');
  // A chip takes away its own value only.
  await page.getByRole('link', { name: 'Remove the filter Resource type: rdp' }).click();
  await expect(page).not.toHaveURL(/rdp/);
  await expect(page).toHaveURL(/resource=ssh/);
  await expectEvery(cells(4), /^ssh$/);
  await expect(chips).toHaveCount(3);

  // Search: a session ID finds exactly that session; "Clear all" brings every session back.
  const id = (await rows(page).first().getAttribute('data-session-id'))!;
  await page.getByLabel('Search').fill(id);
  await apply();
  await expect(rows(page)).toHaveCount(1);
  await expect(rows(page).first()).toHaveAttribute('data-session-id', id);
  await page.getByRole('link', { name: 'Clear all', exact: true }).click();
  await expect(page).toHaveURL(/\/sessions$/);
  await expect(rows(page)).toHaveCount(50);
});

test('each folded filter counts its choices under the other filters, as ticking each alone would show', async ({ page }) => {
  await signIn(page, 'admin');
  // A closed window in the past: its sessions and their statuses cannot change while the test runs.
  const day = 86_400_000;
  const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16);
  const window = `range=custom&from=${encodeURIComponent(minute(Date.now() - 20 * day))}&to=${encodeURIComponent(minute(Date.now() - 10 * day))}&tz=0`;
  await page.goto(`/sessions?${window}&status=completed`);
  await hydrated(page);
  const completed = async () =>
    Number(/^Completed \((\d+)\)$/.exec((await page.locator('label.check', { hasText: /^Completed/ }).textContent())!.trim())![1]);
  await expect(page.locator('label.check', { hasText: /^Completed/ })).toHaveText(/\(\d+\)/);
  const all = await completed();
  expect(all).toBeGreaterThan(0);
  // Every session of the view has one client interface, one resource type and one gateway.
  const byClient = await choiceCounts(page, 'client');
  expect(byClient.size).toBe(4);
  expect(sum(byClient)).toBe(all);
  const byType = await choiceCounts(page, 'resource');
  expect(sum(byType)).toBe(all);
  const byGateway = await choiceCounts(page, 'gateway');
  expect(sum(byGateway)).toBe(all);
  await screen(page, 'filter-counts');

  // Tick the busiest resource type: the view has as many sessions as its count said; the resource type's own counts
  // stay as they were (each choice is counted as if alone), the other filters' follow.
  const [busiest, n] = [...byType].sort((a, b) => b[1] - a[1])[0];
  await tick(page, 'resource', busiest);
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page).toHaveURL(new RegExp(`resource=${busiest}`));
  // Read afresh: no count carried over from before the filter changed.
  await page.reload();
  await hydrated(page);
  await expect(page.locator('label.check', { hasText: /^Completed/ })).toHaveText(`Completed (${n})`);
  expect(await choiceCounts(page, 'resource')).toEqual(byType);
  expect(sum(await choiceCounts(page, 'client'))).toBe(n);
});

test('the termination confirmation is a modal dialog: it names the session, keeps the focus, outlives a refresh, and Escape, Cancel or a click outside change nothing', async ({ page }) => {
  await withoutStream(page);
  await signIn(page, 'admin');
  await page.clock.install();
  await page.reload();
  await hydrated(page);
  const first = rows(page).filter({ has: page.getByRole('button', { name: /^Terminate session/ }) }).first();
  const id = (await first.getAttribute('data-session-id'))!;
  const row = page.locator(`table.sessions tbody tr[data-session-id="${id}"]`);
  const user = (await row.locator('td:nth-child(2)').textContent())!;
  const button = page.locator(`[id="terminate-row-${id}"]`);
  await button.click();
  const dialog = page.getByRole('alertdialog', { name: `Terminate session ${id}?` });
  await expect(dialog).toBeVisible();
  await expect(dialog).toHaveAttribute('aria-modal', 'true');
  await expect(dialog).toContainText(`${user} on `);
  const reason = dialog.getByLabel(/^Reason/);
  const cancel = dialog.getByRole('button', { name: 'Cancel' });
  const yes = dialog.getByRole('button', { name: 'Yes, terminate' });
  // The focus starts on the reason; Terminate is out of the Tab order until there is one.
  const block = dialog.getByLabel(/^Also keep the user/);
  await expect(reason).toBeFocused();
  await expect(yes).toBeDisabled();
  await page.keyboard.press('Tab');
  await expect(block).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(cancel).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(reason).toBeFocused();
  await page.keyboard.type('drill');
  await page.keyboard.press('Tab');
  await page.keyboard.press('Tab');
  await expect(cancel).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(yes).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(reason).toBeFocused();
  await page.keyboard.press('Shift+Tab');
  await expect(yes).toBeFocused();

  // The grid refreshes underneath; the question stays.
  const refreshed = page.waitForResponse((r) => readsView(r.url()));
  await page.clock.runFor(20_000);
  await refreshed;
  await expect(dialog).toBeVisible();

  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  // The focus is back on the button that asked (unless the demo's gateway ended that session meanwhile).
  const focused = await page.evaluate(() => document.activeElement?.id);
  expect(focused === `terminate-row-${id}` || (await button.count()) === 0).toBe(true);

  // Cancel, then a click outside: each asked of a session that is active now (the demo's gateways end sessions on
  // their own, so the first one may be gone — another is taken rather than the check skipped).
  for (const dismiss of ['Cancel', 'outside'] as const) {
    const asker = rows(page).filter({ has: page.getByRole('button', { name: /^Terminate session/ }) }).first();
    await expect(asker).toBeVisible();
    const askerId = (await asker.getAttribute('data-session-id'))!;
    await asker.getByRole('button', { name: /^Terminate session/ }).click();
    const asked = page.getByRole('alertdialog', { name: `Terminate session ${askerId}?` });
    await expect(asked).toBeVisible();
    if (dismiss === 'Cancel') await asked.getByRole('button', { name: 'Cancel' }).click();
    else await page.mouse.click(5, 400);
    await expect(asked).toHaveCount(0);
    // Nothing was requested.
    await expect(page.locator(`table.sessions tbody tr[data-session-id="${askerId}"] td:nth-child(7)`)).not.toHaveText('Terminating…');
  }
  // None of those clicks opened the row underneath.
  await expect(row.locator('td:nth-child(7)')).not.toHaveText('Terminating…');
  await expect(page.getByRole('dialog')).toHaveCount(0);
  await expect(page).not.toHaveURL(/open=/);
});
