"""The events export on a local lake of 10 million events (DuckDB engine): a one-month filtered page and its total.

The lake is `bench/lake_generator.py`'s (BENCH_LAKE_EVENTS events, default 10,000,000, over the 365 days ending
on the day it was generated, cached under `.local-data/bench-lake/<N>-events/`). Timed, as the handler runs it
after parsing (`export_events`: SQL built with sqlglot, one DuckDB query giving the page and `count(*) OVER ()`,
rows mapped to FT's shape), through `DuckDBEngine(lake_root)`:

1. the target case: the last 30 days of the lake, `filters.name` two names and `filters.user.group` one group,
   page 1 of 100, latest first. Target: median <= 1 s.
2. for scale: the same page unfiltered, a deep page (page 50) of the filtered walk, and the daily event counts of
   the same month.

Every figure is the median of BENCH_RUNS (default 7) timed runs after one warm-up, because the machine is shared.

Run: `PYTHONPATH=. .venv/bin/python bench/bench_export.py` (or BENCH_LAKE_EVENTS=1_000_000 for a quick look).
"""

from collections.abc import Callable
from datetime import timedelta

from bench.common import RUNS, medians
from bench.lake_generator import CONFIGURED_EVENTS as EVENTS
from bench.lake_generator import CONFIGURED_LAKE_DIR as LAKE_DIR
from bench.lake_generator import MAIN_PROJECT, ensure_lake
from local.environment import stack_settings
from serverless_analytics.engines import DuckDBEngine
from serverless_analytics.logic.count_events import count_events
from serverless_analytics.logic.export_events import export_events
from serverless_analytics.models.export import CountEventsRequest, EventsRequest

TARGET_SECONDS = 1.0
FILTERS = {'name': ['page_view', 'search'], 'user': {'group': ['beta']}}


def main() -> None:
    lake, generated = ensure_lake(LAKE_DIR, EVENTS)
    if generated is not None:
        print(f'generated the lake of {EVENTS:,} events in {generated:.0f} s')
    engine = DuckDBEngine(str(lake.root))
    settings = stack_settings()
    now = lake.now
    month = {'startDate': f'{now - timedelta(days=30):%Y-%m-%dT%H:%M:%S}', 'endDate': f'{now:%Y-%m-%dT%H:%M:%S}'}

    def page(filters: dict, number: int) -> Callable[[], object]:
        body = {**month, 'filters': filters, 'paging': {'page': number, 'perPage': 100}, 'sortOrder': 'LatestFirst'}
        request = EventsRequest.model_validate(body, context=settings)
        return lambda: export_events(MAIN_PROJECT, request, settings, now=now, engine=engine)

    counts_request = CountEventsRequest.model_validate(
        {**month, 'groupByPeriod': 'day', 'filters': {'name': FILTERS['name']}}
    )
    cases = [
        ('one-month filtered page 1 of 100 + total (target)', page(FILTERS, 1)),
        ('one-month unfiltered page 1 of 100 + total', page({}, 1)),
        ('one-month filtered page 50 of 100 + total', page(FILTERS, 50)),
        (
            'one-month daily counts of two names',
            lambda: count_events(MAIN_PROJECT, counts_request, settings, now, engine),
        ),
    ]
    print(
        f'lake: {EVENTS:,} events, {len(lake.partitions[MAIN_PROJECT])} days of project {MAIN_PROJECT}; {RUNS} runs each'
    )
    for name, work in cases:
        result = work()  # the warm-up, and the figures printed beside the time
        [seconds] = medians([work], warm_up=False)
        detail = f'totalCount {result.paging.total_count:,}' if hasattr(result, 'paging') else ''
        verdict = f'  (target <= {TARGET_SECONDS:.1f} s: {"met" if seconds <= TARGET_SECONDS else "MISSED"})'
        print(f'{name:<52} median {seconds * 1000:7.0f} ms  {detail}{verdict if "target" in name else ""}')
    engine.close()


if __name__ == '__main__':
    main()
