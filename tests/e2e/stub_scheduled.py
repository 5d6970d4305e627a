"""A stand-in scheduled function for the scheduler tests: records the events it gets; fails when told to."""

from typing import Any

events: list[dict[str, Any]] = []


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    events.append(event)
    if event.get('fail'):
        raise RuntimeError('told to fail')
    return {'runs': len(events)}
