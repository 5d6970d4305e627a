"""One logger and one metrics instance per process, shared by every module.

No Powertools Tracer: importing the X-Ray SDK costs ~600 ms of cold start, while `Tracing: Active` in the
template already traces every invocation and its AWS calls at the service level.
"""

import warnings

from aws_lambda_powertools import Logger, Metrics

# Routes that add no metric (health, stats, rejected requests) would print this on every invocation.
warnings.filterwarnings('ignore', message='No application metrics to publish')

logger = Logger()
metrics = Metrics()


def add_count_metrics(counts: dict[str, int]) -> None:
    """A scheduled job's result as Count metrics, named in CamelCase (`days_left` is `DaysLeft`)."""
    for name, value in counts.items():
        metrics.add_metric(name=name.title().replace('_', ''), unit='Count', value=value)
