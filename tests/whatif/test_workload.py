"""Workload sources: generator, files, public traces, a server's journal."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace

import pytest

from simulator.config import load_config
from simulator.whatif import run_whatif
from simulator.workload import (
    GeneratorSpec,
    TraceMapping,
    WorkloadError,
    generate,
    import_trace,
    read_workload,
    workload_from_journal,
    write_workload,
)
from tests.whatif.helpers import config, job, notebook


@pytest.fixture(scope="module")
def four_weeks():
    return generate(GeneratorSpec(seed=3, days=28, jobs_per_day=200, notebooks_per_day=5))


def test_generator_is_seeded(four_weeks):
    spec = GeneratorSpec(seed=3, days=28, jobs_per_day=200, notebooks_per_day=5)
    assert generate(spec) == four_weeks
    other = generate(replace(spec, seed=4))
    assert other != four_weeks
    assert {it.workspace for it in other} == {it.workspace for it in four_weeks}  # same team
    assert {it.workspace for it in generate(replace(spec, people_seed=1))} != {
        it.workspace for it in four_weeks
    }


def test_generator_rates_rhythm_and_mix(four_weeks):
    jobs = [it for it in four_weeks if it.kind == "job"]
    books = [it for it in four_weeks if it.kind == "notebook"]
    assert 28 * 200 * 0.95 < len(jobs) < 28 * 200 * 1.05
    assert 28 * 5 * 0.7 < len(books) < 28 * 5 * 1.3
    assert [it.submit_s for it in four_weeks] == sorted(it.submit_s for it in four_weeks)
    weekday = Counter(int(it.submit_s // 86400) % 7 < 5 for it in jobs)
    assert weekday[True] / 5 > 2.5 * weekday[False] / 2  # working days are busier
    hour = Counter(int(it.submit_s // 3600) % 24 for it in jobs)
    assert hour[11] > 5 * hour[3]  # and working hours
    types = Counter(it.instance_type for it in jobs)
    assert types["a100.1gpu"] / len(jobs) == pytest.approx(0.5, abs=0.03)
    assert Counter(it.n_workers for it in jobs)[1] / len(jobs) == pytest.approx(0.8, abs=0.03)
    runs = sorted(it.run_s for it in jobs)
    assert runs[len(runs) // 2] == pytest.approx(1800, rel=0.1)  # log-normal median
    assert all(it.active_s > 0 and it.idle_s > 0 for it in books)
    assert len({it.workspace for it in four_weeks}) == 3
    assert all("@" in it.author and it.name for it in jobs)


def test_file_formats_round_trip(tmp_path, four_weeks):
    items = [
        *four_weeks[:50],
        job(7.5, 12.0, outcome="killed", kill_s=9.0),
        job(8.0, None, outcome=""),
    ]
    items.sort(key=lambda it: it.submit_s)
    for name in ("w.csv", "w.json"):
        write_workload(items, tmp_path / name)
        assert read_workload(tmp_path / name) == items
    doc = json.loads((tmp_path / "w.json").read_text())
    assert doc["format"] == "mlspace-sim/workload" and "active_s" not in doc["items"][0]


def test_records_read_from_a_file_share_their_repeated_texts(tmp_path, four_weeks):
    """A million records name a few dozen workspaces, types and authors: one object each."""
    for name in ("w.csv", "w.json"):
        write_workload(four_weeks, tmp_path / name)
        read = read_workload(tmp_path / name)
        for field in ("workspace", "author", "kind", "region", "instance_type"):
            assert len({id(getattr(it, field)) for it in read}) == len(
                {getattr(it, field) for it in read}
            )


def test_hand_written_csv_with_blanks(tmp_path):
    path = tmp_path / "mine.csv"
    path.write_text(
        "submit_s,workspace,author,kind,region,instance_type,n_workers,run_s,active_s,idle_s\n"
        "0,team,ann,job,A100-MT,a100.2gpu,2,600,,\n"
        "60,team,bob,notebook,A100-MT,a100.1gpu,,,3600,1800\n"
    )
    first, second = read_workload(path)
    assert (first.n_workers, first.run_s, first.priority, first.outcome) == (2, 600.0, "medium", "")
    assert (second.kind, second.end_s) == ("notebook", 60 + 3600 + 1800)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("0,t,a,job,A100-MT,a100.1gpu,0,10,", "n_workers"),
        ("0,t,a,lab,A100-MT,a100.1gpu,1,10,", "kind"),
        ("x,t,a,job,A100-MT,a100.1gpu,1,10,", "not a number"),
        ("0,t,a,job,A100-MT,a100.1gpu,1,10,killed", "kill_s"),
        ("0,t,a,job,,a100.1gpu,1,10,", "region"),
    ],
)
def test_bad_records_are_refused_with_their_line(tmp_path, row, message):
    path = tmp_path / "bad.csv"
    path.write_text(
        f"submit_s,workspace,author,kind,region,instance_type,n_workers,run_s,outcome\n{row}\n"
    )
    with pytest.raises(WorkloadError, match=message) as err:
        read_workload(path)
    assert "bad.csv:2" in str(err.value)


def test_public_trace_columns_map_to_jobs(tmp_path):
    path = tmp_path / "cluster_log.csv"
    path.write_text(
        "job_id,user,vc,gpu_num,cpu_num,node_num,state,submit_time,start_time,end_time,duration,queue\n"
        "1,u1,vcA,8,8,1,COMPLETED,2020-04-01 10:00:10,x,x,3600,0\n"
        "2,u2,vcB,0,4,1,COMPLETED,2020-04-01 10:00:00,x,x,60,0\n"
        "3,u1,vcA,12,8,2,FAILED,2020-04-01 10:00:00,x,x,120,0\n"
        "4,u3,vcB,24,8,3,CANCELLED,2020-04-01 11:00:00,x,x,30,0\n"
    )
    items, skipped = import_trace(path, load_config().catalog)
    assert skipped == 1
    shapes = [(it.submit_s, it.instance_type, it.n_workers, it.run_s, it.outcome) for it in items]
    assert shapes == [
        (0.0, "a100.6gpu", 2, 120.0, "failure"),
        (10.0, "a100.8gpu", 1, 3600.0, "success"),
        (3600.0, "a100.8gpu", 3, 30.0, "failure"),
    ]
    assert (items[0].workspace, items[0].author) == ("vcA", "u1")


def test_trace_with_other_column_names(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("submitted,runtime,gpus\n100,50,3\n160,5,1\n")
    mapping = TraceMapping(
        submit="submitted", duration="runtime", gpus="gpus", user=None, group=None, status=None
    )
    items, _ = import_trace(
        path, load_config().catalog, mapping=mapping, region="SR002-MT", gpu_model="A100-40GB"
    )
    assert [(it.submit_s, it.instance_type, it.workspace) for it in items] == [
        (0.0, "a100.3gpu.40", "trace"),
        (60.0, "a100.1gpu.40", "trace"),
    ]


def journal():
    base = {"workspace": "ws", "author": "ann@example.com"}
    job_body = {
        "script": "/home/jovyan/train.py",
        "base_image": "img",
        "instance_type": "a100.2gpu",
        "region": "A100-MT",
        "n_workers": 2,
        "type": "pytorch2",
        "priority_class": "high",
        "env_variables": {"MLSPACE_SIM_RUNTIME_S": "300"},
    }
    records = [
        ("job", "submit", "lm-mpi-job-1", 0.0, job_body),
        ("job", "submit", "lm-mpi-job-2", 5.0, {**job_body, "env_variables": {}}),
        (
            "notebook",
            "create",
            "nb-1",
            10.0,
            {"name": "lab", "instance_type": "a100.1gpu", "region": "A100-MT"},
        ),
        ("job", "kill", "lm-mpi-job-2", 50.0, {}),
        ("job", "restart", "lm-mpi-job-3", 60.0, {"job_name": "lm-mpi-job-2"}),
        ("other", "POST /public/v2/s3/upload", "", 70.0, {"bucket": "b"}),
        ("notebook", "pause", "nb-1", 110.0, {}),
        ("notebook", "resume", "nb-1", 200.0, {"region": "A100-MT", "instance_type": "a100.2gpu"}),
        ("notebook", "delete", "nb-1", 260.0, {}),
        (
            "notebook",
            "create",
            "nb-2",
            300.0,
            {"name": "open", "instance_type": "a100.1gpu", "region": "A100-MT"},
        ),
        ("tensorboard", "create", "tb-1", 301.0, {}),
    ]
    return [
        {**base, "t": t, "epoch": 1.7e9 + t, "kind": k, "action": a, "ref": ref, "params": p}
        for k, a, ref, t, p in reversed(records)
    ]


def test_journal_becomes_a_replayable_workload():
    items = workload_from_journal(journal(), end_s=400.0)
    jobs = [it for it in items if it.kind == "job"]
    books = [it for it in items if it.kind == "notebook"]
    assert [(j.submit_s, j.run_s, j.outcome, j.kill_s, j.priority, j.n_workers) for j in jobs] == [
        (0.0, 300.0, "", None, "high", 2),
        (5.0, None, "killed", 50.0, "high", 2),
        (60.0, None, "", None, "high", 2),
    ]
    assert [(b.submit_s, b.instance_type, b.active_s, b.idle_s, b.name) for b in books] == [
        (10.0, "a100.1gpu", 100.0, 0.0, "lab"),
        (200.0, "a100.2gpu", 60.0, 0.0, "lab"),
        (300.0, "a100.1gpu", 100.0, 0.0, "open"),
    ]
    runs = run_whatif(items, [config("replay", [8])], executor="serial").runs[0]["metrics"]
    assert (runs["jobs"], runs["jobs_killed"], runs["notebooks"]) == (3, 1, 3)
    assert runs["makespan_s"] > 400.0  # the restarted job runs the engine's default model


def test_journal_with_an_unknown_action_is_refused():
    bad = {"t": 0, "workspace": "w", "kind": "job", "action": "teleport", "ref": "x", "params": {}}
    with pytest.raises(WorkloadError, match="teleport"):
        workload_from_journal([bad])
    with pytest.raises(WorkloadError, match="never saw"):
        workload_from_journal([{**bad, "action": "restart", "params": {"job_name": "y"}}])


def test_killed_jobs_and_sessions_replay_as_the_user_acted():
    items = [
        job(0.0, 1000.0, outcome="killed", kill_s=100.0),
        notebook(0.0, 50.0, 25.0, gpus=1),
    ]
    m = run_whatif(items, [config("c", [8])], executor="serial").runs[0]["metrics"]
    assert m["jobs_killed"] == 1
    assert m["gpu_hours_used"] * 3600 == pytest.approx(100.0 + 75.0, abs=0.2)
    assert m["gpu_hours_idle_notebooks"] * 3600 == pytest.approx(25.0)
