import pyarrow as pa

from serverless_analytics.logic.update_user_directory import first_copies


def test_each_event_ids_first_row_by_project():
    rows = pa.table(
        {
            'project_id': ['1', '2', '1', '1', '2', '1'],
            'event_id': ['a', 'a', 'b', 'a', 'a', None],
        }
    )

    assert first_copies(rows) == {'1': [0, 2, 5], '2': [1]}


def test_a_batch_without_copies_keeps_every_row_by_project():
    rows = pa.table({'project_id': ['1', '2', '1'], 'event_id': ['a', 'b', 'c']})

    assert first_copies(rows) == {'1': [0, 2], '2': [1]}
