"""The what-if's plots drawn by worker processes are the very plots this process draws."""

from __future__ import annotations

import pytest

from simulator.whatif import WhatIfResult, plot_workers, run_whatif
from simulator.whatif.plot_workers import plot_renderer
from simulator.whatif.plots import PLOTS, render_all
from tests.whatif.helpers import config, job, notebook


@pytest.fixture(scope="module")
def result() -> WhatIfResult:
    items = [job(0.0, 600.0), job(30.0, 1200.0, workspace="nlp"), notebook(0.0, 60, 60)]
    return run_whatif(items, [config("one GPU", [1]), config("two GPUs", [2])], executor="serial")


def test_two_workers_draw_every_plot_byte_for_byte(result):
    with plot_renderer(workers=2) as plots:
        plots.start()
        assert plots.pool is not None
        images = plots.render(result)
    assert list(images) == list(PLOTS)
    assert images == render_all(result)


def test_workers_not_started_early_start_at_the_first_render(result):
    with plot_renderer(workers=2) as plots:
        assert plots.pool is None
        assert plots.render(result) == render_all(result)
        assert plots.pool is not None


def test_with_one_core_the_plots_are_drawn_here(result, monkeypatch):
    monkeypatch.setattr(plot_workers, "usable_cores", lambda: 1)
    with plot_renderer() as plots:
        plots.start()
        assert plots.pool is None
        assert plots.render(result) == render_all(result)


def test_the_drawing_order_has_every_plot_once():
    from simulator.whatif.plots import LONGEST_FIRST

    assert sorted(LONGEST_FIRST) == sorted(PLOTS)


def test_the_warm_up_leaves_no_figure_open_and_changes_no_plot(result):
    import matplotlib.pyplot as plt

    from simulator.whatif.plots import warm_up

    before = render_all(result)
    warm_up()
    assert plt.get_fignums() == []
    assert render_all(result) == before
