// Settings → Notifications and Silences: an admin adds a webhook channel and tests it (a local
// receiver gets the message); an alert under an active silence shows up in the delivery log as
// suppressed; the silence is created and expired from the UI. A later alert's message links to
// that alert's own page, where it can be triaged.

import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';

import { eventually, onCleanup, openBrowser, startServer } from './harness.mjs';

async function signIn(page, { username, password }) {
  await page.getByTestId('login-username').fill(username);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('logout').waitFor();
}

/** A webhook receiver on a free port that keeps what it was sent. */
async function receiver(t) {
  const received = [];
  const headers = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push(JSON.parse(body));
      headers.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  onCleanup(t, () => new Promise((done) => server.close(done)));
  return { url: `http://127.0.0.1:${server.address().port}/hook`, received, headers };
}

test('an admin adds and tests a webhook channel, silences an alert and expires the silence', async (t) => {
  const secret = 'e2e-alertmanager-token';
  const server = await startServer(t, { env: { FLIGHTDECK_WEBHOOK_SECRET_ALERTMANAGER: secret } });
  const hook = await receiver(t);
  const browser = await openBrowser(t);
  const { page } = browser;
  page.setDefaultTimeout(15_000);

  await page.goto(`${server.url}/settings/notifications`);
  await signIn(page, server.admin);
  await page.getByTestId('channel-new').click();
  await page.getByTestId('channel-name').fill('ops-hook');
  await page.getByTestId('channel-kind').selectOption('webhook');
  await page.getByTestId('channel-url').fill(hook.url);
  // Filters and a secret header from the form: resolutions too, no deployments, critical only,
  // production only (for deployments; alerts are not filtered by environment).
  await page.getByTestId('channel-headers').fill('X-Team-Token: e2e-secret-token');
  await page.locator('[data-testid="channel-events"] input[data-event="alert.resolved"]').check();
  await page.locator('[data-testid="channel-events"] input[data-event="deployment.failed"]').uncheck();
  await page.getByTestId('channel-min-severity').selectOption('critical');
  await page.getByTestId('channel-environments').fill('production');
  await browser.snap('01-channel-form');
  await page.getByTestId('channel-save').click();
  const row = page.locator('[data-testid="channel-row"][data-name="ops-hook"]');
  await row.waitFor();
  const { access_token: adminToken } = await server.login();
  const channels = await server.request('GET', '/api/v1/notification-channels', { token: adminToken });
  assert.equal(channels.status, 200, JSON.stringify(channels.body));
  const stored = (channels.body.items ?? channels.body).find((c) => c.name === 'ops-hook');
  assert.deepEqual([...stored.filters.events].sort(), ['alert.escalated', 'alert.firing', 'alert.resolved']);
  assert.equal(stored.filters.min_severity, 'critical');
  assert.deepEqual(stored.filters.environments, ['production']);
  assert.deepEqual(stored.config.headers, [{ name: 'X-Team-Token', value: '********', secret: true }]);
  await browser.snap('01-channel');
  await row.getByTestId('channel-test').click();
  await page.getByTestId('toast').filter({ hasText: 'Test message sent' }).waitFor();
  assert.equal(hook.received.length, 1);
  assert.match(hook.received[0].title, /\[TEST\].*ops-hook/);
  assert.equal(hook.headers[0]['x-team-token'], 'e2e-secret-token');

  // Edit it: the form opens with the stored settings (the header masked); lowering the
  // severity and saving keeps the masked header's stored value.
  await row.getByTestId('channel-edit').click();
  const form = page.locator('[data-testid="channel-form"][data-editing="true"]');
  await form.waitFor();
  assert.equal(await form.getByTestId('channel-name').inputValue(), 'ops-hook');
  assert.equal(await form.getByTestId('channel-url').inputValue(), hook.url);
  assert.equal(await form.getByTestId('channel-headers').inputValue(), 'X-Team-Token: ********');
  assert.equal(await form.getByTestId('channel-min-severity').inputValue(), 'critical');
  await form.getByTestId('channel-min-severity').selectOption('warning');
  await browser.snap('01-channel-edit');
  await form.getByTestId('channel-save').click();
  await page.getByTestId('toast').filter({ hasText: 'Channel “ops-hook” saved' }).waitFor();
  await form.waitFor({ state: 'detached' });
  const edited = await server.request('GET', `/api/v1/notification-channels/${stored.id}`, { token: adminToken });
  assert.equal(edited.body.filters.min_severity, 'warning');
  assert.deepEqual([...edited.body.filters.events].sort(), ['alert.escalated', 'alert.firing', 'alert.resolved']);
  await row.getByTestId('channel-test').click();
  await eventually(async () => hook.received.length === 2, { message: 'the second test message' });
  assert.equal(hook.headers[1]['x-team-token'], 'e2e-secret-token', 'the masked header kept its value');

  // A silence from the UI, then an alert it covers: recorded, not sent.
  await page.getByTestId('tab-silences').click();
  await page.waitForURL(`${server.url}/settings/silences`);
  await page.getByTestId('silence-new').click();
  await page.getByTestId('silence-matchers').fill('service="checkout-api"');
  await page.getByTestId('silence-comment').fill('failover drill');
  await page.getByTestId('silence-save').click();
  await page.locator('[data-testid="silence-row"][data-state="active"]').waitFor();
  await browser.snap('02-silence');

  const posted = await server.request('POST', '/api/v1/webhooks/alertmanager', {
    token: secret,
    json: {
      version: '4', groupKey: 'g', truncatedAlerts: 0, status: 'firing', receiver: 'flightdeck',
      groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am:9093',
      alerts: [{
        status: 'firing', labels: { alertname: 'HighErrorRate', service: 'checkout-api', severity: 'critical' },
        annotations: { summary: 'errors are high' }, startsAt: '2026-11-25T10:00:00Z',
        endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prom/graph', fingerprint: 'e2e1',
      }],
    },
  });
  assert.equal(posted.status, 202);
  await page.getByTestId('tab-notifications').click();
  // No Refresh click: the log refreshes itself while it is on screen.
  await page.locator('[data-testid="delivery-row"][data-status="suppressed"]').waitFor({ timeout: 20_000 });
  assert.equal(await page.locator('[data-testid="delivery-row"][data-status="suppressed"]').count(), 1);
  await browser.snap('03-delivery-log');
  assert.equal(hook.received.length, 2, 'nothing sent for the silenced alert');

  await page.getByTestId('tab-silences').click();
  await page.locator('[data-testid="silence-row"][data-state="active"]').getByTestId('silence-expire').click();
  await page.locator('[data-testid="silence-row"][data-state="expired"]').waitFor();
  await browser.snap('04-expired');

  // With the silence gone, a new alert is sent, and the message's link opens that alert's page:
  // its history, every label and annotation (links live), and triage from there.
  const fired = await server.request('POST', '/api/v1/webhooks/alertmanager', {
    token: secret,
    json: {
      version: '4', groupKey: 'g2', truncatedAlerts: 0, status: 'firing', receiver: 'flightdeck',
      groupLabels: {}, commonLabels: {}, commonAnnotations: {}, externalURL: 'http://am:9093',
      alerts: [{
        status: 'firing',
        labels: { alertname: 'DiskAlmostFull', service: 'checkout-api', severity: 'warning', instance: 'db-7:9100' },
        annotations: {
          summary: 'disk /var is 93% full',
          description: 'At this rate /var fills in about 4 hours; the WAL archive is the largest user.',
          dashboard: 'https://grafana.example.com/d/disk',
        },
        startsAt: '2026-11-25T11:00:00Z', endsAt: '0001-01-01T00:00:00Z', generatorURL: 'http://prom/graph', fingerprint: 'e2e2',
      }],
    },
  });
  assert.equal(fired.status, 202);
  let message;
  await eventually(() => (message = hook.received.find((m) => m.title.includes('DiskAlmostFull'))), { message: 'the alert message' });
  assert.match(message.title, /^\[FIRING\] DiskAlmostFull \(warning\)/);
  assert.equal(message.link, `${server.url}/alerts/${message.fields.alert_id}`);
  await page.goto(message.link);
  const alertPage = page.locator(`[data-testid="alert-page"][data-alert-id="${message.fields.alert_id}"]`);
  await alertPage.waitFor();
  assert.equal(await alertPage.locator('h1').textContent(), 'DiskAlmostFull');
  await alertPage.locator('[data-testid="alert-events"] li').filter({ hasText: 'alertmanager fire' }).waitFor();
  const labels = alertPage.getByTestId('alert-all-labels');
  for (const text of ['alertname', 'DiskAlmostFull', 'instance', 'db-7:9100', 'severity', 'warning']) {
    assert.ok((await labels.textContent()).includes(text), `the labels show ${text}`);
  }
  const annotations = alertPage.getByTestId('alert-annotations');
  assert.ok((await annotations.textContent()).includes('the WAL archive is the largest user'));
  assert.equal(await annotations.locator('a').getAttribute('href'), 'https://grafana.example.com/d/disk');
  assert.ok((await alertPage.getByTestId('alert-details').textContent()).includes('e2e2'), 'the fingerprint is shown');
  await alertPage.getByTestId('alert-ack').click();
  await alertPage.getByTestId('alert-note').fill('Pruning the WAL archive');
  await alertPage.getByTestId('alert-ack-submit').click();
  await alertPage.locator('[data-testid="alert-row"][data-state="acknowledged"]').waitFor();
  await alertPage.locator('[data-testid="alert-events"] li').filter({ hasText: 'Pruning the WAL archive' }).waitFor();
  // Here the history is always on show: there is no toggle to hide it.
  assert.equal(await alertPage.getByTestId('alert-history').count(), 0, 'no History toggle on the alert page');
  await browser.snap('05-alert-page');

  // The feed's alert names lead to the same page; an id nothing has is explained.
  await page.goto(`${server.url}/alerts`);
  // In the feed the history is a toggle that says what it does.
  const feedRow = page.locator('[data-testid="alert-row"][data-alert-name="DiskAlmostFull"]');
  const toggle = feedRow.getByTestId('alert-history');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  await toggle.click();
  await feedRow.locator('[data-testid="alert-events"] li').filter({ hasText: 'Pruning the WAL archive' }).waitFor();
  assert.equal(await toggle.textContent(), 'Hide history');
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  await toggle.click();
  await feedRow.getByTestId('alert-events').waitFor({ state: 'detached' });
  assert.equal(await toggle.textContent(), 'History');
  await feedRow.getByTestId('alert-link').click();
  await alertPage.waitFor();
  browser.expectHttpError(404, '/api/v1/alerts/');
  await page.goto(`${server.url}/alerts/0190a5d2-0000-7000-8000-000000000000`);
  await page.getByText('No such alert').waitFor();
  await browser.snap('06-no-such-alert');

  // Bulk triage in the feed: pick both alerts; Acknowledge counts only the open one (the other
  // is acknowledged already), Resolve counts both; resolving records the one note on each.
  await page.goto(`${server.url}/alerts`);
  await page.getByTestId('alert-row').nth(1).waitFor();
  await page.getByTestId('alert-select-all').check();
  const bulk = page.getByTestId('alert-bulk');
  await bulk.getByText('2 selected').waitFor();
  assert.equal(await bulk.getByTestId('alert-bulk-ack').textContent(), 'Acknowledge 1');
  assert.equal(await bulk.getByTestId('alert-bulk-resolve').textContent(), 'Resolve 2');
  await bulk.getByTestId('alert-bulk-note').fill('Drill over, both handled');
  await browser.snap('07-bulk-selected');
  await bulk.getByTestId('alert-bulk-resolve').click();
  await page.getByTestId('toast').filter({ hasText: 'Resolved 2 alerts' }).waitFor();
  await eventually(async () => (await page.locator('[data-testid="alert-row"][data-state="resolved"]').count()) === 2,
    { message: 'both rows resolved' });
  await bulk.getByText('Select all').waitFor();
  assert.equal(await page.getByTestId('alert-select').count(), 0, 'resolved alerts cannot be picked');
  const feed = await server.request('GET', '/api/v1/alerts', { token: adminToken });
  assert.deepEqual(feed.body.items.map((a) => [a.state, a.last_note]),
    [['resolved', 'Drill over, both handled'], ['resolved', 'Drill over, both handled']]);
  await browser.snap('08-bulk-resolved');
});
