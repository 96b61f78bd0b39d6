// The health dashboard end to end: a component created through the API shows operational;
// an Alertmanager webhook with a critical alert for its service turns the tile red and puts
// the alert in the feed live; an operator acknowledges it with a note in the browser and the
// feed shows who and the note; a resolved payload resolves it live. Never reloads after login.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { eventually, openBrowser, startServer } from './harness.mjs';

const SECRET = 'am-secret-for-e2e-0123456789';
// One episode: the resolved notification repeats the firing one's start.
const STARTS_AT = new Date(Date.now() - 60_000).toISOString();

function amPayload(status) {
  const alert = {
    status,
    labels: { alertname: 'HighErrorRate', service: 'checkout-api', severity: 'critical', namespace: 'payments' },
    annotations: { summary: 'checkout-api 5xx above 5%', runbook_url: 'https://runbooks.example.com/checkout/high-error-rate' },
    startsAt: STARTS_AT,
    endsAt: status === 'resolved' ? new Date().toISOString() : '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus:9090/graph',
    fingerprint: 'e2e0c0ffee000001',
  };
  return {
    version: '4', groupKey: '{}:{alertname="HighErrorRate"}', truncatedAlerts: 0, status,
    receiver: 'flightdeck', groupLabels: { alertname: 'HighErrorRate' }, commonLabels: {},
    commonAnnotations: {}, externalURL: 'http://alertmanager:9093', alerts: [alert],
  };
}

test('a firing Alertmanager alert turns its component red and lands in the feed live; it is acknowledged with a note and resolved by the source', async (t) => {
  const server = await startServer(t, {
    env: { FLIGHTDECK_WEBHOOK_SECRET_ALERTMANAGER: SECRET },
    config: '# nothing declared: the component comes from the API\n',
  });
  const { access_token: admin } = await server.login();
  const service = await server.request('POST', '/api/v1/services', {
    token: admin, json: { slug: 'checkout-api', name: 'Checkout API' },
  });
  assert.equal(service.status, 201, JSON.stringify(service.body));
  const created = await server.request('POST', '/api/v1/components', {
    token: admin,
    json: { slug: 'checkout', name: 'Checkout API', group: 'payments', service: 'checkout-api', tier: 1, matchers: ['service="checkout-api"'] },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  // A bad secret is refused (and never reaches the browser).
  const refused = await server.request('POST', '/api/v1/webhooks/alertmanager', {
    headers: { authorization: 'Bearer wrong' }, json: amPayload('firing'),
  });
  assert.equal(refused.status, 401);

  const browser = await openBrowser(t);
  const { page } = browser;
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/health`);
  await page.getByTestId('login-username').fill(server.admin.username);
  await page.getByTestId('login-password').fill(server.admin.password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="live-indicator"][data-state="live"]').waitFor();

  const tile = page.locator('[data-testid="health-grid"] [data-testid="health-tile"][data-component="checkout"]');
  await tile.and(page.locator('[data-status="operational"]')).waitFor();
  assert.equal(await page.getByTestId('nav-alerts-open').count(), 0, 'no open alerts, no count');
  assert.equal(await page.title(), 'Health · Flightdeck');
  await browser.snap('01-health-operational');

  const fire = await server.request('POST', '/api/v1/webhooks/alertmanager', {
    headers: { authorization: `Bearer ${SECRET}` }, json: amPayload('firing'),
  });
  assert.equal(fire.status, 202, JSON.stringify(fire.body));
  await page.locator('[data-testid="health-tile"][data-component="checkout"][data-status="major_outage"]').waitFor();
  // The pager count: on the Alerts link, red for a critical one, and in the tab title.
  const openCount = page.locator('[data-testid="nav-alerts-open"][data-critical="1"]');
  await openCount.waitFor();
  assert.equal(await openCount.textContent(), '1');
  await eventually(async () => (await page.title()) === '(1) Health · Flightdeck', { message: 'the title counts it' });
  await browser.snap('02-health-major-outage');

  // To the Alerts page through the nav (client-side: no reload).
  await page.getByTestId('nav-alerts').first().click();
  const row = page.locator('[data-testid="alert-row"][data-alert-name="HighErrorRate"]');
  await row.and(page.locator('[data-state="open"][data-severity="critical"]')).waitFor();
  // The labels that set it apart (not the name and severity shown already), and its runbook.
  assert.deepEqual(await row.getByTestId('alert-label').allTextContents(), ['namespace=payments', 'service=checkout-api']);
  assert.equal(await row.getByTestId('alert-runbook').getAttribute('href'), 'https://runbooks.example.com/checkout/high-error-rate');
  assert.equal(await row.getByTestId('alert-source').getAttribute('href'), 'http://prometheus:9090/graph', "Alertmanager's generatorURL");
  // Search: a label value in another case finds it; text nothing carries empties the feed.
  const search = page.getByTestId('alert-search');
  await search.fill('PAYMENTS');
  await page.waitForResponse((r) => r.url().includes('/api/v1/alerts?') && r.url().includes('q=PAYMENTS'));
  await row.waitFor();
  await search.fill('no-such-alert');
  await page.getByText('No alert matches these filters').waitFor();
  await search.fill('');
  await row.waitFor();
  // The filter is kept in the URL, so a reload (or a shared link) opens the same feed; a space
  // typed before a pause stays in the box.
  await page.getByTestId('alert-filter-severity').selectOption('critical');
  await search.fill('payments ');
  await page.waitForURL((u) => u.pathname === '/alerts' && u.searchParams.get('q') === 'payments'
    && u.searchParams.get('severity') === 'critical');
  assert.equal(await search.inputValue(), 'payments ');
  await page.reload();
  await row.waitFor();
  assert.equal(await search.inputValue(), 'payments');
  assert.equal(await page.getByTestId('alert-filter-severity').inputValue(), 'critical');
  // The nav's plain /alerts clears it again, without a reload.
  await page.getByTestId('nav-alerts').first().click();
  await page.waitForURL((u) => u.pathname === '/alerts' && u.search === '');
  assert.equal(await search.inputValue(), '');
  assert.equal(await page.getByTestId('alert-filter-severity').inputValue(), '');
  await row.waitFor();
  await browser.snap('03-alerts-firing');

  await row.getByTestId('alert-ack').click();
  await row.getByTestId('alert-note').fill('Looking at the connection pool');
  await browser.snap('04-alerts-ack-form');
  await row.getByTestId('alert-ack-submit').click();
  const acked = page.locator('[data-testid="alert-row"][data-alert-name="HighErrorRate"][data-state="acknowledged"]');
  await acked.waitFor();
  await acked.getByText(`Acknowledged by ${server.admin.username}`).first().waitFor();
  await acked.getByText('Looking at the connection pool').first().waitFor();
  assert.equal(await acked.getByTestId('alert-ack').count(), 0, 'no second acknowledge');
  // Someone has it now: nothing is left open.
  await page.getByTestId('nav-alerts-open').waitFor({ state: 'detached' });
  await eventually(async () => (await page.title()) === 'Alerts · Flightdeck', { message: 'the title drops the count' });
  await browser.snap('05-alerts-acknowledged');

  // Escalate with a target: the row's history names who, whom and the note.
  await acked.getByTestId('alert-escalate').click();
  await acked.getByTestId('alert-target').fill('dba-oncall');
  await acked.getByTestId('alert-note').fill('Pool exhausted, need a DBA');
  await acked.getByTestId('alert-escalate-submit').click();
  const escalated = page.locator('[data-testid="alert-row"][data-alert-name="HighErrorRate"][data-state="escalated"]');
  await escalated.getByTestId('alert-events').getByText('dba-oncall').waitFor();
  await escalated.getByText('Pool exhausted, need a DBA').first().waitFor();
  await browser.snap('05b-alerts-escalated');

  // The source resolves it: the feed and the grid follow live.
  const resolve = await server.request('POST', '/api/v1/webhooks/alertmanager', {
    headers: { authorization: `Bearer ${SECRET}` }, json: amPayload('resolved'),
  });
  assert.equal(resolve.status, 202, JSON.stringify(resolve.body));
  await page.locator('[data-testid="alert-row"][data-alert-name="HighErrorRate"][data-state="resolved"]').waitFor();
  assert.equal(await page.getByTestId('alert-row').count(), 1, 'the same episode, not a new one');
  await browser.snap('06-alerts-resolved');
  await page.getByTestId('nav-health').first().click();
  await page.locator('[data-testid="health-tile"][data-component="checkout"][data-status="operational"]').waitFor();
  // No Prometheus or log store here: the drill-down answers 503 and the page explains it.
  browser.expectHttpError(503, '/api/v1/components/checkout/metrics');
  browser.expectHttpError(503, '/api/v1/components/checkout/logs');
  await tile.click();
  await page.locator('[data-testid="component-page"][data-component="checkout"]').waitFor();
  await page.getByTestId('metrics-not-configured').waitFor();
  await browser.snap('07-component-page');
  // "All its alerts" opens the feed filtered to the component, resolved ones included.
  await page.getByTestId('component-all-alerts').click();
  await page.waitForURL((u) => u.pathname === '/alerts' && u.searchParams.get('component') === 'checkout');
  await page.locator('[data-testid="alert-row"][data-alert-name="HighErrorRate"][data-state="resolved"]').waitFor();
  // Its option appears once the component list has loaded.
  await eventually(async () => (await page.getByTestId('alert-filter-component').inputValue()) === 'checkout',
    { message: 'the component filter shows checkout' });

  // An admin adds a second component in Settings → Catalog; the grid's search finds it.
  await page.getByTestId('nav-settings').first().click();
  await page.getByTestId('tab-catalog').click();
  await page.locator('[data-testid="component-row"][data-slug="checkout"]').waitFor();
  await page.getByTestId('component-new').click();
  await page.getByTestId('component-slug').fill('checkout-db');
  await page.getByTestId('component-name').fill('Checkout database');
  await page.getByTestId('component-group').fill('payments');
  await page.getByTestId('component-matchers').fill('service="checkout-db"');
  await page.getByTestId('component-depends-on').fill('checkout');
  await page.getByTestId('component-log-query').fill('service:"checkout-db" AND level:error');
  // A malformed line is caught in the form, before anything is sent.
  await page.getByTestId('component-metric-queries').fill('connections without separators');
  await page.getByTestId('component-save').click();
  await page.locator('[data-testid="component-form"] [role="alert"]').getByText('name | unit | PromQL').waitFor();
  await page.getByTestId('component-metric-queries').fill('connections | conns | sum(pg_stat_activity_count{datname=~"checkout|orders"})');
  // In maintenance from an hour ago for two hours (UTC, minutes).
  const minute = (ms) => new Date(Math.floor(ms / 60_000) * 60_000).toISOString().slice(0, 16) + 'Z';
  await page.getByTestId('component-maintenance').fill(`${minute(Date.now() - 3_600_000)} ${minute(Date.now() + 3_600_000)} vacuum full`);
  await browser.snap('08-catalog-component-form');
  await page.getByTestId('component-save').click();
  await page.locator('[data-testid="component-row"][data-slug="checkout-db"]').waitFor();
  const stored = await server.request('GET', '/api/v1/components/checkout-db', { token: admin });
  assert.equal(stored.status, 200);
  const db = stored.body.component;
  assert.deepEqual(db.depends_on, ['checkout']);
  assert.equal(db.log_query, 'service:"checkout-db" AND level:error');
  assert.deepEqual(db.metric_queries, [{ name: 'connections', unit: 'conns', query: 'sum(pg_stat_activity_count{datname=~"checkout|orders"})' }]);
  assert.equal(db.maintenance.length, 1);
  assert.equal(db.maintenance[0].name, 'vacuum full');
  await page.getByTestId('nav-health').first().click();
  await page.locator('[data-testid="health-tile"][data-component="checkout-db"][data-status="maintenance"]').waitFor();
  await page.getByTestId('health-search').fill('database');
  await eventually(async () => (await page.getByTestId('health-tile').count()) === 1, { message: 'search narrows the grid' });
  await browser.snap('09-health-search');
  // The grid's filter is in the URL: a status chip adds to it, and a reload (a wallboard, a
  // shared link) opens on the same view.
  await page.getByTestId('health-count-maintenance').click();
  await page.waitForURL((u) => u.pathname === '/health' && u.searchParams.get('status') === 'maintenance'
    && u.searchParams.get('q') === 'database');
  await page.reload();
  await page.locator('[data-testid="health-tile"][data-component="checkout-db"]').waitFor();
  assert.equal(await page.getByTestId('health-tile').count(), 1);
  assert.equal(await page.getByTestId('health-search').inputValue(), 'database');
  assert.equal(await page.getByTestId('health-count-maintenance').getAttribute('aria-pressed'), 'true');
  // "All" drops the status; the nav's bare /health clears the rest.
  await page.getByTestId('health-count-all').click();
  await page.waitForURL((u) => u.searchParams.get('status') === null && u.searchParams.get('q') === 'database');
  await page.getByTestId('nav-health').first().click();
  await page.waitForURL((u) => u.pathname === '/health' && u.search === '');
  await eventually(async () => (await page.getByTestId('health-tile').count()) === 2, { message: 'both tiles again' });
  assert.equal(await page.getByTestId('health-search').inputValue(), '');
});

test('empty health and alert pages explain how to connect Alertmanager, and a viewer sees alerts without triage actions, in the dark theme', async (t) => {
  const server = await startServer(t, { env: { FLIGHTDECK_WEBHOOK_SECRET_ALERTMANAGER: SECRET } });
  const { access_token: admin } = await server.login();
  const viewer = { username: 'vic', password: 'viewer-password-123' };
  assert.equal((await server.request('POST', '/api/v1/users', { token: admin, json: { ...viewer, role: 'viewer' } })).status, 201);

  const browser = await openBrowser(t, { colorScheme: 'dark' });
  const { page } = browser;
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/health`);
  await page.getByTestId('login-username').fill(viewer.username);
  await page.getByTestId('login-password').fill(viewer.password);
  await page.getByTestId('login-submit').click();
  await page.getByText('No components are watched yet').waitFor();
  await browser.snap('01-health-empty-dark');
  await page.getByTestId('nav-alerts').first().click();
  await page.getByText('No alerts received yet').waitFor();
  await browser.snap('02-alerts-empty-dark');

  // An alert no component matches still lands in the feed, live; a viewer gets no actions.
  const payload = amPayload('firing');
  payload.alerts[0].labels = { alertname: 'DiskFull', instance: 'db-1', severity: 'warning' };
  payload.alerts[0].fingerprint = 'e2e0d15cf0110001';
  // Whoever can post alerts writes the annotations: a script "runbook" is not made a link.
  payload.alerts[0].annotations = { summary: 'db-1 disk 95% full', runbook_url: 'javascript:alert(1)' };
  const res = await server.request('POST', '/api/v1/webhooks/alertmanager', {
    headers: { authorization: `Bearer ${SECRET}` }, json: payload,
  });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const row = page.locator('[data-testid="alert-row"][data-alert-name="DiskFull"][data-severity="warning"][data-state="open"]');
  await row.waitFor();
  assert.deepEqual(await row.getByTestId('alert-label').allTextContents(), ['instance=db-1']);
  assert.equal(await row.getByTestId('alert-runbook').count(), 0, 'no javascript: link');
  for (const action of ['alert-ack', 'alert-escalate', 'alert-resolve', 'alert-select']) {
    assert.equal(await row.getByTestId(action).count(), 0, `a viewer is not offered ${action}`);
  }
  assert.equal(await page.getByTestId('alert-bulk').count(), 0, 'a viewer is not offered bulk triage');
  await browser.snap('03-alerts-viewer-dark');
});
