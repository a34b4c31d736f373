"""The README's performance table is what the benchmarks printed, rendered, not hand-edited."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.bench import bench_script

ROOT = Path(__file__).resolve().parents[2]


results = bench_script("results")
table = bench_script("readme_table")


def test_a_row_printed_among_other_output_is_read_back(capsys: pytest.CaptureFixture) -> None:
    print("engine   38,600 jobs/s")
    results.emit("engine, 100k jobs", "38,600 jobs/s", "94,800 jobs/s", "0.41x", ">= 0.6x", False)
    results.emit("logs", "3.6 ms per read")
    rows = results.parse(capsys.readouterr().out)
    assert rows == [
        {"what": "engine, 100k jobs", "ours": "38,600 jobs/s", "baseline": "94,800 jobs/s",
         "ratio": "0.41x", "aim": ">= 0.6x", "met": False},
        {"what": "logs", "ours": "3.6 ms per read", "baseline": "", "ratio": "", "aim": "",
         "met": None},
    ]  # fmt: skip


def test_a_rendered_block_says_the_machine_and_round_trips_through_a_readme() -> None:
    rows = [
        {"what": "a -- b | c", "ours": "1", "baseline": "2", "ratio": "0.5x", "aim": ">= 0.6x",
         "met": False, "script": "engine.py"},
        {"what": "load", "ours": "p99 90 ms", "baseline": "", "ratio": "", "aim": "< 250 ms",
         "met": True, "script": "load.py"},
    ]  # fmt: skip
    block = table.render(rows, "Some CPU, 2 cores")
    assert "Machine: Some CPU, 2 cores." in block
    assert "| `engine.py` | a -- b | c | 1 | 2 | 0.5x | >= 0.6x | **not met** |" in block
    assert "| met |" in block
    comment = next(x for x in block.splitlines() if x.startswith(table.ROWS_MARK))
    assert "--" not in comment[len("<!--") : -len("-->")]  # an HTML comment may not hold "--"
    readme = f"# T\n\nbefore\n\n{table.BEGIN}\nold\n{table.END}\n\nafter\n"
    new = table.replace_block(readme, block)
    assert new.startswith("# T\n\nbefore\n\n") and new.endswith("\n\nafter\n")
    found, record = table.recorded(new)
    assert found == block
    assert record == {"machine": "Some CPU, 2 cores", "rows": rows}


def test_the_readme_table_is_exactly_what_its_recorded_rows_render_to() -> None:
    readme = (ROOT / "README.md").read_text()
    block, record = table.recorded(readme)
    assert block == table.render(record["rows"], record["machine"])
    scripts = {row["script"] for row in record["rows"]}
    assert scripts == {script for script, _, _ in table.SCRIPTS.values()}
