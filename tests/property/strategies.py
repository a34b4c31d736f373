"""Hypothesis strategies for workloads on the small topology of :mod:`invariants`."""

from __future__ import annotations

from hypothesis import strategies as st

from simulator.scheduler import PRIORITY_CLASSES
from tests.property.invariants import JOB_TYPES

SCRIPTS = ("/home/jovyan/train.py", "/home/jovyan/llm/finetune.py", "/tmp/train.py", "")


@st.composite
def job_args(draw: st.DrawFn) -> dict:
    """Keyword arguments for :func:`tests.unit.builders.job`: any type, size, class, fate."""
    region, itype = draw(st.sampled_from(JOB_TYPES))
    fate = draw(
        st.one_of(
            st.just({}),
            st.fixed_dictionaries({"runtime_s": st.floats(0, 3000)}),
            st.fixed_dictionaries({"outcome": st.sampled_from(["success", "failure"])}),
        )
    )
    return {
        "instance_type": itype,
        "region": region,
        "n_workers": draw(st.integers(1, 4)),
        "priority_class": draw(st.sampled_from((*PRIORITY_CLASSES, None))),
        "type": draw(st.sampled_from(["pytorch2", "horovod", "binary", "pytorch_elastic"])),
        "script": draw(st.sampled_from(SCRIPTS)),
        **fate,
    }


def waits() -> st.SearchStrategy[float]:
    """Virtual seconds to let pass: often short (start-up, kills mid-way), sometimes long."""
    return st.one_of(
        st.sampled_from([0.0, 1.0, 17.1, 60.0]),
        st.floats(0, 120),
        st.floats(0, 4000),
    )
