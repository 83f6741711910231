"""API keys: stored hashed; a key's aggregate id derives from its hash, so a key is found
by one lookup and never stored in plain text."""

from __future__ import annotations

import hashlib
import secrets
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.datasets import check_name
from domain.errors import ValidationFailed

KEY_PREFIX = "mlk_"
_NAMESPACE = UUID("5b0f2a64-8a53-4c2e-9d6e-43a1c7e0f9b2")


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_id(secret: str) -> UUID:
    return uuid5(_NAMESPACE, key_hash(secret))


class ApiKey(Aggregate):
    @event("Created")
    def __init__(self, name: str, hashed: str, read_only: bool, actor: str) -> None:
        self.name = check_name(name, "API key")
        self.hashed = hashed
        self.read_only = read_only
        self.revoked = False
        self.created_by = actor

    @staticmethod
    def create_id(name: str, hashed: str, read_only: bool, actor: str) -> UUID:
        return uuid5(_NAMESPACE, hashed)

    def revoke(self, actor: str) -> None:
        if self.revoked:
            raise ValidationFailed(f"API key {self.name!r} ({self.id}) is already revoked")
        self._revoke(actor=actor)

    @event("Revoked")
    def _revoke(self, actor: str) -> None:
        self.revoked = True
