"""API keys: project-scoped credentials, stored hashed."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


class Scope(StrEnum):
    INGEST = 'ingest'
    READ = 'read'
    ADMIN = 'admin'


class Principal(BaseModel):
    """Who is calling: the project a credential is scoped to and what it may do."""

    key_id: str
    project_id: str
    scopes: frozenset[Scope]


class ApiKeyRecord(BaseModel):
    key_id: str
    key_hash: str
    project_id: str
    scopes: list[Scope]
    name: str
    created_at: datetime
    revoked_at: datetime | None = None
