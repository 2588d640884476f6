"""Start-up hashes no password and imports no Stripe; an unknown account still costs a real argon2 verify.

No timings here (the machines are shared): what is checked is what runs, not how long it takes.
bench/startup.py measures the time.
"""

import subprocess
import sys
from pathlib import Path

from argon2 import PasswordHasher, extract_parameters

from app.accounts import passwords

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: in this one the app, argon2 and stripe may already be imported.
STARTUP_PROBE = """
import sys
import argon2

hashed = []
real_hash = argon2.PasswordHasher.hash
argon2.PasswordHasher.hash = lambda self, *args, **kw: hashed.append(args) or real_hash(self, *args, **kw)

from app.accounts import passwords
assert not hashed, f"importing app.accounts.passwords hashed {len(hashed)} time(s)"
assert passwords._dummy_hash.cache_info().currsize == 0

from app import create_app
create_app("testing")
assert not hashed, f"create_app() hashed {len(hashed)} time(s)"
assert "stripe" not in sys.modules, "create_app() imported stripe"
print("ok")
"""


def test_importing_the_app_hashes_no_password_and_imports_no_stripe():
    result = subprocess.run([sys.executable, "-c", STARTUP_PROBE],  # noqa: S603  (a fixed argv, no shell)
                            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def _spy(monkeypatch, method: str) -> list:
    calls = []
    real = getattr(PasswordHasher, method)

    def spy(self, *args, **kwargs):
        calls.append((self, args))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(PasswordHasher, method, spy)
    return calls


def test_an_unknown_account_is_verified_against_a_real_hash_made_with_the_production_costs(monkeypatch):
    verified = _spy(monkeypatch, "verify")

    assert passwords.verify_password(None, "correct horse battery staple") is False

    [(hasher, (dummy, password))] = verified
    assert hasher is passwords._hasher and password == "correct horse battery staple"
    assert dummy == passwords._dummy_hash(passwords._hasher)
    assert extract_parameters(dummy) == extract_parameters(passwords._hasher.hash("any"))


def test_the_dummy_is_made_once_per_hasher_and_on_the_first_sign_in_whether_or_not_the_account_exists(
        monkeypatch):
    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    known = cheap.hash("a known password")
    monkeypatch.setattr(passwords, "_hasher", cheap)
    hashed, verified = _spy(monkeypatch, "hash"), _spy(monkeypatch, "verify")

    # A known account's first sign-in makes the dummy too, so it costs what an unknown one's would.
    assert passwords.verify_password(known, "a known password") is True
    assert len(hashed) == 1 and verified[-1][1] == (known, "a known password")

    assert passwords.verify_password(None, "a known password") is False
    assert passwords.verify_password(known, "wrong password") is False
    assert len(hashed) == 1, "the dummy is made once, then reused"
    assert verified[-2][1] == (passwords._dummy_hash(cheap), "a known password")
    assert len(verified) == 3
