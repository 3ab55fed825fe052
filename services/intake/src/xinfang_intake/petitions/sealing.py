"""Encryption at rest of an informant's identity (检举控告: 检举人信息保密). Pure: no I/O.

AES-256-GCM (``cryptography``) with a fresh 96-bit nonce per seal. A sealed value is
``version (1 byte) | key id (8 bytes) | nonce (12 bytes) | ciphertext and tag``. The key id is
the start of the SHA-256 of the key, so a value sealed under another key is told apart from one
that was altered. The associated data binds a value to its case: a ciphertext copied onto
another case does not open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

VERSION = 1
KEY_BYTES = 32
NONCE_BYTES = 12
KEY_ID_BYTES = 8
_HEADER = 1 + KEY_ID_BYTES + NONCE_BYTES

# Works out of the box for the demo and the tests. Anyone who knows it can read every sealed
# informant: every real deployment sets its own XF_INFORMANT_KEY (and keeps it secret).
DEMO_INFORMANT_KEY = base64.urlsafe_b64encode(
    hashlib.sha256(b"xinfang-DEMO-ONLY-informant-key-set-XF_INFORMANT_KEY").digest()
).decode()


class InvalidKey(ValueError):
    """The configured key is not 32 bytes in base64."""


class SealBroken(Exception):
    """A sealed value cannot be opened: ``reason`` is ``wrong_key``, ``tampered`` or
    ``malformed``."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_key(text: str) -> bytes:
    """The 32-byte key from its base64 (standard or URL-safe) text; :class:`InvalidKey` else."""
    raw = text.strip()
    try:  # URL-safe or standard alphabet, padding optional
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise InvalidKey("XF_INFORMANT_KEY must be base64 of 32 random bytes") from None
    if len(key) != KEY_BYTES:
        raise InvalidKey(
            f"XF_INFORMANT_KEY must be base64 of {KEY_BYTES} random bytes (got {len(key)})"
        )
    return key


def new_key() -> str:
    """A fresh key as text for XF_INFORMANT_KEY."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


class InformantCipher:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise InvalidKey(f"the key must be {KEY_BYTES} bytes")
        self._aead = AESGCM(key)
        self.key_id = hashlib.sha256(key).digest()[:KEY_ID_BYTES]

    def seal(self, plaintext: bytes, *, context: str) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        body = self._aead.encrypt(nonce, plaintext, context.encode())
        return bytes([VERSION]) + self.key_id + nonce + body

    def open(self, sealed: bytes, *, context: str) -> bytes:
        if len(sealed) < _HEADER + 16 or sealed[0] != VERSION:
            raise SealBroken("malformed")
        if sealed[1 : 1 + KEY_ID_BYTES] != self.key_id:
            raise SealBroken("wrong_key")
        nonce = sealed[1 + KEY_ID_BYTES : _HEADER]
        try:
            return self._aead.decrypt(nonce, sealed[_HEADER:], context.encode())
        except InvalidTag:
            raise SealBroken("tampered") from None

    def seal_json(self, value: Any, *, context: str) -> bytes:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        return self.seal(text.encode(), context=context)

    def open_json(self, sealed: bytes, *, context: str) -> Any:
        return json.loads(self.open(sealed, context=context))
