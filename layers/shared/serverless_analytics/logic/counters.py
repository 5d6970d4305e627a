"""Names of the per-project counter items the stream writer maintains and the stats endpoint reads."""

from datetime import datetime

TOTAL = 'total'
PIPELINE = 'pipeline'
CATEGORY_PREFIX = 'cat_'


# strftime formats, so the stream writer can make the keys of a whole batch at once (pyarrow.compute.strftime).
DAY_FORMAT = 'day#%Y-%m-%d'
HOUR_FORMAT = 'hour#%Y-%m-%dT%H'


def day_key(moment: datetime) -> str:
    return moment.strftime(DAY_FORMAT)


def hour_key(moment: datetime) -> str:
    return moment.strftime(HOUR_FORMAT)
