"""Per-field encryption of personal data (victims of accidents): AES-256-GCM from ``cryptography``.

The data key is 32 random bytes, given base64-encoded (``SAPPER_DATA_KEY``; make one with
``python -c "import base64, os; print(base64.b64encode(os.urandom(32)).decode())"``). Each field is encrypted on its
own with a fresh 96-bit nonce, and stored as the text ``v1:<key id>:<base64 nonce ‖ ciphertext ‖ tag>``. The key id
(the first 8 hex digits of the SHA-256 of the key) is stored with every ciphertext, so a store can tell which key a
value needs and ``sapper keys rotate`` can re-encrypt everything under a new one. The associated data binds each
ciphertext to its table, record and field (``victims/V-1/name``): a value copied into another record or field does
not decrypt.

Errors are one line: a missing, malformed or placeholder key, or a value under another key or tampered with
(:class:`sapper.errors.DataKeyError`); the key itself never appears in a message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sapper.errors import DataKeyError

#: The prefix of every ciphertext sapper writes (the format's version).
VERSION = "v1"
_NONCE = 12

#: The key the documentation and the development examples use (docs/security.md): never a secret.
EXAMPLE_KEY = base64.b64encode(b"sapper-example-key-do-not-use-it").decode()
#: Keys that are not secrets: refused by ``sapper serve`` outside development.
PLACEHOLDER_KEYS = frozenset({base64.b64encode(bytes(32)).decode(), EXAMPLE_KEY})


@dataclass(frozen=True, slots=True)
class DataKey:
    """One AES-256 key and its id. Never printed (``repr`` shows the id only)."""

    secret: bytes = field(repr=False)

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.secret).hexdigest()[:8]

    @classmethod
    def parse(cls, text: str, *, name: str = "SAPPER_DATA_KEY") -> DataKey:
        """The key from its base64 text; DataKeyError (naming ``name``, not the value) when it is not 32 bytes."""
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise DataKeyError(f"{name} is not base64 text (give 32 random bytes, base64-encoded)") from None
        if len(secret) != 32:
            raise DataKeyError(f"{name} is {len(secret)} bytes once decoded: an AES-256 key is 32 bytes")
        return cls(secret)

    @classmethod
    def generate(cls) -> DataKey:
        return cls(os.urandom(32))

    @property
    def text(self) -> str:
        """The key as base64 text (what ``SAPPER_DATA_KEY`` holds)."""
        return base64.b64encode(self.secret).decode()

    @property
    def is_placeholder(self) -> bool:
        """A key from the documentation, or one whose bytes are all the same: not a secret."""
        return self.text in PLACEHOLDER_KEYS or len(set(self.secret)) == 1


def is_ciphertext(value: str) -> bool:
    return value.startswith(VERSION + ":")


def key_id_of(value: str) -> str:
    """The id of the key a stored ciphertext was made with."""
    parts = value.split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        raise DataKeyError("a stored value is not a sapper ciphertext (v1:<key id>:<data>)")
    return parts[1]


class FieldCipher:
    """Encrypts with ``key``; decrypts with it or any of ``older`` (the keys a rotation moves away from)."""

    def __init__(self, key: DataKey, *older: DataKey) -> None:
        self.key = key
        self._keys = {k.key_id: k for k in (*older, key)}

    @property
    def key_id(self) -> str:
        return self.key.key_id

    def fingerprint(self, plaintext: str, *, where: str) -> str:
        """A keyed digest of ``plaintext`` in the field ``where`` (HMAC-SHA256 under a key derived from the data
        key): equal for equal values, so a staged submission's answers can be compared without keeping them in
        clear, and useless without the key (a name or birth date cannot be guessed from it by trying values)."""
        derived = hmac.new(self.key.secret, b"sapper fingerprint v1", hashlib.sha256).digest()
        digest = hmac.new(derived, where.encode("utf-8") + b"\0" + plaintext.encode("utf-8"), hashlib.sha256)
        return f"h1:{self.key.key_id}:{digest.hexdigest()}"

    def encrypt(self, plaintext: str, *, where: str) -> str:
        """``plaintext`` encrypted for the field ``where`` (``table/record/field``, the associated data)."""
        nonce = os.urandom(_NONCE)
        sealed = AESGCM(self.key.secret).encrypt(nonce, plaintext.encode("utf-8"), where.encode("utf-8"))
        return f"{VERSION}:{self.key.key_id}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, value: str, *, where: str) -> str:
        """The plaintext of a stored ``value`` of the field ``where``; DataKeyError when no key given here made it,
        or it was changed or moved from another record or field."""
        key_id = key_id_of(value)
        key = self._keys.get(key_id)
        if key is None:
            raise DataKeyError(f"{where} is encrypted with key {key_id}, and the data key given is {self.key_id}: "
                               "set SAPPER_DATA_KEY to the key the store was written with")
        try:
            raw = base64.b64decode(value.split(":", 2)[2], validate=True)
            return AESGCM(key.secret).decrypt(raw[:_NONCE], raw[_NONCE:], where.encode("utf-8")).decode("utf-8")
        except (InvalidTag, binascii.Error, ValueError):
            raise DataKeyError(f"{where} does not decrypt with key {key_id}: the value was altered or belongs to "
                               "another record") from None
