"""The data key that encrypts victims' personal data: checking it for the web service, and rotating it.

``SAPPER_DATA_KEY`` (base64, 32 bytes) is the key; the store keeps its id with every ciphertext. ``sapper keys
rotate --old OLD --new NEW`` re-encrypts every victim under the new key in one transaction (all or nothing), after
which the service runs with ``SAPPER_DATA_KEY=NEW``. See docs/security.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sapper.domain.users import AuditEntry
from sapper.errors import DataKeyError
from sapper.messages import msg
from sapper.store import Store
from sapper.store.accounts import audit_json
from sapper.store.cipher import DataKey, FieldCipher

#: Who the audit names for a rotation run from the command line.
CLI_ACTOR = "sapper keys rotate"


def cipher(key_text: str | None, *, name: str = "SAPPER_DATA_KEY") -> FieldCipher:
    """The cipher of the data key ``key_text`` (called ``name`` in messages); DataKeyError when there is none or it
    is malformed."""
    if key_text is None or not key_text.strip():
        raise DataKeyError(msg("no data key: set {name} to 32 random bytes, base64-encoded (docs/security.md)",
                               name=name))
    return FieldCipher(DataKey.parse(key_text, name=name))


def from_environment(variable: str = "SAPPER_DATA_KEY") -> FieldCipher | None:
    """The cipher of the key in the environment variable ``variable`` (read when called), or None when it is unset
    or empty; DataKeyError when it is malformed. The command line's field import and apply use it."""
    text = os.environ.get(variable)
    return cipher(text, name=variable) if text and text.strip() else None


def check_for_service(key_text: str | None, *, development: bool) -> FieldCipher | None:
    """The cipher the web service runs with. Outside development a missing or placeholder key is refused
    (DataKeyError: the service does not start); in development (``SAPPER_DEV=1`` or ``sapper serve --dev``) a
    placeholder is accepted, and without a key the victim routes answer 503."""
    if key_text is None or not key_text.strip():
        if development:
            return None
        raise DataKeyError(msg("no data key: set SAPPER_DATA_KEY to 32 random bytes, base64-encoded, or start with "
                               "--dev (SAPPER_DEV=1) for development only"))
    found = cipher(key_text)
    if found.key.is_placeholder and not development:
        raise DataKeyError(f"SAPPER_DATA_KEY is a placeholder (key {found.key_id}, from the documentation or all "
                           "one byte): make a real one; only --dev (SAPPER_DEV=1) starts with it")
    return found


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did: victims re-encrypted, the old and new key ids, and victims per key id afterwards."""

    reencrypted: int
    old_key_id: str
    new_key_id: str
    by_key: dict[str, int]


def rotate(store: Store, *, old: str, new: str, actor: str = CLI_ACTOR) -> Rotation:
    """Re-encrypt every victim from the key ``old`` to ``new`` in one transaction, with one audit row per victim
    (no personal value in it). DataKeyError, nothing changed, when a victim does not decrypt with ``old``."""
    old_cipher = cipher(old, name="the old key (--old)")
    new_cipher = cipher(new, name="the new key (--new)")
    if old_cipher.key_id == new_cipher.key_id:
        raise DataKeyError(msg("--old and --new are the same key ({key_id}): nothing to rotate",
                               key_id=new_cipher.key_id))
    with store.write() as uow:
        done = uow.reencrypt_victims(old_cipher, new_cipher)
        for victim_id in done:
            uow.audit(AuditEntry(actor, None, "victims", victim_id, "update", "data key rotation",
                                 audit_json({"key_id": old_cipher.key_id}), audit_json({"key_id": new_cipher.key_id})))
    return Rotation(len(done), old_cipher.key_id, new_cipher.key_id, store.victim_key_ids())
