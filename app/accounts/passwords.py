"""Password hashing with argon2 and the strength rules users see on the forms."""

from contextlib import suppress
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask_babel import lazy_gettext as _l

MIN_LENGTH = 10
MAX_LENGTH = 128
_hasher = PasswordHasher()


@cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A real hash of a fixed string, made with `hasher`'s own costs and verified against when the
    account does not exist, so a login takes as long whether or not the account is there.

    Made on first use, not at import: an argon2 hash is slow on purpose, and every process (each
    `flask` command, each worker) would pay for it at start-up whether or not anyone signs in.
    """
    return hasher.hash("no-such-account-placeholder")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    # Fetched before looking at the hash, whether or not there is one: the first sign-in in a process
    # pays for making it either way, so even that one does not tell a known account from an unknown.
    dummy = _dummy_hash(_hasher)
    try:
        return _hasher.verify(password_hash or dummy, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    path = Path(__file__).parent / "data" / "common_passwords.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _is_run(text: str) -> bool:
    """All one character, or a straight run up or down (1234567890, abcdefghij)."""
    if len(set(text)) == 1:
        return True
    steps = {ord(b) - ord(a) for a, b in pairwise(text)}
    return steps in ({1}, {-1})


def _personal_variants(item: str) -> set[str]:
    """The item as stored, and for an E.164 phone also the number as people type it (13800138000)."""
    item = (item or "").lower()
    variants = {item.lstrip("+")}
    if item.startswith("+"):
        import phonenumbers  # loaded on first use: see app.accounts.phones

        with suppress(phonenumbers.NumberParseException):
            variants.add(str(phonenumbers.parse(item).national_number))
    return variants


def password_problem(password: str, *, personal: tuple[str, ...] = ()) -> str | None:
    """Return the reason a password is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return str(_l("Use at least %(count)d characters.", count=MIN_LENGTH))
    if len(password) > MAX_LENGTH:
        return str(_l("Use at most %(count)d characters.", count=MAX_LENGTH))
    lowered = password.lower()
    if lowered in common_passwords() or _is_run(lowered):
        return str(_l("This password is too common. Choose one that is harder to guess."))
    for item in personal:
        for variant in _personal_variants(item):
            if len(variant) >= 4 and (variant in lowered or lowered in variant):
                return str(_l("Do not use your email address or phone number in the password."))
    return None
