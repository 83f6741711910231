"""Commands on API keys."""

from __future__ import annotations

from application.ledger import LedgerCore
from domain.api_keys import ApiKey, api_key_id, key_hash, new_secret


class ApiKeyCommands(LedgerCore):
    def create_api_key(self, name: str, read_only: bool, actor: str) -> tuple[ApiKey, str]:
        """A new key; the secret is returned once and only its hash is recorded."""
        secret = new_secret()
        key = ApiKey(name=name, hashed=key_hash(secret), read_only=read_only, actor=actor)
        self.store(key)
        return key, secret

    def authenticate(self, secret: str) -> ApiKey | None:
        key = self.api_key(api_key_id(secret))
        if key is None or key.revoked or key.hashed != key_hash(secret):
            return None
        return key
