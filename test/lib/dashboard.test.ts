/**
 * `addDashboard`, as synthesized: every widget titled and inside the 24-column grid, rows that do not
 * overlap, in the order an incident reads them, the reference lines at the configured rate and reserved
 * concurrency, and one row per policy (added before or after).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { SwfTerminator } from '../../lib';
import { testApp } from '../support/construct-helpers';
import { addStormPolicy, addSweepPolicy } from '../support/policy-helpers';
import { chartedMetrics, dashboardWidgets } from '../support/dashboard-body';

function synth() {
  const stack = new Stack(testApp(), 'DashboardStack');
  const terminator = new SwfTerminator(stack, 'Terminator', {
    domains: ['orders'],
    terminateRatePerSecond: 40,
    reservedConcurrentExecutions: 2,
  });
  addSweepPolicy(terminator);
  const dashboard = terminator.addDashboard({
    dashboardName: 'swf-terminator',
    timeRange: Duration.hours(6),
  });
  addStormPolicy(terminator);
  const template = Template.fromStack(stack);
  return { terminator, dashboard, template, widgets: dashboardWidgets(template) };
}

const { terminator, template, widgets } = synth();

test('every widget is titled and inside the 24-column grid; rows do not overlap', () => {
  expect(widgets.length).toBeGreaterThan(10);
  for (const w of widgets) {
    expect(w.properties.title).toMatch(/\S/);
    expect(w.x).toBeGreaterThanOrEqual(0);
    expect(w.x + w.width).toBeLessThanOrEqual(24);
  }
  for (const a of widgets) {
    for (const b of widgets) {
      if (a === b) continue;
      const apart =
        a.x + a.width <= b.x || b.x + b.width <= a.x || a.y + a.height <= b.y || b.y + b.height <= a.y;
      expect(apart).toBe(true);
    }
  }
});

test('laid out for an incident: now, outcomes, jobs, health, who and why, then a row per policy', () => {
  const rows = [...new Set(widgets.map((w) => w.y))].sort((a, b) => a - b);
  const titlesOf = (y: number) => widgets.filter((w) => w.y === y).map((w) => w.properties.title);
  expect(rows.map(titlesOf)).toEqual([
    [
      'Terminations per minute',
      'Failed executions per minute',
      'Throttled per minute',
      'Refused requests per minute',
    ],
    ['Outcomes'],
    ['Jobs', 'Longest job that ended (minutes)'],
    ['Function errors and throttles', 'Function duration p99 (ms)', 'Terminating function concurrency'],
    ['Dead-letter queue', 'Least privilege: last verification (0 proven, 1 not proven)'],
    ['Latest terminations: who asked, and why', 'Latest executions that could not be terminated'],
    ['Policy Sweep'],
    ['Policy Storm'],
  ]);
});

test('the reference lines: the configured rate (per minute) and the reserved concurrency', () => {
  const line = (title: string) =>
    widgets.find((w) => w.properties.title === title)?.properties.annotations?.horizontal;
  expect(line('Terminations per minute')).toEqual([
    expect.objectContaining({ value: 40 * 60, label: 'configured rate' }),
  ]);
  expect(line('Terminating function concurrency')).toEqual([
    expect.objectContaining({ value: 2, label: 'reserved concurrency' }),
  ]);
});

test("a policy's row charts its own figures; an event policy's, its breaker too", () => {
  const names = (title: string) =>
    chartedMetrics(widgets)
      .filter((m) => m.widget === title)
      .map((m) => `${m.name} ${m.dimensions.policy ?? ''}`);
  expect(names('Policy Sweep')).toEqual(
    [
      'PolicyMatched',
      'PolicyTerminated',
      'PolicyCancelRequested',
      'PolicyWouldAct',
      'PolicyFailed',
      'PolicyCapExceeded',
    ].map((n) => `${n} Sweep`),
  );
  expect(names('Policy Storm')).toContain('PolicyPassedOver Storm');
});

test('the log queries read the log group', () => {
  const queries = widgets.filter((w) => w.type === 'log');
  expect(queries).toHaveLength(2);
  for (const q of queries) expect(q.properties.query).toMatch(/^SOURCE 'Ref:TerminatorLogGroup[0-9A-F]{8}'/);
  const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
  expect(dashboards).toEqual([
    expect.objectContaining({ Properties: expect.objectContaining({ DashboardName: 'swf-terminator' }) }),
  ]);
});

test('once per terminator', () => {
  expect(() => terminator.addDashboard()).toThrow(
    'SwfTerminator.addDashboard: this terminator has its dashboard already',
  );
});
