// @cubejs-client/core, the real Cube JS client, against the query API of a running local stack.
//
// Run by tests/e2e/test_cube_js_client.py, which starts the stack, sends the events of CUBE_EVENTS_FILE through
// the ingestion API and drains them. Every expected value here is computed from those events, not from the API.
//
//   CUBE_API_URL               root URL of the stack (http://127.0.0.1:<port>)
//   CUBE_API_KEY               a key of project CUBE_PROJECT_ID with the read scope
//   CUBE_PROJECT_ID            default 1
//   CUBE_EVENTS_FILE           JSON {events: [...as sent...], firstDay, lastDay, gapDays}: all the project's events
//   CUBE_EXPECT_CONTINUE_WAIT  "1": every load must first get {"error":"Continue wait"} (the client retries)
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';

import cube, { CubeApi, HttpTransport, RequestError } from '@cubejs-client/core';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run this through tests/e2e/test_cube_js_client.py (see the header)`);
  }
  return value;
}

const BASE = required('CUBE_API_URL').replace(/\/+$/, '');
const KEY = required('CUBE_API_KEY');
const PROJECT = process.env.CUBE_PROJECT_ID || '1';
const EXPECT_CONTINUE_WAIT = process.env.CUBE_EXPECT_CONTINUE_WAIT === '1';
const GITLAB_URL = `${BASE}/projects/${PROJECT}/product_analytics/request`;
const CUBE_URL = `${BASE}/cubejs-api/v1`;

// ---- the independent expectation: the events as sent ------------------------------------------------------

const described = JSON.parse(readFileSync(required('CUBE_EVENTS_FILE'), 'utf8'));
const EVENTS = described.events.map((event) => ({
  name: event.event_name,
  category: event.category,
  day: event.timestamp.slice(0, 10),
  timestamp: event.timestamp,
  path: new URL(event.page_url).pathname,
  url: event.page_url,
  user: event.user?.id ?? null,
  session: event.session_id,
}));
const FIRST_DAY = described.firstDay;
const LAST_DAY = described.lastDay;
const DAYS = daysFrom(FIRST_DAY, LAST_DAY);
const GAP_DAYS = described.gapDays;
const DAY_RANGE = [FIRST_DAY, LAST_DAY];

function daysFrom(first, last) {
  const days = [];
  for (let d = new Date(`${first}T00:00:00Z`); d <= new Date(`${last}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
    days.push(d.toISOString().slice(0, 10));
  }
  return days;
}

const at = (day) => `${day}T00:00:00.000`; // Cube's time value for a day bucket (spec §3)

function countBy(items, keyOf) {
  const counts = new Map();
  for (const item of items) {
    counts.set(keyOf(item), (counts.get(keyOf(item)) ?? 0) + 1);
  }
  return counts;
}

function perDay(valueOf, days = DAYS) {
  return Object.fromEntries(days.map((day) => [day, valueOf(EVENTS.filter((event) => event.day === day))]));
}

const distinct = (values) => new Set(values.filter((value) => value !== null)).size;

const eventsPerDay = perDay((events) => events.length);
const usersPerDay = perDay((events) => distinct(events.map((event) => event.user)));
const eventsPerName = Object.fromEntries(countBy(EVENTS, (event) => event.name));
const pageViewsPerPage = Object.fromEntries(
  [...new Set(EVENTS.map((event) => event.path))].map((path) => [
    path,
    EVENTS.filter((event) => event.path === path && event.category === 'page_view').length,
  ]),
);
const sessionStarts = new Map();
for (const event of EVENTS) {
  const start = sessionStarts.get(event.session);
  if (start === undefined || event.timestamp < start) {
    sessionStarts.set(event.session, event.timestamp);
  }
}
const sessionsPerDay = Object.fromEntries(DAYS.map((day) => [day, 0]));
for (const start of sessionStarts.values()) {
  sessionsPerDay[start.slice(0, 10)] += 1;
}

// ---- clients ----------------------------------------------------------------------------------------------

// GitLab's frontend (spec §6.5): `new CubejsApi(token, {transport: new HttpTransport({apiUrl, method: 'POST',
// headers, credentials})})`. GitLab authenticates the browser by its session; here the key is the transport's
// `authorization`, which the client sends raw (`Authorization: <key>`).
function gitlabClient({ project = PROJECT, key = KEY } = {}) {
  return new CubeApi(key, {
    transport: new HttpTransport({
      authorization: key,
      apiUrl: `${BASE}/projects/${project}/product_analytics/request`,
      method: 'POST',
      headers: { 'X-CSRF-Token': 'csrf-token', 'X-Requested-With': 'XMLHttpRequest' },
      credentials: 'same-origin',
    }),
  });
}

const FAMILIES = [
  { name: 'GitLab proxy path (POST, GitLab frontend transport)', api: gitlabClient(), gitlab: true, meta: true },
  // The client's defaults: GET `?query=<JSON>&queryType=multi` while the URL is short.
  { name: 'Cube path (GET, client defaults)', api: cube(KEY, { apiUrl: CUBE_URL }), gitlab: false, meta: true },
  // POST bodies and the `Bearer` form. Cube serves meta on GET only, so this client does not call it.
  {
    name: 'Cube path (POST, Bearer token)',
    api: cube(`Bearer ${KEY}`, { apiUrl: CUBE_URL, method: 'POST' }),
    gitlab: false,
    meta: false,
  },
];

// Every load goes through here: in the Continue-wait run each one must have been answered "Continue wait" at
// least once (the client reports it through progressCallback, then re-sends the identical request).
async function load(api, query, options = {}, responseFormat = undefined) {
  let waits = 0;
  const resultSet = await api.load(
    query,
    { ...options, progressCallback: () => (waits += 1) },
    undefined,
    responseFormat,
  );
  if (EXPECT_CONTINUE_WAIT) {
    assert.ok(waits >= 1, `no "Continue wait" before the result of ${JSON.stringify(query)}`);
  }
  return resultSet;
}

async function rejection(promise) {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('the request succeeded');
}

// What GitLab's built-in visualisations always send (spec §6.5).
const builtIn = (query) => ({ limit: 100, timezone: 'UTC', filters: [], dimensions: [], timeDimensions: [], ...query });
const dashboardDateFilter = {
  member: 'TrackedEvents.derivedTstamp',
  operator: 'inDateRange',
  values: DAY_RANGE,
};

const chartValues = (pivot, measure) => Object.fromEntries(pivot.map((row) => [row.x.slice(0, 10), row[measure]]));

// ---- load, meta and dry-run on each path ------------------------------------------------------------------

for (const family of FAMILIES) {
  const { api } = family;

  describe(family.name, () => {
    test('SingleStat: rawData()[0][measure] is the total as a string; tablePivot and chartPivot agree', async () => {
      const resultSet = await load(api, builtIn({ measures: ['TrackedEvents.count'] }));

      assert.deepEqual(resultSet.rawData(), [{ 'TrackedEvents.count': String(EVENTS.length) }]);
      assert.deepEqual(resultSet.tablePivot(), [{ 'TrackedEvents.count': String(EVENTS.length) }]);
      assert.deepEqual(
        resultSet.chartPivot().map((row) => row['TrackedEvents.count']),
        [EVENTS.length],
      );
      assert.equal(resultSet.loadResponse.queryType, 'regularQuery');
      assert.equal(resultSet.query().limit, 100);
      assert.equal(resultSet.query().timezone, 'UTC');
    });

    test('LineChart as a dashboard sends it: day buckets, inDateRange filter, the empty day is 0', async () => {
      const resultSet = await load(
        api,
        builtIn({
          measures: ['TrackedEvents.count'],
          timeDimensions: [{ dimension: 'TrackedEvents.derivedTstamp', granularity: 'day' }],
          filters: [dashboardDateFilter],
        }),
      );

      const chart = resultSet.chartPivot();
      assert.deepEqual(
        chart.map((row) => row.x),
        DAYS.map(at),
      );
      assert.deepEqual(chartValues(chart, 'TrackedEvents.count'), eventsPerDay);
      assert.deepEqual(
        resultSet.seriesNames().map(({ key, title, shortTitle }) => ({ key, title, shortTitle })),
        [{ key: 'TrackedEvents.count', title: 'Tracked Events Count', shortTitle: 'Count' }],
      );

      const withData = DAYS.filter((day) => !GAP_DAYS.includes(day));
      const rows = resultSet.rawData();
      // Cube's rows: only days with data, time ascending, both the `.day` key and the plain member key.
      assert.deepEqual(
        rows.slice(0, withData.length),
        withData.map((day) => ({
          'TrackedEvents.derivedTstamp.day': at(day),
          'TrackedEvents.derivedTstamp': at(day),
          'TrackedEvents.count': String(eventsPerDay[day]),
        })),
      );
      // GitLab's proxy appends the missing days of the inDateRange filter with "0" (its DataTransformer).
      const appended = family.gitlab
        ? GAP_DAYS.map((day) => ({
            'TrackedEvents.derivedTstamp.day': at(day),
            'TrackedEvents.derivedTstamp': at(day),
            'TrackedEvents.count': '0',
          }))
        : [];
      assert.deepEqual(rows.slice(withData.length), appended);

      // tablePivot fills and sorts the days as chartPivot does.
      assert.deepEqual(
        resultSet
          .tablePivot()
          .map((row) => [row['TrackedEvents.derivedTstamp.day'], Number(row['TrackedEvents.count'])]),
        DAYS.map((day) => [at(day), eventsPerDay[day]]),
      );
    });

    test('dateRange on the time dimension is echoed resolved and drives chartPivot', async () => {
      const resultSet = await load(api, {
        measures: ['TrackedEvents.count', 'TrackedEvents.uniqueUsersCount'],
        timeDimensions: [{ dimension: 'TrackedEvents.derivedTstamp', granularity: 'day', dateRange: DAY_RANGE }],
      });

      assert.deepEqual(resultSet.query().timeDimensions[0].dateRange, [
        `${FIRST_DAY}T00:00:00.000`,
        `${LAST_DAY}T23:59:59.999`,
      ]);
      const chart = resultSet.chartPivot();
      assert.deepEqual(chartValues(chart, 'TrackedEvents.count'), eventsPerDay);
      assert.deepEqual(chartValues(chart, 'TrackedEvents.uniqueUsersCount'), usersPerDay);
      assert.deepEqual(
        resultSet.seriesNames().map((series) => series.title),
        ['Tracked Events Count', 'Tracked Events Unique Users Count'],
      );
      assert.deepEqual(
        resultSet.tableColumns().map((column) => [column.key, column.type, column.title]),
        [
          ['TrackedEvents.derivedTstamp.day', 'time', 'Tracked Events Derived Tstamp'],
          ['TrackedEvents.count', 'number', 'Tracked Events Count'],
          ['TrackedEvents.uniqueUsersCount', 'number', 'Tracked Events Unique Users Count'],
        ],
      );
    });

    test('DataTable (built-in page views by path and URL): tablePivot, default order measure desc', async () => {
      const resultSet = await load(
        api,
        builtIn({
          measures: ['TrackedEvents.pageViewsCount'],
          dimensions: ['TrackedEvents.pageUrlpath', 'TrackedEvents.pageUrl'],
        }),
      );

      const table = resultSet.tablePivot();
      assert.deepEqual(
        Object.fromEntries(table.map((row) => [row['TrackedEvents.pageUrlpath'], row['TrackedEvents.pageViewsCount']])),
        Object.fromEntries(Object.entries(pageViewsPerPage).map(([path, count]) => [path, String(count)])),
      );
      for (const row of table) {
        assert.equal(row['TrackedEvents.pageUrl'], `https://app.example.com${row['TrackedEvents.pageUrlpath']}`);
      }
      const counts = table.map((row) => Number(row['TrackedEvents.pageViewsCount']));
      assert.deepEqual(counts, [...counts].sort((a, b) => b - a));
      assert.deepEqual(
        resultSet.tableColumns().map((column) => column.key),
        ['TrackedEvents.pageUrlpath', 'TrackedEvents.pageUrl', 'TrackedEvents.pageViewsCount'],
      );
    });

    test('ColumnChart by a string dimension with an explicit order', async () => {
      const resultSet = await load(api, {
        measures: ['TrackedEvents.count'],
        dimensions: ['TrackedEvents.eventName'],
        order: { 'TrackedEvents.eventName': 'asc' },
      });

      const names = Object.keys(eventsPerName).sort();
      assert.deepEqual(
        resultSet.chartPivot().map((row) => [row.x, row['TrackedEvents.count']]),
        names.map((name) => [name, eventsPerName[name]]),
      );
      assert.deepEqual(
        resultSet.tablePivot(),
        names.map((name) => ({ 'TrackedEvents.eventName': name, 'TrackedEvents.count': String(eventsPerName[name]) })),
      );
    });

    test('filters and segments: equals on a dimension, the knownUsers segment', async () => {
      const resultSet = await load(api, {
        measures: ['TrackedEvents.count'],
        filters: [{ member: 'TrackedEvents.eventName', operator: 'equals', values: ['link_click'] }],
        segments: ['TrackedEvents.knownUsers'],
      });

      const expected = EVENTS.filter((event) => event.name === 'link_click' && event.user !== null).length;
      assert.deepEqual(resultSet.rawData(), [{ 'TrackedEvents.count': String(expected) }]);
      assert.deepEqual(resultSet.query().filters, [
        { member: 'TrackedEvents.eventName', operator: 'equals', values: ['link_click'] },
      ]);
    });

    test('Sessions by start day (sessions derived from the events)', async () => {
      const resultSet = await load(api, {
        measures: ['Sessions.count'],
        timeDimensions: [{ dimension: 'Sessions.startAt', granularity: 'day', dateRange: DAY_RANGE }],
        order: { 'Sessions.startAt': 'asc' },
        limit: 100,
      });

      assert.deepEqual(chartValues(resultSet.chartPivot(), 'Sessions.count'), sessionsPerDay);
    });

    test('limit, offset and total: totalRows() counts every row', async () => {
      const resultSet = await load(api, {
        measures: ['TrackedEvents.count'],
        dimensions: ['TrackedEvents.eventName'],
        order: [['TrackedEvents.eventName', 'asc']],
        limit: 1,
        offset: 1,
        total: true,
      });

      const names = Object.keys(eventsPerName).sort();
      assert.equal(resultSet.totalRows(), names.length);
      assert.deepEqual(resultSet.rawData(), [
        { 'TrackedEvents.eventName': names[1], 'TrackedEvents.count': String(eventsPerName[names[1]]) },
      ]);
    });

    test('compareDateRange: one result per range; decompose() and chartPivot()', async () => {
      const [early, late] = [DAYS.slice(0, 3), DAYS.slice(3, 6)];
      const resultSet = await load(api, {
        measures: ['TrackedEvents.count'],
        timeDimensions: [
          {
            dimension: 'TrackedEvents.derivedTstamp',
            granularity: 'day',
            compareDateRange: [
              [early[0], early.at(-1)],
              [late[0], late.at(-1)],
            ],
          },
        ],
      });

      assert.equal(resultSet.loadResponse.queryType, 'compareDateRangeQuery');
      const [first, second] = resultSet.decompose();
      assert.deepEqual(chartValues(first.chartPivot(), 'TrackedEvents.count'), perDay((e) => e.length, early));
      assert.deepEqual(chartValues(second.chartPivot(), 'TrackedEvents.count'), perDay((e) => e.length, late));
      const merged = resultSet.chartPivot();
      assert.equal(merged.length, 3);
      assert.deepEqual(
        resultSet.seriesNames().map((series) => series.yValues[0]),
        [`${at(early[0])} - ${early.at(-1)}T23:59:59.999`, `${at(late[0])} - ${late.at(-1)}T23:59:59.999`],
      );
    });

    test('blending (an array of queries): blendingQuery, one result per query', async () => {
      const resultSet = await load(api, [
        { measures: ['TrackedEvents.count'], timeDimensions: [timeByDay('TrackedEvents.derivedTstamp')] },
        { measures: ['Sessions.count'], timeDimensions: [timeByDay('Sessions.startAt')] },
      ]);

      assert.equal(resultSet.loadResponse.queryType, 'blendingQuery');
      const [events, sessions] = resultSet.decompose();
      assert.deepEqual(chartValues(events.chartPivot(), 'TrackedEvents.count'), eventsPerDay);
      assert.deepEqual(chartValues(sessions.chartPivot(), 'Sessions.count'), sessionsPerDay);
    });

    test('compact responseFormat: the client re-expands the rows', async () => {
      const query = {
        measures: ['TrackedEvents.count'],
        dimensions: ['TrackedEvents.eventName'],
        order: [
          ['TrackedEvents.count', 'desc'],
          ['TrackedEvents.eventName', 'asc'],
        ],
      };
      const compact = await load(api, query, {}, 'compact');

      // Most events first, ties by name: the query's order, computed here from the events sent.
      const expected = Object.entries(eventsPerName)
        .sort(([a, m], [b, n]) => n - m || (a < b ? -1 : a > b ? 1 : 0))
        .map(([name, count]) => ({ 'TrackedEvents.eventName': name, 'TrackedEvents.count': String(count) }));
      assert.deepEqual(compact.rawData(), expected);
    });

    test('dryRun(): the normalised query and the effective order, nothing run', async () => {
      const body = await api.dryRun({
        measures: ['TrackedEvents.count'],
        dimensions: ['TrackedEvents.eventName'],
        filters: [{ dimension: 'TrackedEvents.derivedTstamp', operator: 'inDateRange', values: DAY_RANGE }],
      });

      assert.equal(body.queryType, 'regularQuery');
      assert.equal(body.normalizedQueries.length, 1);
      const [normalized] = body.normalizedQueries;
      assert.deepEqual(normalized.measures, ['TrackedEvents.count']);
      assert.deepEqual(normalized.dimensions, ['TrackedEvents.eventName']);
      assert.deepEqual(normalized.filters, [
        { member: 'TrackedEvents.derivedTstamp', operator: 'inDateRange', values: DAY_RANGE },
      ]);
      assert.equal(normalized.limit, 10000);
      assert.equal(normalized.rowLimit, 10000);
      assert.equal(normalized.timezone, 'UTC');
      assert.deepEqual(body.queryOrder, [{ 'TrackedEvents.count': 'desc' }]);
      assert.equal(body.pivotQuery.queryType, 'regularQuery');
      assert.deepEqual(body.pivotQuery.measures, ['TrackedEvents.count']);
      assert.equal(body.transformedQueries.length, 1);
    });

    test('errors reach the client as RequestError with the status of the path family', async () => {
      const unknown = await rejection(api.load({ measures: ['TrackedEvents.noSuchMeasure'] }));
      assert.ok(unknown instanceof RequestError, String(unknown));
      assert.equal(unknown.status, 400);
      const message = family.gitlab ? unknown.response.message : unknown.response.error;
      assert.match(message, /noSuchMeasure/);
      if (!family.gitlab) {
        assert.equal(unknown.response.type, 'UserError');
        assert.equal(unknown.message, message); // RequestError(body.error, ...)
      }

      const badDate = await rejection(
        api.dryRun({
          measures: ['TrackedEvents.count'],
          timeDimensions: [{ dimension: 'TrackedEvents.derivedTstamp', dateRange: 'blah' }],
        }),
      );
      assert.equal(badDate.status, 400);
      assert.equal(family.gitlab ? badDate.response.message : badDate.response.error, "Can't parse date: 'blah'");
    });

    if (family.meta) {
      test('meta(): cubes, members with titles and types, hidden primary keys left out', async () => {
        const meta = await api.meta();

        assert.deepEqual(meta.cubes.map((c) => c.name).sort(), ['ReturningUsers', 'Sessions', 'TrackedEvents']);
        const count = meta.resolveMember('TrackedEvents.count', 'measures');
        assert.equal(count.title, 'Tracked Events Count');
        assert.equal(count.shortTitle, 'Count');
        assert.equal(count.type, 'number');
        assert.equal(meta.resolveMember('TrackedEvents.derivedTstamp', 'dimensions').type, 'time');
        assert.equal(meta.resolveMember('TrackedEvents.eventName', 'dimensions').type, 'string');
        assert.equal(meta.defaultTimeDimensionNameFor('TrackedEvents.count'), 'TrackedEvents.derivedTstamp');
        const measures = meta.membersForQuery(null, 'measures').map((member) => member.name);
        for (const name of ['TrackedEvents.count', 'TrackedEvents.pageViewsCount', 'Sessions.count']) {
          assert.ok(measures.includes(name), name);
        }
        const dimensions = meta.membersForQuery(null, 'dimensions').map((member) => member.name);
        assert.ok(dimensions.includes('Sessions.startAt'));
        assert.ok(!dimensions.includes('Sessions.sessionID'), 'the hidden primary key is in meta');
        assert.ok(!dimensions.includes('TrackedEvents.eventId'), 'the hidden primary key is in meta');
        assert.ok(meta.membersForQuery(null, 'segments').some((s) => s.name === 'TrackedEvents.knownUsers'));
        const operators = meta.filterOperatorsForMember('TrackedEvents.eventName', 'dimensions').map((o) => o.name);
        assert.ok(operators.includes('equals'));
      });
    }
  });
}

function timeByDay(dimension) {
  return { dimension, granularity: 'day', dateRange: DAY_RANGE };
}

// ---- what only one path does ------------------------------------------------------------------------------

describe('credentials and projects', () => {
  test("GitLab path: another project's path is GitLab's 404, never data", async () => {
    const other = String(Number(PROJECT) + 1000);
    const error = await rejection(gitlabClient({ project: other }).load({ measures: ['TrackedEvents.count'] }));

    assert.ok(error instanceof RequestError);
    assert.equal(error.status, 404);
    assert.deepEqual(error.response, { message: '404 Project Not Found' });
  });

  test('GitLab path: a wrong key is 401; Cube path: 403 Invalid token', async () => {
    const gitlab = await rejection(gitlabClient({ key: 'sa_wrong-key' }).meta());
    const cubePath = await rejection(cube('sa_wrong-key', { apiUrl: CUBE_URL }).meta());

    assert.equal(gitlab.status, 401);
    assert.equal(cubePath.status, 403);
    assert.deepEqual(cubePath.response, { error: 'Invalid token' });
  });

  test('GitLab path: meta over GET too (the documented verb)', async () => {
    const meta = await cube(KEY, { apiUrl: GITLAB_URL }).meta();

    assert.ok(meta.cubes.some((c) => c.name === 'TrackedEvents'));
  });

  test('castNumerics: numbers converted by the client from the annotation types', async () => {
    const resultSet = await load(cube(KEY, { apiUrl: CUBE_URL, castNumerics: true }), {
      measures: ['TrackedEvents.count'],
      dimensions: ['TrackedEvents.eventName'],
    });

    const counts = resultSet.rawData().map((row) => [row['TrackedEvents.eventName'], row['TrackedEvents.count']]);
    assert.deepEqual(Object.fromEntries(counts), eventsPerName); // numbers, not strings
  });

  // GitLab's frontend passes a dummy token and no `authorization` to its HttpTransport, so the client sends the
  // literal header `Authorization: undefined` next to whatever credential the page adds (here GitLab's own
  // `PRIVATE-TOKEN`), which must win, as it does on GitLab.
  test(
    'GitLab frontend transport exactly (no authorization, PRIVATE-TOKEN header)',
    async () => {
      const api = new CubeApi('1', {
        transport: new HttpTransport({
          apiUrl: GITLAB_URL,
          method: 'POST',
          headers: { 'X-CSRF-Token': 'csrf-token', 'X-Requested-With': 'XMLHttpRequest', 'PRIVATE-TOKEN': KEY },
          credentials: 'same-origin',
        }),
      });
      const resultSet = await load(api, builtIn({ measures: ['TrackedEvents.count'] }));

      assert.equal(resultSet.rawData()[0]['TrackedEvents.count'], String(EVENTS.length));
    },
  );

  // What a browser sends before the client's cross-origin request (the client's headers are not CORS-safelisted).
  // Cube's server answers it (the `cors` middleware, allowedHeaders authorization,content-type,x-request-id).
  test(
    'Cube path: CORS preflight of a browser client',
    async () => {
      const origin = 'http://localhost:8080';
      const preflight = await fetch(`${CUBE_URL}/load`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type,x-request-id',
        },
      });
      assert.ok(preflight.status >= 200 && preflight.status < 300, `preflight answered ${preflight.status}`);
      assert.ok(['*', origin].includes(preflight.headers.get('access-control-allow-origin')));
      const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
      for (const header of ['authorization', 'content-type', 'x-request-id']) {
        assert.ok(allowed === '*' || allowed.includes(header), `${header} not allowed: ${allowed}`);
      }
      const response = await fetch(`${CUBE_URL}/meta`, { headers: { Origin: origin, Authorization: KEY } });
      assert.ok(['*', origin].includes(response.headers.get('access-control-allow-origin')));
    },
  );

  // cubeApi.subscribe() over HTTP polls Cube's `/v1/subscribe`, which Cube serves as `/v1/load` (spec §4.1).
  // The client keeps a poll timer after unsubscribe(), hence `node --test --test-force-exit`.
  test(
    'Cube path: subscribe() (HTTP polling of /v1/subscribe)',
    async () => {
      const api = cube(KEY, { apiUrl: CUBE_URL, pollInterval: 1 });
      const resultSet = await new Promise((resolve, reject) => {
        const subscription = api.subscribe({ measures: ['TrackedEvents.count'] }, {}, (error, result) => {
          subscription.unsubscribe();
          return error ? reject(error) : resolve(result);
        });
      });
      assert.equal(resultSet.rawData()[0]['TrackedEvents.count'], String(EVENTS.length));
    },
  );
});
