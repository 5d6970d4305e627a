"""Retry pauses: exponential, capped and jittered."""

from serverless_analytics.adapters import clients


def test_pauses_grow_exponentially_up_to_the_cap_and_are_jittered(monkeypatch):
    slept: list[float] = []
    monkeypatch.setattr(clients.time, 'sleep', slept.append)

    for retry in (1, 2, 3, 4, 5, 6) * 200:
        clients.pause_before_retry(retry, base_seconds=0.05, cap_seconds=1.0)

    bounds = {1: 0.05, 2: 0.1, 3: 0.2, 4: 0.4, 5: 0.8, 6: 1.0}
    by_retry = {retry: slept[index::6] for index, retry in enumerate(bounds)}
    assert all(0 <= pause <= bounds[retry] for retry, pauses in by_retry.items() for pause in pauses)
    # jittered: not all equal, and spread over the range rather than pinned to its top
    assert all(len(set(pauses)) > 100 and min(pauses) < bounds[retry] / 4 for retry, pauses in by_retry.items())
