"""Webhook signing secrets at rest: AES-256-GCM under a key from settings (`secrets_key`).

The secrets columns use `SealedJSON`, so no code path can write them in clear; a row written before
encryption existed still reads (it is plain JSON) and is sealed by `seal_existing`, which every service
runs at start-up. The key is process configuration, set once from the settings (`configure_from`);
a process that never configured it (the CLI, a test) reads the same cluster-wide settings.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy.engine import Dialect

from shared.db import Database
from shared.security import InsecureSettings
from shared.settings import ServiceSettings

VERSION = "v1"
_AAD = b"tandem/webhook-secrets"
KEY_FILE = "secrets.key"


class VaultError(RuntimeError):
    """A sealed value that no configured key opens (wrong or rotated-away TANDEM_SECRETS_KEY)."""


class _Keyring:
    def __init__(self, keys: list[str]) -> None:
        derived = [hashlib.sha256(b"tandem-secrets-key/" + k.encode()).digest() for k in keys]
        self.ids = [hashlib.sha256(d).hexdigest()[:8] for d in derived]
        self.ciphers = dict(zip(self.ids, (AESGCM(d) for d in derived), strict=True))

    def seal(self, plain: bytes) -> str:
        nonce = os.urandom(12)
        sealed = self.ciphers[self.ids[0]].encrypt(nonce, plain, _AAD)
        return f"{VERSION}:{self.ids[0]}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, token: str) -> bytes:
        version, key_id, data = token.split(":", 2)
        cipher = self.ciphers.get(key_id)
        if version != VERSION or cipher is None:
            raise VaultError(f"no configured secrets key opens this value (key id {key_id})")
        raw = base64.b64decode(data)
        try:
            return cipher.decrypt(raw[:12], raw[12:], _AAD)
        except InvalidTag as exc:
            raise VaultError("a sealed secret failed its integrity check") from exc


_keyring: _Keyring | None = None


def configure(key: str, previous: list[str] | None = None) -> None:
    """Seal with `key`; also open values sealed under `previous` keys (during a key rotation)."""
    global _keyring
    _keyring = _Keyring([key, *(previous or [])])


def _key_file(data_dir: Path) -> str:
    """The zero-setup demo's key: created once under data_dir, shared by the local services."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def configure_from(settings: ServiceSettings) -> None:
    if not settings.secrets_key and settings.auth_mode == "keys":
        # A key file per container would seal each replica's rows under a different key.
        raise InsecureSettings("TANDEM_SECRETS_KEY is not set: keys mode needs the cluster's one key")
    configure(settings.secrets_key or _key_file(settings.data_dir))


def _ring() -> _Keyring:
    if _keyring is None:
        configure_from(ServiceSettings())
    assert _keyring is not None
    return _keyring


def is_sealed(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("sealed"), str)


class SealedJSON(sa.types.TypeDecorator[Any]):
    """A JSON column whose value is stored as `{"sealed": "v1:<key id>:<nonce+ciphertext>"}`."""

    impl = sa.JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else {"sealed": _ring().seal(orjson.dumps(value))}

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return orjson.loads(_ring().open(value["sealed"])) if is_sealed(value) else value


# (table, primary key) of every column that holds secrets.
SEALED_COLUMNS = (("webhook_endpoint", "endpoint_id"), ("inbound_source", "source_id"))


def seal_existing(edge: Database) -> int:
    """Seal rows written in clear (before encryption, or by an older replica); returns how many."""
    sealed = 0
    with edge.transaction() as s:
        for table, key in SEALED_COLUMNS:
            raw = sa.table(table, sa.column(key), sa.column("secrets", sa.JSON))
            typed = sa.table(table, sa.column(key), sa.column("secrets", SealedJSON))
            for row_id, value in s.execute(sa.select(raw.c[key], raw.c.secrets)).all():
                if not is_sealed(value):
                    s.execute(sa.update(typed).where(typed.c[key] == row_id).values(secrets=value))
                    sealed += 1
    return sealed
