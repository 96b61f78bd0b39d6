// The audit page beyond live rows: paging with "Load more", filters, and exports that carry
// the bearer token and honour the filter.

import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';

import { openBrowser, startServer } from './harness.mjs';

const TOKENS = 60; // more than one page (50)

async function download(page, testId) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testId).click()]);
  return { name: file.suggestedFilename(), text: await readFile(await file.path(), 'utf8') };
}

test('the audit log pages with "Load more", filters, and exports what the filter shows', async (t) => {
  const server = await startServer(t);
  const admin = await server.login();
  for (let i = 0; i < TOKENS; i++) {
    const res = await server.request('POST', '/api/v1/tokens', { token: admin.access_token, json: { name: `batch-${i}` } });
    assert.equal(res.status, 201);
  }
  // A viewer east of UTC (no daylight saving), so times in the URL and in the form differ.
  const browser = await openBrowser(t, { timezoneId: 'Asia/Kolkata' });
  const { page } = browser;
  page.setDefaultTimeout(15_000);
  const rows = page.getByTestId('audit-row');

  await page.goto(`${server.url}/audit`);
  await page.getByTestId('login-username').fill(server.admin.username);
  await page.getByTestId('login-password').fill(server.admin.password);
  await page.getByTestId('login-submit').click();
  await rows.first().waitFor();
  assert.equal(await rows.count(), 50, 'one page at first');
  const all = await server.request('GET', '/api/v1/audit?limit=500', { token: admin.access_token });
  const total = all.body.items.length;
  assert.ok(total > 50);

  await page.getByTestId('audit-load-more').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="audit-row"]').length === n, total);
  assert.equal(await page.getByTestId('audit-load-more').count(), 0, 'no more pages');
  const shownIds = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
  assert.deepEqual(shownIds, all.body.items.map((e) => e.id), 'newest first, each once, same order as the API');

  // Filtered to one action: only those rows, paged again.
  await page.getByTestId('audit-filter-action').fill('token.create');
  await page.getByTestId('audit-filter-actor').fill('admin');
  await page.getByTestId('audit-filter-apply').click();
  await page.waitForFunction(() => {
    const trs = [...document.querySelectorAll('[data-testid="audit-row"]')];
    return trs.length === 50 && trs.every((tr) => tr.dataset.action === 'token.create');
  });
  await page.getByTestId('audit-load-more').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="audit-row"]').length === n, TOKENS);
  await browser.snap('01-filtered');
  // The filter is in the URL: a reload shows the same view, the form filled in.
  await page.waitForURL((u) => u.pathname === '/audit' && u.searchParams.get('action') === 'token.create'
    && u.searchParams.get('actor') === 'admin');
  await page.reload();
  await page.waitForFunction(() => {
    const trs = [...document.querySelectorAll('[data-testid="audit-row"]')];
    return trs.length === 50 && trs.every((tr) => tr.dataset.action === 'token.create');
  });
  assert.equal(await page.getByTestId('audit-filter-action').inputValue(), 'token.create');
  assert.equal(await page.getByTestId('audit-filter-actor').inputValue(), 'admin');
  await page.getByTestId('audit-load-more').click();
  await page.waitForFunction((n) => document.querySelectorAll('[data-testid="audit-row"]').length === n, TOKENS);

  // Exports follow the filter, and contain every matching entry (not one page).
  const csv = await download(page, 'audit-export-csv');
  assert.match(csv.name, /^flightdeck-audit-\d{8}-\d{6}\.csv$/);
  const csvLines = csv.text.trimEnd().split('\n');
  assert.match(csvLines[0], /^id,at,actor,action,/);
  assert.equal(csvLines.length, TOKENS + 1);
  assert.ok(csvLines.slice(1).every((l) => l.includes(',admin,token.create,')));
  const jsonl = await download(page, 'audit-export-jsonl');
  assert.match(jsonl.name, /\.jsonl$/);
  const entries = jsonl.text.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(entries.length, TOKENS);
  assert.ok(entries.every((e) => e.action === 'token.create' && e.actor === 'admin'));
  await page.getByTestId('toast').filter({ hasText: 'Export downloaded' }).first().waitFor();

  // A time window with nothing in it says so. The form reads the viewer's local time (here
  // UTC+05:30); the URL carries UTC, so a shared link means the same window anywhere.
  await page.getByTestId('audit-filter-until').fill('2026-01-02T09:30');
  await page.getByTestId('audit-filter-apply').click();
  await page.getByText('No entries match these filters').waitFor();
  assert.equal(await rows.count(), 0);
  await page.waitForURL((u) => u.searchParams.get('until') === '2026-01-02T04:00:00Z');
  await page.reload();
  await page.getByText('No entries match these filters').waitFor();
  assert.equal(await page.getByTestId('audit-filter-until').inputValue(), '2026-01-02T09:30');
  await browser.snap('02-no-match');

  // Clearing the filters brings back the first page of everything, and the bare URL.
  await page.getByTestId('audit-filter-clear').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="audit-row"]').length === 50);
  await page.waitForURL((u) => u.pathname === '/audit' && u.search === '');
});
