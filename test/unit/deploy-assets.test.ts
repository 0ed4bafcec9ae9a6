import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { ERROR_CODES } from '../../src/errors.js';
import { createMetrics } from '../../src/observability/metrics.js';

// The monitoring assets in deploy/ (alert rules, their promtool tests, the Grafana dashboard) and
// docs/runbook.md are checked against the code: every gridgate_* metric they name must exist in
// src/, every other metric must be on the allow-list below, every alert must point at a runbook
// section that exists, and promtool must accept the rules and pass their tests.

const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

const ALERTS = 'deploy/prometheus/alerts.yml';
const ALERT_TESTS = 'deploy/prometheus/alerts.test.yml';
const DASHBOARD = 'deploy/grafana/gridgate.json';
const RUNBOOK = 'docs/runbook.md';

// Metrics that are not gridgate's own. prom-client's defaults are checked against a real registry
// below; the others cannot be, so they are listed with where they come from.
const PROM_CLIENT_DEFAULTS = [
  'process_start_time_seconds',
  'process_cpu_seconds_total',
  'process_resident_memory_bytes',
  'process_open_fds',
  'nodejs_heap_size_used_bytes',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p99_seconds',
];
const ELSEWHERE = new Map([
  ['up', 'Prometheus: the scrape itself'],
  ['node_timex_sync_status', 'node_exporter, timex collector'],
]);
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

function sourceMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const file of readdirSync(join(root, 'src'), { recursive: true })) {
    if (!String(file).endsWith('.ts')) continue;
    for (const m of read(join('src', String(file))).matchAll(/gridgate_[a-z0-9_]+/g)) names.add(m[0]);
  }
  return names;
}

/** Metric names in a PromQL expression: identifiers outside label matchers, ranges, strings and label lists, not called as functions. */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\$\{?\w+\}?/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan']);
  return [...stripped.matchAll(/(?<![\w:.])[a-zA-Z_:][\w:]*\b(?!\s*\()/g)].map((m) => m[0]).filter((w) => !keywords.has(w.toLowerCase()));
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
}

const alertFile = parse(read(ALERTS)) as { groups: { name: string; rules: Rule[] }[] };
const rules = alertFile.groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => typeof r.alert === 'string');
const runbook = read(RUNBOOK);
const anchors = new Set([...runbook.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));
const dashboardText = read(DASHBOARD);
const dashboard = JSON.parse(dashboardText) as {
  schemaVersion: number;
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: { id: number; type: string; title: string; datasource?: { uid: string }; targets?: { expr: string; refId: string; datasource?: { uid: string } }[] }[];
};
const dashboardTargets = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, ...t })));

describe('the alert rules (deploy/prometheus/alerts.yml)', () => {
  it('are one group named gridgate with alerts only', () => {
    assert.deepEqual(
      alertFile.groups.map((g) => g.name),
      ['gridgate'],
    );
    assert.ok(alerts.length > 0);
    assert.equal(alerts.length, rules.length, 'a rule without an alert name');
    assert.equal(new Set(alerts.map((a) => a.alert)).size, alerts.length, 'two alerts share a name');
  });

  it('give every alert a severity, a summary, a description and a runbook section that exists', () => {
    for (const a of alerts) {
      assert.ok(['critical', 'warning', 'info'].includes(a.labels?.severity ?? ''), `${a.alert}: severity must be critical, warning or info`);
      assert.ok(a.annotations?.summary, `${a.alert}: no summary`);
      assert.ok(a.annotations?.description, `${a.alert}: no description`);
      const url = a.annotations?.runbook_url ?? '';
      const m = /^docs\/runbook\.md#([a-z0-9-]+)$/.exec(url);
      assert.ok(m, `${a.alert}: runbook_url "${url}" is not docs/runbook.md#section`);
      assert.ok(anchors.has(m[1]!), `${a.alert}: docs/runbook.md has no heading for #${m[1]}`);
    }
  });

  it('are listed in the runbook table with the same severity and section', () => {
    const table = new Map(
      [...runbook.matchAll(/^\| `(\w+)` \| (\w+) \| \[[^\]]+\]\(#([a-z0-9-]+)\) \|$/gm)].map((m) => [m[1]!, { severity: m[2], section: m[3] }]),
    );
    for (const a of alerts) {
      const row = table.get(a.alert);
      assert.ok(row, `${a.alert} is missing from the table at the top of docs/runbook.md`);
      assert.equal(row.severity, a.labels?.severity, `${a.alert}: severity in the runbook table`);
      assert.equal(`docs/runbook.md#${row.section}`, a.annotations?.runbook_url, `${a.alert}: section in the runbook table`);
    }
    for (const name of table.keys()) assert.ok(alerts.some((a) => a.alert === name), `the runbook table lists ${name}, which is not an alert`);
  });

  it('name no site in an expression: the scrape target carries it', () => {
    for (const a of alerts) assert.doesNotMatch(a.expr, /\bsite\b/, `${a.alert} mentions site`);
  });

  it('are all covered by the quiet-gateway test, which expects none of them', () => {
    const tests = (parse(read(ALERT_TESTS)) as { tests: { name: string; alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] }).tests;
    const quiet = tests.find((t) => t.name === 'a healthy gateway fires nothing');
    assert.ok(quiet, 'alerts.test.yml has no "a healthy gateway fires nothing" test');
    const covered = new Set((quiet.alert_rule_test ?? []).filter((t) => t.exp_alerts.length === 0).map((t) => t.alertname));
    for (const a of alerts) assert.ok(covered.has(a.alert), `the quiet test does not check ${a.alert}`);
  });
});

describe('the metric names in deploy/ and docs/runbook.md', () => {
  const inSource = sourceMetricNames();
  const exists = (name: string): boolean => inSource.has(name) || HISTOGRAM_SUFFIXES.some((s) => name.endsWith(s) && inSource.has(name.slice(0, -s.length)));

  it('finds metric names in PromQL and nothing else', () => {
    assert.deepEqual(
      metricNames('max without (state) (x_total{state="a"}[5m] offset 5m) == 1 and on (instance) changes(up[30m]) > 3 or sum by (le) (rate(h_bucket{i=~"$instance"}[$__rate_interval])) unless 1e9 * time()'),
      ['x_total', 'up', 'h_bucket'],
    );
  });

  for (const [file, text] of [
    [ALERTS, read(ALERTS)],
    [DASHBOARD, dashboardText],
    [RUNBOOK, runbook],
  ] as const) {
    it(`names only gridgate_* metrics that exist in src/ (${file})`, () => {
      const unknown = [...new Set([...text.matchAll(/gridgate_[a-z0-9_]+/g)].map((m) => m[0]))].filter((n) => !exists(n));
      assert.deepEqual(unknown, [], `${file} names metrics that src/ does not define`);
    });
  }

  it('uses only allowed metrics that are not gridgate_* in expressions', () => {
    const exprs = [...alerts.map((a) => a.expr), ...dashboardTargets.map((t) => t.expr)];
    const others = new Set(exprs.flatMap(metricNames).filter((n) => !n.startsWith('gridgate_')));
    for (const name of others) {
      assert.ok(PROM_CLIENT_DEFAULTS.includes(name) || ELSEWHERE.has(name), `${name} is neither gridgate's nor on the allow-list of this test`);
    }
    // The extraction did see the expressions (a regression would make the loop above pass on nothing).
    assert.ok(others.has('process_start_time_seconds') && others.has('up'));
  });

  it('allows only prom-client defaults that the daemon\'s registry really serves', async () => {
    const served = new Set((await createMetrics().getMetricsAsJSON()).map((m) => m.name));
    for (const name of PROM_CLIENT_DEFAULTS) assert.ok(served.has(name), `createMetrics() does not serve ${name}`);
  });

  it('names only error codes that exist (docs/runbook.md)', () => {
    for (const [code] of runbook.matchAll(/GW_ERR_[A-Z_]+/g)) assert.ok(code in ERROR_CODES, `docs/runbook.md names unknown ${code}`);
  });
});

describe('the Grafana dashboard (deploy/grafana/gridgate.json)', () => {
  it('takes its data source and gateway from variables', () => {
    assert.ok(dashboard.schemaVersion >= 36);
    const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
    assert.equal(variables.get('DS_PROMETHEUS')?.type, 'datasource');
    assert.equal(variables.get('DS_PROMETHEUS')?.query, 'prometheus');
    assert.equal(variables.get('instance')?.type, 'query');
    for (const t of dashboardTargets) {
      assert.equal(t.datasource?.uid, '${DS_PROMETHEUS}', `${t.panel.title}: data source`);
      assert.match(t.expr, /instance=~"\$instance"/, `${t.panel.title}: a query without the instance filter`);
    }
  });

  it('has the overview, sources, analytics and process rows, and unique panel ids', () => {
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title.split(':')[0]);
    assert.deepEqual(rows, ['Overview', 'Sources', 'Analytics', 'Process']);
    assert.equal(new Set(dashboard.panels.map((p) => p.id)).size, dashboard.panels.length);
  });
});

// promtool: CI installs it (deploy/README.md). A machine without it fails here rather than
// skipping silently, unless GRIDGATE_SKIP_PROMTOOL=1 says so.
describe('promtool', { skip: process.env.GRIDGATE_SKIP_PROMTOOL === '1' ? 'GRIDGATE_SKIP_PROMTOOL=1' : false }, () => {
  const scratch = mkdtempSync(join(tmpdir(), 'gridgate-promtool-'));
  after(() => rmSync(scratch, { recursive: true, force: true }));

  function promtool(...args: string[]): string {
    const r = spawnSync('promtool', args, { cwd: root, encoding: 'utf8' });
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
      assert.fail(
        'promtool is not on PATH. Install it (Debian/Ubuntu: see deploy/README.md, CI does it in .ci/run), ' +
          'or set GRIDGATE_SKIP_PROMTOOL=1 to skip the promtool checks.',
      );
    }
    const output = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, `promtool ${args.join(' ')} failed:\n${output}`);
    return output;
  }

  it('accepts the alert rules', () => {
    assert.match(promtool('check', 'rules', ALERTS), /SUCCESS: \d+ rules found/);
  });

  it('passes the rules\' unit tests', () => {
    assert.match(promtool('test', 'rules', ALERT_TESTS), /SUCCESS/);
  });

  it('parses every dashboard query', () => {
    // As recording rules, with Grafana's variables replaced by what they stand for.
    const recording = dashboardTargets.map((t) => ({
      record: `dashboard:panel_${t.panel.id}_${t.refId}`,
      expr: t.expr.replaceAll('$instance', '.*').replaceAll('$__rate_interval', '1m'),
    }));
    const file = join(scratch, 'dashboard-queries.yml');
    writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: recording }] }));
    assert.match(promtool('check', 'rules', file), new RegExp(`SUCCESS: ${recording.length} rules found`));
  });
});
