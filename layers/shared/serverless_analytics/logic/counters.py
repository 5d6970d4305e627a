"""Names of the per-project counter items the stream writer maintains and the stats endpoint reads."""

from datetime import datetime

TOTAL = 'total'
PIPELINE = 'pipeline'
CATEGORY_PREFIX = 'cat_'


def day_key(moment: datetime) -> str:
    return moment.strftime('day#%Y-%m-%d')


def hour_key(moment: datetime) -> str:
    return moment.strftime('hour#%Y-%m-%dT%H')
