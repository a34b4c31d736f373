"""The hot-path stand-ins of :mod:`simulator.randomness` give exactly what the library gives."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from simulator.randomness import instant_text, unit_interval, uuid4_str

BITS = st.integers(min_value=0, max_value=(1 << 128) - 1)
CLOCKS = st.one_of(
    st.floats(min_value=0.0, max_value=2.0**40),  # either side of the formatting's 2**33 bound
    st.floats(min_value=0.0, max_value=1e-3),  # either side of repr's 1e-4 exponent bound
    st.integers(min_value=0, max_value=2**40).map(lambda n: n / 2**20),  # halfway cases
    st.integers(min_value=0, max_value=2**40),  # SimPy's int clock
)


@given(BITS)
def test_uuid4_str_is_the_text_of_the_version_4_uuid(bits: int) -> None:
    assert uuid4_str(bits) == str(uuid.UUID(int=bits, version=4))


@given(BITS)
def test_unit_interval_takes_the_low_53_bits(bits: int) -> None:
    value = unit_interval(bits)
    assert 0.0 <= value < 1.0
    assert value * 2.0**53 == bits % 2**53


@given(CLOCKS)
def test_instant_text_is_the_text_of_the_rounded_instant(seconds: float) -> None:
    assert instant_text(seconds) == repr(round(seconds, 6))
