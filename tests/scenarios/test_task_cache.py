"""--task-cache: a stopped sweep resumes from its finished tasks, with the same output as an uninterrupted one."""
from __future__ import annotations

import logging

import numpy as np
import pyarrow.parquet as pq
import pytest

from scenarios.dask_tasks import DaskOptions, SweepTaskError, TaskCache, run_tasks
from scenarios.what_if_defect_rate import run as run_what_if

CALLS: list[int] = []
FAIL_AT: set[int] = set()


def _square(task: dict, shared=None) -> dict:
    CALLS.append(task["k"])
    if task["k"] in FAIL_AT:
        raise RuntimeError("machine went down")
    rng = np.random.default_rng(task["seed"])
    offset = 0.0 if shared is None else float(shared["offset"])
    return {"k": task["k"], "value": task["k"] ** 2 + offset, "draw": float(rng.normal())}


@pytest.fixture(autouse=True)
def _reset():
    CALLS.clear()
    FAIL_AT.clear()


TASKS = [{"k": k, "seed": 100 + k} for k in range(5)]


def test_a_stopped_sweep_resumes_from_its_finished_tasks(tmp_path):
    reference = run_tasks(_square, TASKS, DaskOptions(0))
    CALLS.clear()
    options = DaskOptions(0, task_cache=tmp_path / "cache")
    FAIL_AT.add(3)
    with pytest.raises(SweepTaskError, match="task 3"):
        run_tasks(_square, TASKS, options)
    assert CALLS == [0, 1, 2, 3]
    FAIL_AT.clear()
    CALLS.clear()
    seen = []
    resumed = run_tasks(_square, TASKS, options, progress=lambda d, n: seen.append((d, n)))
    assert CALLS == [3, 4]                      # 0-2 came from the cache
    assert resumed == reference
    assert seen[0] == (3, 5) and seen[-1] == (5, 5)
    CALLS.clear()
    assert run_tasks(_square, TASKS, options) == reference and CALLS == []


def test_the_key_sees_the_task_and_the_shared_data(tmp_path):
    options = DaskOptions(0, task_cache=tmp_path)
    run_tasks(_square, TASKS[:2], options, shared={"offset": 1.0})
    CALLS.clear()
    other = run_tasks(_square, TASKS[:2], options, shared={"offset": 2.0})
    assert CALLS == [0, 1] and other[0]["value"] == 2.0
    CALLS.clear()
    run_tasks(_square, [{"k": 0, "seed": 999}], options, shared={"offset": 1.0})
    assert CALLS == [0]                          # another seed is another task


def test_a_config_file_named_by_the_task_is_keyed_by_its_content(tmp_path):
    cfg = tmp_path / "twin.toml"
    cfg.write_text("[setpoints]\nmold_temp_C = 40.0\n")
    cache = TaskCache(tmp_path / "cache", _square)
    task = {"k": 1, "seed": 1, "config": str(cfg)}
    before = cache.path(task)
    assert cache.path(dict(task)) == before
    cfg.write_text("[setpoints]\nmold_temp_C = 30.0\n")   # edited in place: same path, other twin
    assert cache.path(task) != before


_DIGEST_SCRIPT = """
import hashlib, sys
import numpy as np, torch
from scenarios.dask_tasks import content_digest
from learners.detector.dataset import BilletImage
faces = [BilletImage(image=torch.arange(48, dtype=torch.uint8).reshape(3, 4, 4),
                     boxes_px=torch.tensor([[0.0, 0.0, 2.0, 2.0]]), labels=torch.tensor([7]), chars=("6",),
                     positions=(0,), visibility=("well",), billet_id="X", source="synthetic/run0, row 1")]
h = hashlib.sha256()
content_digest({"faces": faces, ("a", 1): np.float32(0.5), "s": {3, 1}}, h)
sys.stdout.write(h.hexdigest())
"""


def test_the_digest_of_images_is_the_same_in_every_process():
    # pickle.dumps of a torch tensor carries a memory address; a cache keyed on it would never hit
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    digests = {subprocess.run([sys.executable, "-c", _DIGEST_SCRIPT], capture_output=True, text=True, check=True,
                              env=env, cwd=root).stdout for _ in range(2)}
    assert len(digests) == 1 and len(digests.pop()) == 64


def test_an_unreadable_entry_is_run_again(tmp_path, caplog):
    options = DaskOptions(0, task_cache=tmp_path)
    first = run_tasks(_square, TASKS[:2], options)
    entry = TaskCache(tmp_path, _square).path(TASKS[1])
    entry.write_bytes(entry.read_bytes()[:7])    # a truncated file
    CALLS.clear()
    with caplog.at_level(logging.WARNING, logger="scenarios.dask_tasks"):
        again = run_tasks(_square, TASKS[:2], options)
    assert again == first and CALLS == [1]
    assert any("unreadable entry" in r.getMessage() and entry.name in r.getMessage() for r in caplog.records)
    assert not list(tmp_path.glob("*.tmp"))     # writes go through a temporary name


def test_a_cache_that_cannot_be_created_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="task cache .*file"):
        run_tasks(_square, TASKS[:1], DaskOptions(0, task_cache=blocker / "cache"))


def test_what_if_from_the_cache_is_byte_identical(tmp_path):
    spec = {"scenario": "what_if_defect_rate",
            "grid": {"setpoints.mold_temp_C": [30.0, 50.0]},
            "twin": {"cycles": 25, "warmup_cycles": 5},
            "replications": {"count": 2, "seed": 3},
            "dask": {"workers": 0, "task_cache": str(tmp_path / "cache")}}
    run_what_if(spec, tmp_path / "a")
    n_entries = len(list((tmp_path / "cache").glob("*.pkl")))
    assert n_entries == 4                        # 2 cells x 2 replications
    run_what_if(spec, tmp_path / "b")            # every task from the cache: no new entry
    assert len(list((tmp_path / "cache").glob("*.pkl"))) == n_entries
    for name in ("cells.parquet", "replications.parquet"):
        assert pq.read_table(tmp_path / "a" / name).equals(pq.read_table(tmp_path / "b" / name))
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_a_partly_cached_sweep_finishes_on_a_worker(tmp_path):
    reference = run_tasks(_square, TASKS, DaskOptions(0))
    run_tasks(_square, TASKS[:2], DaskOptions(0, task_cache=tmp_path))
    resumed = run_tasks(_square, TASKS, DaskOptions(1, task_cache=tmp_path))
    assert resumed == reference
    assert len(list(tmp_path.glob("*.pkl"))) == len(TASKS)


def test_the_cli_flag_reaches_the_sweep(tmp_path, capsys):
    from scenarios.cli import main

    toml = tmp_path / "what_if.toml"
    toml.write_text('scenario = "what_if_defect_rate"\n'
                    '[grid]\n"setpoints.mold_temp_C" = [30.0]\n'
                    '[twin]\ncycles = 20\nwarmup_cycles = 5\n'
                    '[replications]\ncount = 2\nseed = 1\n')
    cache = tmp_path / "cache"
    argv = ["run", str(toml), "--workers", "0", "--no-progress", "--task-cache", str(cache)]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    assert len(list(cache.glob("*.pkl"))) == 2
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    assert len(list(cache.glob("*.pkl"))) == 2
    assert (tmp_path / "a" / "cells.parquet").read_bytes() == (tmp_path / "b" / "cells.parquet").read_bytes()
