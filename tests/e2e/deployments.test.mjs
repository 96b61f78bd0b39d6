// The Deployment & Rollback Manager's acceptance test, in the browser and never reloading the
// page after login: deploy v1 to a protected environment with typed confirmation, watch it
// succeed, deploy v2 and watch it fail, roll back to v1 from the matrix with a reason, and
// find the rollback in the audit log. A second tab left on the Overview ("the wallboard")
// must follow every change live.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { eventually, openBrowser, startServer } from './harness.mjs';

// A command executor that succeeds except for version v2.
const CONFIG = `
[[catalog.services]]
slug = "checkout-api"
name = "Checkout API"
team = "payments"

[[catalog.environments]]
slug = "production"
name = "Production"
rank = 30
protected = true
executor = { kind = "command", program = "/bin/sh", args = ["-c", "echo deploying {version}; test {version} != v2"], timeout_secs = 60 }
`;

const CELL = '[data-testid="matrix-cell"][data-service="checkout-api"][data-environment="production"]';
const cellIn = (page, { status, version, kind }) => {
  let sel = CELL;
  if (status) sel += `[data-status="${status}"]`;
  if (version) sel += `[data-version="${version}"]`;
  if (kind) sel += `[data-kind="${kind}"]`;
  return page.locator(sel);
};

async function deployThroughDialog(page, browser, version, shot) {
  await page.getByTestId('new-deployment').click();
  const dialog = page.getByTestId('deploy-dialog');
  await dialog.waitFor();
  assert.equal(await page.getByTestId('deploy-service').inputValue(), 'checkout-api');
  assert.equal(await page.getByTestId('deploy-environment').inputValue(), 'production');
  await page.getByTestId('deploy-protected').waitFor();
  await page.getByTestId('deploy-version').fill(version);
  if (shot) {
    // Without the typed confirmation the form refuses before asking the server.
    await page.getByTestId('deploy-submit').click();
    await dialog.getByText('Type “production” to confirm.').waitFor();
    await browser.snap(shot);
  }
  await page.getByTestId('deploy-confirm').fill('production');
  await page.getByTestId('deploy-submit').click();
  await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
  await dialog.waitFor({ state: 'detached' });
  return page.url().split('/').pop();
}

test('deploy v1 and v2 to protected production, see v2 fail live, roll back to v1 with a reason, and find it in the audit log', async (t) => {
  const server = await startServer(t, { config: CONFIG });
  const browser = await openBrowser(t);
  const { page } = browser;
  page.setDefaultTimeout(15_000);

  // Sign in; the Overview shows the catalog from the config file with an empty cell.
  await page.goto(server.url);
  await page.getByTestId('login-username').fill(server.admin.username);
  await page.getByTestId('login-password').fill(server.admin.password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
  await page.evaluate(() => { window.__sameDocument = true; });
  await cellIn(page, { status: 'none' }).waitFor();
  await browser.snap('01-overview-never-deployed');

  // The wallboard: a second tab on the Overview that only watches.
  const wall = await browser.newPage();
  await wall.goto(server.url);
  await wall.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();
  await cellIn(wall, { status: 'none' }).waitFor();

  // Deploy v1 with the typed confirmation; the detail page follows it to success.
  const v1 = await deployThroughDialog(page, browser, 'v1', '02-deploy-dialog-needs-confirmation');
  await page.locator('[data-testid="deployment-status"][data-status="succeeded"]').waitFor();
  await page.getByTestId('deployment-log').getByText('deploying v1').waitFor();
  assert.ok(await page.getByTestId('timeline').locator('li').count() >= 3, 'queued, in progress and succeeded are on the timeline');
  await browser.snap('03-v1-succeeded-detail');
  await cellIn(wall, { status: 'succeeded', version: 'v1', kind: 'deploy' }).waitFor();
  await browser.snap('04-wallboard-v1-succeeded', wall);

  // Deploy v2 from the Overview; it fails, live on the detail page and on the wallboard.
  await page.getByTestId('nav-overview').click();
  await cellIn(page, { status: 'succeeded', version: 'v1' }).waitFor();
  const v2 = await deployThroughDialog(page, browser, 'v2');
  assert.notEqual(v2, v1);
  await page.locator('[data-testid="deployment-status"][data-status="failed"]').waitFor();
  await page.getByTestId('deployment-log').getByText('deploying v2').waitFor();
  await browser.snap('05-v2-failed-detail');
  await cellIn(wall, { status: 'failed', version: 'v1' }).waitFor();
  await browser.snap('06-wallboard-v2-failed', wall);

  // Roll back from the matrix cell: the dialog names v2 → v1 and insists on a reason and
  // the typed environment.
  await page.getByTestId('nav-overview').click();
  await cellIn(page, { status: 'failed', version: 'v1' }).waitFor();
  await browser.snap('07-overview-v2-failed');
  await page.locator(CELL).getByTestId('rollback-open').click();
  const dialog = page.getByTestId('rollback-dialog');
  await dialog.waitFor();
  assert.equal((await page.getByTestId('rollback-from').textContent()).trim(), 'v2');
  assert.equal((await page.getByTestId('rollback-to').textContent()).trim(), 'v1');
  await page.getByTestId('rollback-submit').click();
  await dialog.getByText('Say why').waitFor();
  await browser.snap('08-rollback-dialog');
  const reason = 'v2 fails its deploy check; back to v1';
  await page.getByTestId('rollback-reason').fill(reason);
  await page.getByTestId('rollback-confirm').fill('production');
  await page.getByTestId('rollback-submit').click();
  await page.getByTestId('toast').filter({ hasText: 'Rolling back checkout-api in production to v1' }).waitFor();
  await page.waitForURL((url) => /\/deployments\/[0-9a-f-]{36}$/.test(url.pathname) && !url.pathname.endsWith(v2));
  await page.locator('[data-testid="deployment-summary"][data-kind="rollback"]').waitFor();
  await page.locator('[data-testid="deployment-status"][data-status="succeeded"]').waitFor();
  assert.equal((await page.getByTestId('deployment-reason').textContent()).trim(), reason);
  await browser.snap('09-rollback-succeeded-detail');

  // v1 is current again, by a rollback — on both screens.
  await cellIn(wall, { status: 'succeeded', version: 'v1', kind: 'rollback' }).waitFor();
  await browser.snap('10-wallboard-rolled-back', wall);
  await page.getByTestId('nav-overview').click();
  await cellIn(page, { status: 'succeeded', version: 'v1', kind: 'rollback' }).waitFor();
  await browser.snap('11-overview-rolled-back');

  // The cell's History opens the history filtered to it (the filter is in the URL): all three,
  // newest first, with the DORA panel above.
  await page.locator(CELL).getByTestId('cell-history').click();
  await page.waitForURL((u) => u.pathname === '/deployments' && u.searchParams.get('service') === 'checkout-api'
    && u.searchParams.get('environment') === 'production');
  const rows = page.getByTestId('deployment-row');
  const listed = () => rows.evaluateAll((trs) => trs.map((tr) => `${tr.dataset.version}:${tr.dataset.kind}:${tr.dataset.status}`));
  await rows.nth(2).waitFor();
  assert.deepEqual(await listed(), ['v1:rollback:succeeded', 'v2:deploy:failed', 'v1:deploy:succeeded']);
  await eventually(async () => (await page.getByTestId('filter-service').inputValue()) === 'checkout-api', { message: 'the service filter shows the cell' });
  assert.equal(await page.getByTestId('filter-environment').inputValue(), 'production');
  // Only v2 failed: the rollback restored the v1 still running, which makes v1 no bad change.
  await page.getByTestId('dora-cfr').locator('.dora-value').getByText('33 %').waitFor();
  assert.match(await page.getByTestId('dora-cfr').locator('.dora-note').textContent(), /^1 failed/);
  await browser.snap('12-deployments-history');
  // Narrowing it changes the URL; the nav's plain link shows everything again.
  await page.getByTestId('filter-status').selectOption('failed');
  await page.waitForURL((u) => u.searchParams.get('status') === 'failed');
  await eventually(async () => JSON.stringify(await listed()) === JSON.stringify(['v2:deploy:failed']), { message: 'only the failed deploy' });
  await page.getByTestId('nav-deployments').click();
  await page.waitForURL((u) => u.pathname === '/deployments' && u.search === '');
  await eventually(async () => (await listed()).length === 3, { message: 'all three again' });
  assert.equal(await page.getByTestId('filter-status').inputValue(), '');

  // The audit log has the rollback with its reason.
  await page.getByTestId('nav-audit').click();
  const entry = page.locator('[data-testid="audit-row"][data-action="deployment.rollback"]');
  await entry.waitFor();
  assert.equal((await entry.locator('.cell-reason').textContent()).trim(), reason);
  await browser.snap('13-audit-rollback');

  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'the page was never reloaded');
});

// Staging before production, both deploying with a command that always succeeds.
const PIPELINE = `
[[catalog.services]]
slug = "checkout-api"
name = "Checkout API"

[[catalog.environments]]
slug = "staging"
name = "Staging"
rank = 20
executor = { kind = "command", program = "/bin/sh", args = ["-c", "echo deploying {version}"], timeout_secs = 60 }

[[catalog.environments]]
slug = "production"
name = "Production"
rank = 30
executor = { kind = "command", program = "/bin/sh", args = ["-c", "echo deploying {version}"], timeout_secs = 60 }
`;

test('a version running in staging is promoted to production from the matrix in one step', async (t) => {
  const server = await startServer(t, { config: PIPELINE });
  const { access_token: admin } = await server.login();
  const deploy = async (environment, version) => {
    const res = await server.request('POST', '/api/v1/deployments', { token: admin, json: { service: 'checkout-api', environment, version } });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    await eventually(async () => (await server.request('GET', `/api/v1/deployments/${res.body.id}`, { token: admin })).body.status === 'succeeded',
      { message: `${version} in ${environment}` });
  };
  await deploy('production', '1.1.0');
  await deploy('staging', '1.2.0');

  const browser = await openBrowser(t);
  const { page } = browser;
  await page.goto(server.url);
  await page.getByTestId('login-username').fill(server.admin.username);
  await page.getByTestId('login-password').fill(server.admin.password);
  await page.getByTestId('login-submit').click();
  const prodCell = page.locator('[data-testid="matrix-cell"][data-environment="production"][data-version="1.1.0"]');
  await prodCell.waitFor();
  // Staging is first: nothing comes before it, so it offers no promotion.
  await page.locator('[data-testid="matrix-cell"][data-environment="staging"][data-version="1.2.0"]').waitFor();
  assert.equal(await page.locator('[data-testid="matrix-cell"][data-environment="staging"] [data-testid="cell-promote"]').count(), 0);
  const promote = prodCell.getByTestId('cell-promote');
  assert.equal(await promote.getAttribute('data-version'), '1.2.0');
  await browser.snap('01-promote-offered');

  await promote.click();
  const dialog = page.getByTestId('deploy-dialog');
  await dialog.getByText('Promote 1.2.0 from Staging').waitFor();
  assert.equal(await page.getByTestId('deploy-environment').inputValue(), 'production');
  assert.equal(await page.getByTestId('deploy-version').inputValue(), '1.2.0');
  assert.equal(await page.getByTestId('deploy-description').inputValue(), 'Promoted from Staging');
  await browser.snap('02-promote-dialog');
  await page.getByTestId('deploy-submit').click();
  await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
  const id = page.url().split('/').pop();
  await eventually(async () => (await server.request('GET', `/api/v1/deployments/${id}`, { token: admin })).body.status === 'succeeded',
    { message: 'the promotion succeeded' });
  const stored = (await server.request('GET', `/api/v1/deployments/${id}`, { token: admin })).body;
  assert.deepEqual([stored.environment, stored.version, stored.previous_version, stored.description],
    ['production', '1.2.0', '1.1.0', 'Promoted from Staging']);

  // Both environments now run 1.2.0: nothing is left to promote.
  await page.getByTestId('nav-overview').first().click();
  await page.locator('[data-testid="matrix-cell"][data-environment="production"][data-version="1.2.0"]').waitFor();
  assert.equal(await page.getByTestId('cell-promote').count(), 0);
});
