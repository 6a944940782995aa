"""Envelope encryption of stored files (docs/security.md, "A. Encryption at rest").

Every file gets its own random 256-bit data key; the file is encrypted with it by
AES-256-GCM, and the data key is kept in the file's header, wrapped (AES-256-GCM too) by
a master key named by its id. Master keys come from the environment
(``FILE_ENCRYPTION_KEYS``); rotating one rewrites the header only (``rewrap``).

The layout of an encrypted file::

    magic  b"VNTLENC"        7 bytes
    format version (1)       1 byte
    body nonce              12 bytes   the nonce of the file's content
    key id length            1 byte
    key id                   1-32 bytes (ASCII letters, digits, "-" and "_")
    wrap nonce              12 bytes
    wrapped data key        48 bytes   the 32-byte data key and its 16-byte GCM tag
    ciphertext + GCM tag    plaintext size + 16 bytes

The content's associated data is the fixed prefix (magic, version, body nonce), which a
rotation never changes, so the content is not re-encrypted (never the same key and nonce
over different associated data). The wrapped key's associated data is that prefix plus the
key id. Every header byte is therefore authenticated: a changed byte anywhere makes
decryption fail with ``FileDecryptionError`` instead of returning other bytes.

Files are encrypted and decrypted whole, in memory: uploads are at most 5 MB (the stored
video too; only the conversion's input may reach 100 MB, and it is never stored).
"""

import base64
import binascii
import os
import re
import struct
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"VNTLENC"
FORMAT_VERSION = 1
NONCE_BYTES = 12
KEY_BYTES = 32
TAG_BYTES = 16
WRAPPED_KEY_BYTES = KEY_BYTES + TAG_BYTES
_PREFIX = struct.Struct(f"!{len(MAGIC)}sB{NONCE_BYTES}sB")
KEY_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class FileEncryptionError(Exception):
    """Base of the errors of this module."""


class FileDecryptionError(FileEncryptionError):
    """A stored file cannot be decrypted: missing master key, altered or truncated file,
    or a file written before encryption at rest. The message tells the operator which."""


class MasterKeyError(FileEncryptionError, ValueError):
    """FILE_ENCRYPTION_KEYS is malformed."""


@dataclass(frozen=True)
class MasterKey:
    key_id: str
    key: bytes

    def __repr__(self) -> str:  # never print the key itself
        return f"MasterKey({self.key_id!r})"


@dataclass(frozen=True)
class KeyRing:
    """The master keys: the first encrypts new files, all of them decrypt."""

    keys: tuple[MasterKey, ...]

    @property
    def current(self) -> MasterKey:
        return self.keys[0]

    def get(self, key_id: str) -> MasterKey | None:
        return next((k for k in self.keys if k.key_id == key_id), None)

    @property
    def ids(self) -> list[str]:
        return [k.key_id for k in self.keys]


def master_key_generate(key_id: str) -> str:
    """A new master key as FILE_ENCRYPTION_KEYS expects it: ``id:base64(32 random bytes)``."""
    if not KEY_ID_PATTERN.match(key_id):
        raise MasterKeyError(
            f"Key id {key_id!r}: use 1-32 ASCII letters, digits, '-' or '_' (e.g. k2026a)."
        )
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


def keyring_parse(entries: list[str] | str) -> KeyRing:
    """Read FILE_ENCRYPTION_KEYS (a list, or the comma-separated text) into a key ring.

    Raises MasterKeyError, naming the entry (never the key), if one is malformed."""
    if isinstance(entries, str):
        entries = entries.split(",")
    keys: list[MasterKey] = []
    for position, entry in enumerate((e.strip() for e in entries if e.strip()), start=1):
        key_id, sep, encoded = entry.partition(":")
        key_id = key_id.strip()
        if not sep or not KEY_ID_PATTERN.match(key_id):
            raise MasterKeyError(
                f"FILE_ENCRYPTION_KEYS entry {position} is not 'id:base64key' with an id of "
                "1-32 letters, digits, '-' or '_'. Generate one with "
                "`manage.py file_key_generate`."
            )
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise MasterKeyError(
                f"FILE_ENCRYPTION_KEYS key {key_id!r} is not {KEY_BYTES} bytes in base64. "
                "Generate one with `manage.py file_key_generate`."
            )
        if any(k.key_id == key_id for k in keys):
            raise MasterKeyError(f"FILE_ENCRYPTION_KEYS names the key id {key_id!r} twice.")
        keys.append(MasterKey(key_id=key_id, key=key))
    if not keys:
        raise MasterKeyError(
            "FILE_ENCRYPTION_KEYS is empty. Generate a key with `manage.py file_key_generate`."
        )
    return KeyRing(keys=tuple(keys))


@dataclass(frozen=True)
class Header:
    body_nonce: bytes
    key_id: str
    wrap_nonce: bytes
    wrapped_key: bytes
    length: int  # bytes of the header in the file

    @property
    def prefix(self) -> bytes:
        return _PREFIX.pack(MAGIC, FORMAT_VERSION, self.body_nonce, len(self.key_id))[:-1]

    def wrap_associated_data(self) -> bytes:
        return self.prefix + self.key_id.encode("ascii")

    def pack(self) -> bytes:
        key_id = self.key_id.encode("ascii")
        return (
            _PREFIX.pack(MAGIC, FORMAT_VERSION, self.body_nonce, len(key_id))
            + key_id
            + self.wrap_nonce
            + self.wrapped_key
        )


def is_encrypted(data: bytes) -> bool:
    """Whether the bytes start like a file written by this module (any version)."""
    return data[: len(MAGIC)] == MAGIC


def header_read(data: bytes, *, name: str = "") -> Header:
    """Parse the header at the start of ``data`` (the file, or at least its first 128 bytes)."""
    where = f" ({name})" if name else ""
    if not is_encrypted(data):
        raise FileDecryptionError(
            f"The stored file{where} is not encrypted: it was written before encryption at "
            "rest, or by something else. Encrypt such files with "
            "`manage.py rotate_file_keys --encrypt-plaintext`."
        )
    if len(data) < _PREFIX.size:
        raise FileDecryptionError(f"The stored file{where} is truncated: its header is cut.")
    _magic, version, body_nonce, id_length = _PREFIX.unpack_from(data)
    if version != FORMAT_VERSION:
        raise FileDecryptionError(
            f"The stored file{where} has encryption format version {version}; this version of "
            f"Ventanilla reads version {FORMAT_VERSION} only."
        )
    start = _PREFIX.size
    length = start + id_length + NONCE_BYTES + WRAPPED_KEY_BYTES
    if id_length == 0 or len(data) < length:
        raise FileDecryptionError(f"The stored file{where} is truncated or its header altered.")
    try:
        key_id = data[start : start + id_length].decode("ascii")
    except UnicodeDecodeError:
        raise FileDecryptionError(f"The stored file{where} has an altered header.") from None
    nonce_at = start + id_length
    return Header(
        body_nonce=body_nonce,
        key_id=key_id,
        wrap_nonce=data[nonce_at : nonce_at + NONCE_BYTES],
        wrapped_key=data[nonce_at + NONCE_BYTES : length],
        length=length,
    )


def _wrap(master: MasterKey, header_prefix: bytes, data_key: bytes) -> tuple[bytes, bytes]:
    nonce = os.urandom(NONCE_BYTES)
    wrapped = AESGCM(master.key).encrypt(
        nonce, data_key, header_prefix + master.key_id.encode("ascii")
    )
    return nonce, wrapped


def _unwrap(ring: KeyRing, header: Header, *, name: str) -> bytes:
    where = f" {name}" if name else ""
    master = ring.get(header.key_id)
    if master is None:
        raise FileDecryptionError(
            f"The stored file{where} was encrypted with master key {header.key_id!r}, which "
            f"FILE_ENCRYPTION_KEYS does not hold (it holds: {', '.join(ring.ids)}). Add that "
            "key back (after the current one) until `manage.py rotate_file_keys` has re-wrapped "
            "every file."
        )
    try:
        return AESGCM(master.key).decrypt(
            header.wrap_nonce, header.wrapped_key, header.wrap_associated_data()
        )
    except InvalidTag:
        raise FileDecryptionError(
            f"The data key of the stored file{where} does not open with master key "
            f"{header.key_id!r}: the key under that id is not the one the file was written "
            "with, or the file's header was altered."
        ) from None


def encrypt(plaintext: bytes, ring: KeyRing) -> bytes:
    """The encrypted file for ``plaintext``, under the ring's current master key."""
    return b"".join(encrypt_parts(plaintext, ring))


def encrypt_parts(plaintext: bytes, ring: KeyRing) -> tuple[bytes, bytes]:
    """The encrypted file as (header, body), to be written one after the other: a storage
    that writes them in turn saves a copy of a file of several megabytes."""
    master = ring.current
    data_key = AESGCM.generate_key(bit_length=256)
    body_nonce = os.urandom(NONCE_BYTES)
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, body_nonce, 0)[:-1]
    wrap_nonce, wrapped_key = _wrap(master, prefix, data_key)
    header = Header(
        body_nonce=body_nonce,
        key_id=master.key_id,
        wrap_nonce=wrap_nonce,
        wrapped_key=wrapped_key,
        length=0,
    )
    body = AESGCM(data_key).encrypt(body_nonce, plaintext, prefix)
    return header.pack(), body


def decrypt(data: bytes, ring: KeyRing, *, name: str = "") -> bytes:
    """The plaintext of an encrypted file; FileDecryptionError if it cannot be trusted."""
    header = header_read(data, name=name)
    data_key = _unwrap(ring, header, name=name)
    try:
        return AESGCM(data_key).decrypt(header.body_nonce, data[header.length :], header.prefix)
    except InvalidTag:
        where = f" {name}" if name else ""
        raise FileDecryptionError(
            f"The stored file{where} was altered or truncated (its content does not match "
            f"its authentication tag; master key {header.key_id!r}). Restore it from a backup."
        ) from None


def rewrap(data: bytes, ring: KeyRing, *, name: str = "") -> bytes | None:
    """The same file with its data key wrapped by the ring's current master key, or None if
    it already is. The content is checked whole first, so a damaged file is never rewritten;
    the ciphertext itself is kept as it is."""
    header = header_read(data, name=name)
    if header.key_id == ring.current.key_id:
        return None
    decrypt(data, ring, name=name)  # proves the key and the content before anything changes
    data_key = _unwrap(ring, header, name=name)
    wrap_nonce, wrapped_key = _wrap(ring.current, header.prefix, data_key)
    new_header = Header(
        body_nonce=header.body_nonce,
        key_id=ring.current.key_id,
        wrap_nonce=wrap_nonce,
        wrapped_key=wrapped_key,
        length=0,
    )
    return new_header.pack() + data[header.length :]


def plaintext_size(encrypted_size: int, header: Header) -> int:
    """The size of the original file, from the encrypted file's size and header."""
    return encrypted_size - header.length - TAG_BYTES


if __name__ == "__main__":
    # `python -m ventanilla.documents.encryption [KEY_ID]`: a new master key, without Django
    # settings (production settings refuse to start before FILE_ENCRYPTION_KEYS is set).
    import datetime as dt
    import sys

    today = dt.datetime.now(tz=dt.UTC).date()
    print(master_key_generate(sys.argv[1] if len(sys.argv) > 1 else f"k{today:%Y%m%d}"))
