"""Requests of the Cube-compatible query API (GitLab's proxy body, and Cube's own REST form)."""

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CubeRequest(BaseModel):
    """`{"query": <Cube query>, "queryType": "multi", "include_token": false}`; other keys are dropped, as
    GitLab's `declared_params` drops them."""

    model_config = ConfigDict(extra='ignore', populate_by_name=True)

    query: Any = None
    query_type: str | None = Field(default=None, alias='queryType')
    include_token: bool = False
