"""The state file is one self-contained file, whole after every acknowledged command, and a
damaged one is refused naming the last good command, never loaded short (issue 11, item 2).

In-process (Flask test client), manual clock. "What a crash leaves" is the main file alone,
copied while the server still runs: no clean stop, no ``-journal`` or ``-wal`` beside it.
"""

from __future__ import annotations

import random
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from mock_server import persistence
from mock_server.app import create_app
from mock_server.persistence import StateFileError
from mock_server.testing import DEFAULT_START_EPOCH
from tests.reliability.support import JOB
from tests.reliability.test_persistence import WS_A, Api

COMMANDS = 24
LAST_GOOD = re.compile(r"the last good command is #(\d+) \((POST|DELETE) /|no command is readable")


def recorded(path: Path, n: int = COMMANDS) -> list[str]:
    """A file of ``n`` acknowledged commands (jobs, clock moves), closed cleanly; the job
    names in the order submitted."""
    app = create_app(state_file=path, start_epoch=DEFAULT_START_EPOCH)
    api = Api(app, WS_A)
    names = []
    for i in range(n):
        if i % 4 == 3:
            api.admin("POST", "clock/advance", json={"seconds": 30})
        else:
            body = {**JOB, "job_desc": f"job {i} " + "x" * 200}
            names.append(api.call("POST", "jobs", json=body)["job_name"])
    persistence.of(app).close()
    return names


def listed(app: object) -> list[str]:
    jobs = Api(app, WS_A).call("GET", "jobs", query_string={"region": "DGX2-MT"})["jobs"]
    return [j["job_name"] for j in jobs]


def test_the_main_file_alone_holds_every_acknowledged_command(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    app = create_app(state_file=path, start_epoch=DEFAULT_START_EPOCH)
    api = Api(app, WS_A)
    names = [api.call("POST", "jobs", json=JOB)["job_name"] for _ in range(5)]
    copy = tmp_path / "moved" / "state.db"
    copy.parent.mkdir()
    shutil.copyfile(path, copy)  # while the server runs: what a crash and a move leave
    assert not any(p.name.endswith("-wal") for p in tmp_path.iterdir())

    restarted = create_app(state_file=copy)
    assert persistence.resume(restarted) == 5
    assert sorted(listed(restarted)) == sorted(names)


def _truncate(path: Path, rng: random.Random) -> str:
    size = path.stat().st_size
    cut = rng.randrange(4096, size)
    with path.open("r+b") as f:
        f.truncate(cut)
    return f"truncated to {cut} of {size} bytes"


def _flip(path: Path, rng: random.Random) -> str:
    data = bytearray(path.read_bytes())
    where = rng.sample(range(100, len(data)), rng.choice((1, 3, 16)))  # past the SQLite header
    for i in where:
        data[i] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))
    return f"bits flipped at {sorted(where)}"


def _drop_tail(path: Path, rng: random.Random) -> str:
    k = rng.randint(1, 5)
    with closing(sqlite3.connect(path)) as db, db:
        db.execute("DELETE FROM commands WHERE seq > (SELECT max(seq) FROM commands) - ?", (k,))
    return f"last {k} commands deleted"


@pytest.mark.parametrize("damage", [_truncate, _flip, _drop_tail])
def test_a_damaged_file_is_refused_or_loaded_whole_never_short(tmp_path: Path, damage) -> None:
    pristine = tmp_path / "pristine.db"
    names = recorded(pristine)
    rng = random.Random(damage.__name__)
    refused = whole = 0
    for trial in range(12):
        path = tmp_path / f"damaged-{trial}.db"
        shutil.copyfile(pristine, path)
        what = damage(path, rng)
        try:
            app = create_app(state_file=path)
            replayed = persistence.resume(app)
        except StateFileError as exc:
            assert LAST_GOOD.search(str(exc)) or "not an mlspace-sim state file" in str(exc), (
                what,
                str(exc),
            )
            refused += 1
            continue
        # loaded: then every command is there (a flip in unused space changes nothing)
        assert replayed == COMMANDS, (what, replayed)
        assert sorted(listed(app)) == sorted(names), what
        persistence.of(app).close()
        whole += 1
    assert refused + whole == 12 and refused >= 6, (refused, whole)


def test_the_refusal_names_the_last_good_command(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    recorded(path)
    with closing(sqlite3.connect(path)) as db, db:  # command #11 changed
        db.execute(
            "UPDATE commands SET body = CAST(replace(CAST(body AS TEXT), 'job 10', 'job 99') "
            "AS BLOB) WHERE seq = 11"
        )
    with pytest.raises(StateFileError) as caught:
        create_app(state_file=path)
    message = str(caught.value)
    assert "command #11 is missing or does not match its hash" in message
    assert "the last good command is #10 (POST /public/v2/jobs at 2025-02-26T10:01:00Z" in message
    assert "refusing to load it short" in message


def test_a_missing_tail_is_refused_with_the_count(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    recorded(path)
    _drop_tail(path, random.Random(1))  # drops the last 2 (seeded)
    with pytest.raises(StateFileError, match=r"24 commands recorded, 22 present"):
        create_app(state_file=path)
