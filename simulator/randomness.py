"""Per-entity random streams derived from (world seed, entity id).

Each entity draws from its own stream, so an unrelated request can never shift another job's
runtime, logs or name: same seed plus same commands at the same virtual times gives the same world.
"""

from __future__ import annotations

import hashlib
import random
import uuid

NAMESPACE = uuid.UUID("5f1c1d64-1d0e-4c1b-9a36-6d2b8b8f5e11")


def stable_uuid(*parts: str) -> str:
    """A name-based (v5) UUID of ``parts``: the same parts give the same id in every run."""
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def derive_bits(seed: int, *parts: object, size: int = 16) -> int:
    """``size`` bytes of bits that depend only on ``seed`` and ``parts``."""
    text = "\x1f".join([str(seed), *map(str, parts)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=size).digest(), "big")


def derive_seed(seed: int, *parts: object) -> int:
    """A 64-bit seed that depends only on ``seed`` and ``parts``."""
    return derive_bits(seed, *parts, size=8)


def stream(seed: int, *parts: object) -> random.Random:
    """An independent random stream for one entity (or one purpose of one entity)."""
    return random.Random(derive_seed(seed, *parts))


def uuid4_from(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID drawn from ``rng`` instead of the OS entropy pool."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_BITS = (0x4000 << 64) | (0x8000 << 48)


def uuid4_str(bits: int) -> str:
    """The text of ``uuid.UUID(int=bits, version=4)``, without building the object (hot path)."""
    h = ((bits & _VERSION_MASK) | _VERSION_BITS).to_bytes(16, "big").hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_MASK_53 = (1 << 53) - 1
_SCALE_53 = float(1 << 53)


def unit_interval(bits: int) -> float:
    """A float in [0, 1) from 53 of ``bits``' bits: a cheap per-entity draw without a stream."""
    return (bits & _MASK_53) / _SCALE_53


_SUB_MICRO_ULP = 2.0**33  # below it a float's spacing is under 1e-6


def instant_text(seconds: float) -> str:
    """``repr(round(seconds, 6))`` with one correctly rounded formatting instead of two (hot
    path: every new entity's bits hash it). The same text: below 2**33 s a float's spacing is
    under 1e-6, so each 6-decimal value rounds to a float of its own that no shorter decimal
    rounds to, and from 1e-4 up repr writes floats without an exponent. Other values, and ints
    (SimPy's clock is one until a float delay moves it), take round and repr."""
    if type(seconds) is float and 1e-4 <= seconds < _SUB_MICRO_ULP:
        text = f"{seconds:.6f}".rstrip("0")
        return text + "0" if text[-1] == "." else text
    return repr(round(seconds, 6))
