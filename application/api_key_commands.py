"""Commands on API keys: create (named uniquely among live keys), list, revoke; and the
authentication of a request's key, which records its use (storage/key_uses.py)."""

from __future__ import annotations

from functools import cached_property
from uuid import UUID

from eventsourcing.utils import get_topic

from application.ledger import LedgerCore
from domain.api_keys import ApiKey, api_key_id, key_hash, new_secret
from domain.datasets import check_name
from domain.errors import ValidationFailed
from storage.key_uses import KeyUses

_CREATED = get_topic(ApiKey.Created)
# Notifications read per query while listing the keys' creations.
_PAGE = 1_000


class ApiKeyCommands(LedgerCore):
    def create_api_key(self, name: str, read_only: bool, actor: str) -> tuple[ApiKey, str]:
        """A new key; the secret is returned once and only its hash is recorded. Its name
        must differ from every live key's: the audit trail records a change by the name of
        the key that made it."""
        cleaned = check_name(name, "API key")
        if any(key.name == cleaned for key in self.api_keys() if not key.revoked):
            raise ValidationFailed(
                f"an API key named {cleaned!r} exists already: choose another name, or revoke that key first"
            )
        secret = new_secret()
        key = ApiKey(name=cleaned, hashed=key_hash(secret), read_only=read_only, actor=actor)
        self.store(key)
        return key, secret

    def api_keys(self) -> list[ApiKey]:
        """Every key ever made, revoked ones too, oldest first. Read from the log (keys are
        few; there is no read model of them), so it also works without the read models."""
        ids: list[UUID] = []
        start: int | None = None
        while True:
            page = self.recorder.select_notifications(start=start, limit=_PAGE, topics=[_CREATED])
            ids += [UUID(str(n.originator_id)) for n in page]
            if len(page) < _PAGE:
                break
            start = page[-1].id + 1
        keys = [self.api_key(key_id) for key_id in ids]
        return [key for key in keys if key is not None]

    def revoke_api_key(self, key_id: UUID, actor: str) -> ApiKey:
        """The key stops working at once on this server, within seconds on others."""
        return self.change(ApiKey, key_id, "API key", lambda key: key.revoke(actor=actor))

    @cached_property
    def key_uses(self) -> KeyUses:
        return KeyUses(self.recorder)

    def authenticate(self, secret: str) -> ApiKey | None:
        """The live key with this secret, its use recorded; None for an unknown or revoked one."""
        key = self.api_key(api_key_id(secret))
        if key is None or key.revoked or key.hashed != key_hash(secret):
            return None
        self.key_uses.record(key.id)
        return key
