"""A team's own cubes (`model/team/*.yml`), merged with the shipped model, and the check that runs before they ship."""

import shutil

import pytest

from serverless_analytics.cube import load
from serverless_analytics.cube.datamodel import MODEL_DIR, load_model
from serverless_analytics.cube.validate import main, problems
from serverless_analytics.models.errors import CubeModelError
from tests.unit.serverless_analytics.cube.conftest import NOW

PAGE_VIEWS = """
cubes:
  - name: PageViews
    sql: SELECT * FROM events WHERE category = 'page_view'
    joins:
      - name: TrackedEvents
        relationship: one_to_one
        sql: "{CUBE}.event_id = {TrackedEvents.eventId}"
    measures:
      - name: count
        type: count
    dimensions:
      - name: eventId
        type: string
        sql: "{CUBE}.event_id"
        primary_key: true
      - name: path
        type: string
        sql: "{CUBE}.page_path"
"""


@pytest.fixture
def model_dir(tmp_path):
    """A copy of the shipped model, team folder included, to add files to."""
    return shutil.copytree(MODEL_DIR, tmp_path / 'model')


def test_the_shipped_model_and_the_teams_files_compile_for_both_engines():
    assert problems(load_model(MODEL_DIR)) == []


def test_a_teams_cube_is_queried_with_the_shipped_ones(model_dir, engine):
    (model_dir / 'team' / 'page_views.yml').write_text(PAGE_VIEWS)
    model = load_model(model_dir)
    query = {'measures': ['PageViews.count'], 'dimensions': ['PageViews.path'], 'order': {'PageViews.path': 'asc'}}

    body = load(query, '1', engine, now=NOW, query_type='multi', model=model)

    # the tiny lake's project 1: page views on /docs (4) and /pricing (1); project 2's are not read
    assert body['results'][0]['data'] == [
        {'PageViews.path': '/docs', 'PageViews.count': '4'},
        {'PageViews.path': '/pricing', 'PageViews.count': '1'},
    ]
    assert problems(model) == []


def test_a_team_file_cannot_replace_a_shipped_cube(model_dir):
    (model_dir / 'team' / 'mine.yml').write_text(PAGE_VIEWS.replace('PageViews', 'Sessions'))

    with pytest.raises(CubeModelError) as raised:
        load_model(model_dir)

    assert str(raised.value) == "Cube or view 'Sessions' is defined twice: in sessions.yml and in team/mine.yml"


def test_the_check_names_a_member_that_does_not_compile(model_dir, capsys):
    broken = PAGE_VIEWS.replace('"{CUBE}.page_path"', '"{CUBE}.page_path +* 1"')
    (model_dir / 'team' / 'page_views.yml').write_text(broken)

    assert main([str(model_dir)]) == 1
    assert 'PageViews' in capsys.readouterr().err
