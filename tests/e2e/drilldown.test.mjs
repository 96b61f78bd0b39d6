// The component drill-down in the browser: a REAL Prometheus scrapes a tiny exporter served by
// this test (job = the linked service's slug), a node stub answers OpenSearch `_search` with a
// recorded response, the linked service has a succeeded and a failed deployment and the
// component a firing Alertmanager alert. The component page must show SVG charts with a drawn
// line, deploy and alert markers on them, the log lines with their levels, the alert and the
// SLO cards; the /slos page must list the SLOs worst budget first.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { eventually, onCleanup, openBrowser, repoRoot, startServer } from './harness.mjs';

const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
const SECRET = 'am-secret-for-drilldown-0123456789';
const SERVICE = 'checkout-api';
// A recorded OpenSearch `_search` answer (the log adapter's own test fixture).
const SEARCH_FIXTURE = join(repoRoot, 'crates/integrations/tests/fixtures/opensearch_search_page1.json');

const CONFIG = `
[[catalog.services]]
slug = "${SERVICE}"
name = "Checkout API"

[[catalog.environments]]
slug = "production"
name = "Production"
rank = 30
executor = { kind = "record" }
`;

/** Listens on 127.0.0.1:<free port>; closed when the test ends. */
async function listen(t, handler) {
  const server = createServer(handler);
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  onCleanup(t, () => new Promise((res) => { server.closeAllConnections?.(); server.close(() => res()); }));
  return server.address().port;
}

async function freePort() {
  const server = createServer();
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  const { port } = server.address();
  await new Promise((res) => server.close(res));
  return port;
}

/**
 * An exporter whose counters grow on every scrape as if it served 20 requests a second, one
 * in ten a 500, with latencies in a histogram.
 */
async function startExporter(t) {
  let ok = 0;
  let errors = 0;
  let scrapes = 0;
  const buckets = [['0.05', 0], ['0.1', 0], ['0.25', 0], ['0.5', 0], ['1', 0]];
  let sum = 0;
  return listen(t, (req, res) => {
    if (req.url !== '/metrics') { res.writeHead(404).end(); return; }
    scrapes += 1;
    ok += 18;
    errors += 2;
    // 20 requests: 12 fast, 6 medium, 2 slow.
    buckets[0][1] += 12; buckets[1][1] += 12; buckets[2][1] += 18; buckets[3][1] += 20; buckets[4][1] += 20;
    sum += 12 * 0.03 + 6 * 0.2 + 2 * 0.4;
    const total = ok + errors;
    const lines = [
      '# HELP http_requests_total Requests served.',
      '# TYPE http_requests_total counter',
      `http_requests_total{code="200"} ${ok}`,
      `http_requests_total{code="500"} ${errors}`,
      '# HELP http_request_duration_seconds Request latency.',
      '# TYPE http_request_duration_seconds histogram',
      ...buckets.map(([le, n]) => `http_request_duration_seconds_bucket{le="${le}"} ${n}`),
      `http_request_duration_seconds_bucket{le="+Inf"} ${total}`,
      `http_request_duration_seconds_sum ${sum}`,
      `http_request_duration_seconds_count ${total}`,
      `# scrape ${scrapes}`,
      '',
    ];
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(lines.join('\n'));
  });
}

/** Debian's Prometheus scraping `exporterPort` every second as job `SERVICE`; killed at the end. */
async function startPrometheus(t, exporterPort) {
  if (!existsSync(PROMETHEUS)) {
    throw new Error(`this test needs a real Prometheus and ${PROMETHEUS} does not exist: apt-get install prometheus (or set PROMETHEUS_BIN)`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fd-prom-'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'prometheus.yml'), [
    'global:',
    '  scrape_interval: 1s',
    '  scrape_timeout: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    `  - job_name: ${SERVICE}`,
    '    static_configs:',
    `      - targets: ['127.0.0.1:${exporterPort}']`,
    '',
  ].join('\n'));
  const port = await freePort();
  const log = [];
  const child = spawn(PROMETHEUS, [
    `--config.file=${join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.on('data', (c) => log.push(c.toString()));
  const exited = new Promise((res) => child.once('exit', res));
  onCleanup(t, async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const url = `http://127.0.0.1:${port}`;
  await eventually(async () => {
    if (child.exitCode !== null) throw new Error(`Prometheus exited (${child.exitCode}):\n${log.join('')}`);
    try { return (await fetch(`${url}/-/ready`)).ok; } catch { return false; }
  }, { timeout: 30_000, message: 'Prometheus to be ready' });
  return url;
}

/** Prometheus' range answer for `query` over the last 15 minutes at a 4 s step. */
async function rangePoints(prom, query) {
  const end = Date.now() / 1000;
  const params = new URLSearchParams({ query, start: String(end - 900), end: String(end), step: '4' });
  const res = await fetch(`${prom}/api/v1/query_range?${params}`);
  if (!res.ok) return 0;
  const body = await res.json();
  return body.data?.result?.[0]?.values?.length ?? 0;
}

/** An OpenSearch stand-in that answers every `_search` with the recorded response. */
async function startOpenSearch(t, searches) {
  const answer = readFileSync(SEARCH_FIXTURE, 'utf8');
  return listen(t, (req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      if (req.method === 'POST' && req.url.startsWith('/logs-checkout/_search')) {
        searches.push(JSON.parse(body));
        res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
      } else {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      }
    });
  });
}

function alertPayload() {
  return {
    version: '4', groupKey: '{}:{alertname="HighErrorRate"}', truncatedAlerts: 0, status: 'firing',
    receiver: 'flightdeck', groupLabels: { alertname: 'HighErrorRate' }, commonLabels: {},
    commonAnnotations: {}, externalURL: 'http://alertmanager:9093',
    alerts: [{
      status: 'firing',
      labels: { alertname: 'HighErrorRate', service: SERVICE, severity: 'critical' },
      annotations: { summary: 'checkout-api 5xx at 10%' },
      // Now, after the two deployments below: the alert page lists them as just before it.
      startsAt: new Date().toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: 'http://prometheus:9090/graph',
      fingerprint: 'd811d0e0000000a1',
    }],
  };
}

test('the component page charts real Prometheus data with deploy and alert markers, shows recorded OpenSearch log lines, the alert and SLOs; /slos ranks SLOs by budget left', async (t) => {
  const exporterPort = await startExporter(t);
  const prom = await startPrometheus(t, exporterPort);
  const searches = [];
  const searchPort = await startOpenSearch(t, searches);
  const server = await startServer(t, {
    config: CONFIG,
    env: {
      PROMETHEUS_URL: prom,
      FLIGHTDECK_SLO_POLL_SECS: '1',
      LOGS_URL: `http://127.0.0.1:${searchPort}`,
      LOGS_KIND: 'opensearch',
      LOGS_INDEX: 'logs-checkout',
      FLIGHTDECK_WEBHOOK_SECRET_ALERTMANAGER: SECRET,
    },
  });
  const { access_token: token } = await server.login();
  const api = async (method, path, json, expected) => {
    const res = await server.request(method, path, { token, json });
    assert.equal(res.status, expected, `${method} ${path}: ${JSON.stringify(res.body)}`);
    return res.body;
  };

  await api('POST', '/api/v1/components', {
    slug: 'checkout', name: 'Checkout API', group: 'payments', service: SERVICE, tier: 1,
    matchers: [`service="${SERVICE}"`],
  }, 201);
  await api('POST', '/api/v1/components', { slug: 'search', name: 'Search', group: 'discovery', service: SERVICE }, 201);
  const sel = `job="${SERVICE}"`;
  // 10% errors: a 99.9% objective is far over budget; a 50% one has budget to spare.
  await api('POST', '/api/v1/components/checkout/slos', {
    name: 'availability', objective: 0.999, window_secs: 2_592_000,
    sli: { kind: 'ratio', good: `sum(rate(http_requests_total{${sel},code!~"5.."}[$window]))`, total: `sum(rate(http_requests_total{${sel}}[$window]))` },
  }, 201);
  await api('POST', '/api/v1/components/search/slos', {
    name: 'lenient availability', objective: 0.5, window_secs: 86_400,
    sli: { kind: 'ratio', good: `sum(rate(http_requests_total{${sel},code!~"5.."}[$window]))`, total: `sum(rate(http_requests_total{${sel}}[$window]))` },
  }, 201);

  // Deployments of the linked service, reported by "CI" through the callback: one succeeded,
  // one failed.
  for (const [version, outcome] of [['1.42.0', 'succeeded'], ['1.43.0', 'failed']]) {
    const d = await api('POST', '/api/v1/deployments', { service: SERVICE, environment: 'production', version }, 202);
    for (const status of ['in_progress', outcome]) {
      const res = await server.request('POST', `/api/v1/deployments/${d.id}/status`, {
        token: d.callback.token, json: { status, message: `CI says ${status}` },
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
  }
  const fired = await server.request('POST', '/api/v1/webhooks/alertmanager', {
    headers: { authorization: `Bearer ${SECRET}` }, json: alertPayload(),
  });
  assert.equal(fired.status, 202, JSON.stringify(fired.body));

  // Prometheus must have a few rate() points before the page can draw a line, and the poller
  // must have evaluated both SLOs before the list can rank them.
  await eventually(async () => (await rangePoints(prom, `sum(rate(http_requests_total{${sel}}[1m]))`)) >= 2,
    { timeout: 60_000, message: 'Prometheus to have request-rate points' });
  await eventually(async () => {
    const res = await server.request('GET', '/api/v1/slos', { token });
    return res.status === 200 && res.body.items.length === 2
      && res.body.items.every((s) => typeof s.budget_remaining === 'number');
  }, { timeout: 60_000, message: 'both SLOs to be evaluated' });

  const browser = await openBrowser(t);
  const { page } = browser;
  page.setDefaultTimeout(20_000);
  await page.goto(`${server.url}/health/checkout`);
  await page.getByTestId('login-username').fill(server.admin.username);
  await page.getByTestId('login-password').fill(server.admin.password);
  await page.getByTestId('login-submit').click();
  await page.locator('[data-testid="component-page"][data-component="checkout"]').waitFor();
  await page.getByTestId('range-15m').click();

  // A chart per default metric, with a drawn line.
  const charts = page.locator('[data-testid="metrics-panel"] svg[data-testid="metric-chart"]');
  await eventually(async () => (await charts.count()) === 3, { message: 'three charts' });
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid="metric-chart"] path.chart-line')]
    .some((p) => /^M[\d.]+ [\d.]+ L/.test(p.getAttribute('d') ?? '')));
  const metrics = await page.locator('[data-testid="chart-card"]').evaluateAll((els) => els.map((e) => e.dataset.metric));
  assert.deepEqual(metrics, ['request_rate', 'error_ratio', 'p99_latency_seconds']);

  // Deploy markers on the shared axis, coloured by status, titled with version and environment.
  const requestRate = page.locator('[data-testid="chart-card"][data-metric="request_rate"]');
  const deploys = requestRate.locator('[data-testid="deploy-marker"]');
  assert.equal(await deploys.count(), 2, 'both deployments are in the last 15 minutes');
  const titles = await deploys.evaluateAll((els) => els.map((e) => `${e.dataset.status}: ${e.querySelector('title').textContent}`));
  assert.ok(titles.some((x) => x.startsWith('succeeded: ') && x.includes('1.42.0') && x.includes('production')), titles.join(' | '));
  assert.ok(titles.some((x) => x.startsWith('failed: ') && x.includes('1.43.0')), titles.join(' | '));
  assert.equal(await requestRate.locator('[data-testid="alert-marker"][data-status="critical"]').count(), 1, 'the alert is marked where it fired');

  // Log lines from the recorded OpenSearch answer, newest first, with their levels.
  const lines = page.locator('[data-testid="log-line"]');
  await lines.first().waitFor();
  assert.deepEqual(await lines.evaluateAll((els) => els.map((e) => e.dataset.level)), ['error', 'warn']);
  await lines.first().getByText('payment provider timed out after 5000 ms').waitFor();
  await lines.first().locator('summary').click();
  await lines.first().getByText('checkout-7d9f8c6b5-x2x8q').waitFor();
  // Nested ECS objects read as dotted fields, as in Kibana, not as JSON.
  const fields = await lines.first().locator('[data-testid="log-field"]').evaluateAll((els) => Object.fromEntries(els.map((e) => [e.dataset.field, e.querySelector('dd').textContent])));
  assert.equal(fields['host.name'], 'checkout-7d9f8c6b5-x2x8q', JSON.stringify(fields));
  assert.equal(fields['service.version'], '1.42.0', JSON.stringify(fields));
  assert.equal(fields['log.logger'], 'checkout.payments', JSON.stringify(fields));
  assert.ok(!('log' in fields) && !('service' in fields), `no JSON blobs: ${JSON.stringify(fields)}`);
  assert.ok(searches.length >= 1, 'the server searched OpenSearch');
  assert.match(JSON.stringify(searches[0]), /checkout-api/, 'the search selects the linked service');

  // The alert, and the SLO card with its evaluation.
  await page.locator('[data-testid="component-alerts"] [data-testid="alert-row"][data-alert-name="HighErrorRate"]').waitFor();
  const card = page.locator('[data-testid="slo-card"][data-slo="availability"]');
  await card.waitFor();
  await card.getByText('/ 99.9 %').waitFor();
  assert.ok(Number(await card.getByTestId('slo-budget').getAttribute('data-budget')) < 0, 'over budget at 10% errors');
  await browser.snap('01-component-drilldown');

  // The alert's own page answers "was it the deploy?": both deployments, newest first.
  await page.locator('[data-testid="component-alerts"] [data-alert-name="HighErrorRate"] [data-testid="alert-link"]').click();
  const changes = page.getByTestId('alert-change');
  await changes.nth(1).waitFor();
  assert.deepEqual(await changes.evaluateAll((els) => els.map((e) => `${e.dataset.version}@${e.dataset.environment}`)),
    ['1.43.0@production', '1.42.0@production']);
  assert.equal(await changes.first().locator('[data-status]').getAttribute('data-status'), 'failed');
  assert.match(await changes.first().textContent(), /(moments|\d+ min) before it started/);
  await browser.snap('01b-alert-changes');
  // And back: the failed deployment's page lists the alert that started after it.
  await changes.first().locator('a').click();
  await page.waitForURL(/\/deployments\/[0-9a-f-]{36}$/);
  const after = page.getByTestId('deployment-alert');
  await after.first().waitFor();
  assert.deepEqual(await after.evaluateAll((els) => els.map((e) => e.dataset.alertName)), ['HighErrorRate']);
  assert.match(await after.first().textContent(), /checkout · started (moments|\d+ min) after/);
  await browser.snap('01c-deployment-alerts');
  // 1.42.0 was followed by 1.43.0 on the same target before the alert: the alert is not its.
  await page.goBack();
  await changes.nth(1).locator('a').click();
  await page.getByTestId('deployment-alerts-none').waitFor();
  assert.equal(await page.getByTestId('deployment-alerts-next').locator('a').textContent(), '1.43.0');
  assert.equal(await page.getByTestId('deployment-alert').count(), 0);

  // The SLO list, worst budget first, through the nav (no reload).
  await page.getByTestId('nav-slos').first().click();
  const rows = page.locator('[data-testid="slo-row"]');
  await eventually(async () => (await rows.count()) === 2, { message: 'two SLO rows' });
  const order = await rows.evaluateAll((els) => els.map((e) => [e.dataset.slo, Number(e.dataset.budget)]));
  assert.deepEqual(order.map(([name]) => name), ['availability', 'lenient availability'], JSON.stringify(order));
  assert.ok(order[0][1] < order[1][1]);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="slo-row"] svg[data-testid="sparkline"]').length >= 1);
  // Next to its trend each row gives the 1 h burn rate now; an overspent budget says so.
  const burnNow = await rows.first().getByTestId('slo-burn-now').textContent();
  assert.match(burnNow, /^[\d.]+× now$/);
  assert.ok(parseFloat(burnNow) > 14.4, `a fast burn at 10 % errors against 99.9 %: ${burnNow}`);
  await rows.first().getByText('budget exhausted').waitFor();
  // On a phone every SLO is a card with each field labelled, the trend included.
  const viewport = page.viewportSize();
  await page.setViewportSize({ width: 375, height: 812 });
  assert.equal(await page.locator('[data-testid="slo-list"] thead').evaluate((e) => getComputedStyle(e).display), 'none');
  assert.ok(await rows.first().getByTestId('slo-trend').isVisible(), 'the trend shows on a phone');
  await page.setViewportSize(viewport);
  await browser.snap('02-slo-list');
});

test('without Prometheus or a log store the component page explains what to configure instead of failing', async (t) => {
  const server = await startServer(t, { config: CONFIG });
  const { access_token: token } = await server.login();
  const created = await server.request('POST', '/api/v1/components', { token, json: { slug: 'checkout', name: 'Checkout API', service: SERVICE } });
  assert.equal(created.status, 201, JSON.stringify(created.body));

  const browser = await openBrowser(t, { viewport: { width: 375, height: 812 } });
  browser.expectHttpError(503, '/api/v1/components/checkout/metrics');
  browser.expectHttpError(503, '/api/v1/components/checkout/logs');
  const { page } = browser;
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/health/checkout`);
  await page.getByTestId('login-username').fill(server.admin.username);
  await page.getByTestId('login-password').fill(server.admin.password);
  await page.getByTestId('login-submit').click();
  await page.getByTestId('metrics-not-configured').getByText('Prometheus is not connected.').waitFor();
  await page.getByTestId('logs-not-configured').getByText('No log store is connected.').waitFor();
  assert.equal(await page.locator('[role="alert"]').count(), 0, 'a missing integration is not an error');

  // An admin adds a threshold SLO from the page and deletes it again.
  await page.getByTestId('slo-new').click();
  await page.getByTestId('slo-name').fill('latency');
  await page.getByTestId('slo-kind').selectOption('threshold');
  await page.getByTestId('slo-query').fill('histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{job="checkout-api"}[5m])))');
  await page.getByTestId('slo-threshold').fill('0.3');
  await page.getByTestId('slo-save').click();
  const card = page.locator('[data-testid="slo-card"][data-slo="latency"]');
  await card.waitFor();
  await card.getByText('no data yet').first().waitFor();
  await browser.snap('01-not-configured-375');
  page.once('dialog', (d) => d.accept());
  await card.getByTestId('slo-delete').click();
  await card.waitFor({ state: 'detached' });
  await page.getByTestId('slo-empty').waitFor();
});
