"""Pseudonymisation at the door: person identifiers become keyed HMAC-SHA256.

The same key gives the same pseudonym in every source, so a person's records
from housing, benefits and the GP link into one journey, while nobody without
the key can go back from the pseudonym to the identifier. Pseudonyms are the
first 128 bits of the HMAC, as 32 hex characters.

The key comes from the environment variable ``SYSTEMIC_KEY`` (at least 16
characters), or else from a key file: ``SYSTEMIC_KEY_FILE`` if set, otherwise
``~/.config/systemic/pseudonym.key``, created with 32 random bytes and
permissions 0600 on first use. The key is never written into a dataset.

>>> key = PseudonymKey(b"0123456789abcdef0123456789abcdef")
>>> p = key.pseudonym("NHS 943 476 5919")
>>> len(p), p == key.pseudonym("NHS 943 476 5919")
(32, True)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

import polars as pl

from systemic.data.errors import PseudonymKeyError

KEY_ENV = "SYSTEMIC_KEY"
KEY_FILE_ENV = "SYSTEMIC_KEY_FILE"
DEFAULT_KEY_FILE = Path("~/.config/systemic/pseudonym.key")
PSEUDONYM_HEX_CHARS = 32  # 128 bits
MIN_KEY_BYTES = 16


class PseudonymKey:
    """A secret key that turns identifiers into pseudonyms."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_KEY_BYTES:
            raise PseudonymKeyError(
                f"the pseudonymisation key has {len(secret)} bytes; use at least "
                f"{MIN_KEY_BYTES} (e.g. `python -c 'import secrets;print(secrets.token_hex(32))'`)"
            )
        self._secret = secret
        # HMAC-SHA256 by hand (RFC 2104) from the two keyed SHA-256 states:
        # copying C hash objects is about twice as fast as copying an HMAC.
        block = hashlib.sha256(secret).digest() if len(secret) > 64 else secret
        block = block.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))
        # A fingerprint lets a manifest say which key was used without
        # revealing it (HMAC of a fixed label, not of any identifier).
        self.fingerprint = hmac.new(
            secret, b"systemic-key-fingerprint", hashlib.sha256
        ).hexdigest()[:16]

    def __repr__(self) -> str:  # never show the secret
        return f"PseudonymKey(fingerprint={self.fingerprint})"

    def pseudonym(self, identifier: str) -> str:
        """The pseudonym of one identifier (surrounding whitespace ignored)."""
        return self.pseudonyms([identifier])[0]

    def pseudonyms(self, identifiers: list[str]) -> list[str]:
        """The pseudonyms of many identifiers, in order (the fast loop).

        >>> key = PseudonymKey(b"0123456789abcdef0123456789abcdef")
        >>> key.pseudonyms(["A1", " A1 "]) == [key.pseudonym("A1")] * 2
        True
        """
        inner, outer = self._inner.copy, self._outer.copy
        out: list[str] = []
        append = out.append
        for identifier in identifiers:
            h = inner()
            h.update(identifier.strip().encode("utf-8"))
            o = outer()
            o.update(h.digest())
            append(o.hexdigest()[:PSEUDONYM_HEX_CHARS])
        return out

    def pseudonymise(self, identifiers: pl.Series) -> pl.Series:
        """Pseudonymise a column; nulls and blanks stay null.

        Each distinct identifier is hashed once, so the cost follows the
        number of people, not the number of events.
        """
        s = identifiers.cast(pl.String).str.strip_chars()
        uniques = s.drop_nulls().unique()
        uniques = uniques.filter(uniques.str.len_bytes() > 0)
        values = uniques.to_list()
        mapping = dict(zip(values, self.pseudonyms(values), strict=True))
        if not mapping:
            return pl.Series(identifiers.name, [None] * len(s), dtype=pl.String)
        return s.replace_strict(mapping, default=None, return_dtype=pl.String).alias(
            identifiers.name
        )


def key_file_path() -> Path:
    """Where the key file is (or will be created)."""
    return Path(os.environ.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE).expanduser()


def load_key(*, create: bool = True) -> PseudonymKey:
    """The key from ``SYSTEMIC_KEY``, or the key file (created if absent).

    A key file readable by others is refused: set its mode to 0600.
    """
    env = os.environ.get(KEY_ENV)
    if env:
        return PseudonymKey(env.encode("utf-8"))
    path = key_file_path()
    if not path.exists():
        if not create:
            raise PseudonymKeyError(
                f"no pseudonymisation key: set {KEY_ENV} or create the key file {path}"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise PseudonymKeyError(
            f"the key file {path} is readable by others (mode {mode:o}): run `chmod 600 {path}`"
        )
    secret = path.read_text(encoding="utf-8").strip().encode("utf-8")
    return PseudonymKey(secret)
