// Coder's dashboard against the local stack's insights routes: each request built exactly as the dashboard builds
// it (URLSearchParams in the order template_ids, start_time, end_time, interval; times formatted with date-fns as
// yyyy-MM-dd'T'HH:mm:ss plus the local ±HH:MM, URL-encoded; tz_offset = Math.trunc(getTimezoneOffset() / 60);
// template DAUs without tz_offset), and every field the dashboard reads checked. API_URL, API_KEY and NOW come from
// tests/e2e/test_coder_dashboard.py, which loads a week of Coder-shaped telemetry up to NOW first, pins the stack's
// clock to NOW and runs this in a time zone west of UTC, so tz_offset is not 0. NOW stands for the dashboard's
// `new Date()`, so the requests are the same whatever the day or hour of the run. (The answers' values are
// compared with the independent reference in tests/integration/functions/test_get_daus.py and the other insights
// tests.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addHours, format, startOfDay, startOfHour, subDays } from 'date-fns';

const API = process.env.API_URL;
const KEY = process.env.API_KEY;
const NOW = new Date(process.env.NOW);
assert.ok(!Number.isNaN(NOW.getTime()), `NOW is not a time: ${process.env.NOW}`);
const headers = { 'Coder-Session-Token': KEY };

const coderTime = (date) => format(date, "yyyy-MM-dd'T'HH:mm:ssxxx");
const tzOffset = () => Math.trunc(NOW.getTimezoneOffset() / 60);

async function get(path) {
  const response = await fetch(`${API}${path}`, { headers });
  const body = await response.json();
  assert.equal(response.status, 200, `${path}: ${JSON.stringify(body)}`);
  return body;
}

function insightsParams({ templateIds, start, end, interval }) {
  const params = new URLSearchParams({ template_ids: templateIds.join(','), start_time: coderTime(start), end_time: coderTime(end) });
  if (interval) params.append('interval', interval);
  return params.toString();
}

const week = { start: subDays(startOfDay(NOW), 7), end: startOfHour(addHours(NOW, 1)) };
const lastWeekEnd = startOfDay(NOW);

test('deployment DAUs: entries of date and amount, the offset echoed', async () => {
  const body = await get(`/api/v2/insights/daus?tz_offset=${tzOffset()}`);
  assert.equal(body.tz_hour_offset, tzOffset());
  assert.ok(body.entries.length >= 60);
  for (const entry of body.entries) {
    assert.match(entry.date, /^\d{4}-\d{2}-\d{2}$/);
    assert.equal(typeof entry.amount, 'number');
  }
  assert.ok(body.entries.some((entry) => entry.amount > 0));
});

test('template DAUs, sent without tz_offset', async () => {
  const templates = await get(`/api/v2/insights/templates?${insightsParams({ templateIds: [], start: week.start, end: lastWeekEnd })}`);
  const [templateId] = templates.report.template_ids;
  const body = await get(`/api/v2/templates/${templateId}/daus`);
  assert.equal(body.tz_hour_offset, 0);
  assert.ok(body.entries.some((entry) => entry.amount > 0));
});

test('template insights: the report and the daily interval reports the dashboard draws', async () => {
  const body = await get(`/api/v2/insights/templates?${insightsParams({ templateIds: [], start: week.start, end: lastWeekEnd, interval: 'day' })}`);
  const { report } = body;
  assert.equal(report.start_time, coderTime(week.start).replace(/\+00:00$/, 'Z'));
  assert.ok(report.active_users > 0);
  assert.deepEqual(report.apps_usage.slice(0, 5).map((app) => app.slug), ['vscode', 'jetbrains', 'reconnecting-pty', 'ssh', 'sftp']);
  for (const app of report.apps_usage) {
    for (const field of ['display_name', 'slug', 'icon', 'type']) assert.equal(typeof app[field], 'string');
    assert.ok(Array.isArray(app.template_ids));
    assert.equal(typeof app.seconds, 'number');
    assert.equal(typeof app.times_used, 'number');
  }
  assert.ok(report.apps_usage.some((app) => app.type === 'app' && app.seconds > 0 && app.times_used > 0));
  assert.ok(Array.isArray(report.parameters_usage));
  for (const parameter of report.parameters_usage) {
    for (const field of ['name', 'display_name', 'type', 'description']) assert.equal(typeof parameter[field], 'string');
    for (const value of parameter.values) assert.equal(typeof value.count, 'number');
  }
  assert.equal(body.interval_reports.length, 7);
  for (const interval of body.interval_reports) {
    assert.equal(interval.interval, 'day');
    assert.equal(typeof interval.active_users, 'number');
  }
});

test('user activity and latency, as the dashboard asks for one template', async () => {
  const templates = await get(`/api/v2/insights/templates?${insightsParams({ templateIds: [], start: week.start, end: lastWeekEnd })}`);
  const templateIds = templates.report.template_ids.slice(0, 1);
  const activity = await get(`/api/v2/insights/user-activity?${insightsParams({ templateIds, start: week.start, end: week.end })}`);
  assert.ok(activity.report.users.length > 0);
  for (const user of activity.report.users) {
    for (const field of ['user_id', 'username', 'avatar_url']) assert.equal(typeof user[field], 'string');
    assert.ok(user.seconds > 0);
  }
  const latency = await get(`/api/v2/insights/user-latency?${insightsParams({ templateIds, start: week.start, end: week.end })}`);
  for (const user of latency.report.users) {
    assert.equal(typeof user.latency_ms.p50, 'number');
    assert.equal(typeof user.latency_ms.p95, 'number');
  }
});

test('user status counts: a series of date and count per status', async () => {
  const body = await get(`/api/v2/insights/user-status-counts?tz_offset=${tzOffset()}`);
  assert.ok(Object.keys(body.status_counts).includes('active'));
  for (const series of Object.values(body.status_counts)) {
    assert.ok(series.length >= 60);
    for (const point of series) {
      assert.ok(!Number.isNaN(Date.parse(point.date)));
      assert.equal(typeof point.count, 'number');
    }
  }
});
