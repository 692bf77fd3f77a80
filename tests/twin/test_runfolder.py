"""RunFolder: nothing half-written is ever visible under the final name."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from twin.runfolder import RunFolder, RunFolderExistsError, atomic_write_bytes, finite_json, json_text


def _siblings(path):
    return sorted(p.name for p in path.parent.iterdir())


def test_success_renames_partial_to_out(tmp_path):
    out = tmp_path / "runs" / "r1"
    with RunFolder(out) as run:
        assert run.root.name.startswith("r1.partial-")
        assert not out.exists()
        run.write_text("a.txt", "hello")
        run.write_json("sub/m.json", {"b": 1, "a": [1.5, None]})
        run.write_bytes("c.bin", b"\x00\x01")
    assert _siblings(out) == ["r1"]
    assert (out / "a.txt").read_text() == "hello"
    assert (out / "sub" / "m.json").read_text() == '{\n  "a": [\n    1.5,\n    null\n  ],\n  "b": 1\n}\n'
    assert (out / "c.bin").read_bytes() == b"\x00\x01"
    assert run.root == out


def test_exception_removes_partial_and_creates_nothing(tmp_path):
    out = tmp_path / "r1"
    with pytest.raises(RuntimeError, match="boom"):
        with RunFolder(out) as run:
            run.write_text("a.txt", "x")
            raise RuntimeError("boom")
    assert _siblings(out) == []


def test_keyboard_interrupt_removes_partial(tmp_path):
    out = tmp_path / "r1"
    with pytest.raises(KeyboardInterrupt):
        with RunFolder(out) as run:
            run.write_text("a.txt", "x")
            raise KeyboardInterrupt
    assert _siblings(out) == []


def test_existing_nonempty_out_is_refused_before_anything_is_created(tmp_path):
    out = tmp_path / "r1"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(RunFolderExistsError, match="overwrite"):
        with RunFolder(out):
            pytest.fail("body must not run")
    assert _siblings(out) == ["r1"]
    assert (out / "old.txt").read_text() == "old"


def test_existing_empty_out_is_fine(tmp_path):
    out = tmp_path / "r1"
    out.mkdir()
    with RunFolder(out) as run:
        run.write_text("a.txt", "new")
    assert sorted(p.name for p in out.iterdir()) == ["a.txt"]


def test_overwrite_replaces_old_only_at_the_end(tmp_path):
    out = tmp_path / "r1"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with RunFolder(out, overwrite=True) as run:
        run.write_text("new.txt", "new")
        assert (out / "old.txt").exists()  # still intact while the new run is written
    assert sorted(p.name for p in out.iterdir()) == ["new.txt"]
    assert _siblings(out) == ["r1"]


def test_failed_overwrite_keeps_old_run(tmp_path):
    out = tmp_path / "r1"
    out.mkdir()
    (out / "old.txt").write_text("old")
    with pytest.raises(ValueError):
        with RunFolder(out, overwrite=True) as run:
            run.write_text("new.txt", "new")
            raise ValueError
    assert sorted(p.name for p in out.iterdir()) == ["old.txt"]
    assert _siblings(out) == ["r1"]


def test_path_must_stay_inside(tmp_path):
    with RunFolder(tmp_path / "r") as run:
        for bad in ("../x", "/etc/passwd", ""):
            with pytest.raises(ValueError):
                run.path(bad)
        assert run.path("a/b/c.txt").parent.is_dir()


def test_using_a_closed_folder_is_an_error(tmp_path):
    run = RunFolder(tmp_path / "r")
    with pytest.raises(RuntimeError, match="not open"):
        run.path("x")


def test_write_json_is_deterministic_and_handles_numpy(tmp_path):
    obj = {"z": np.float32(0.5), "a": np.arange(3), "n": np.int64(7)}
    with RunFolder(tmp_path / "r") as run:
        p = run.write_json("m.json", obj)
        first = p.read_bytes()
        run.write_json("m.json", dict(reversed(list(obj.items()))))
        assert p.read_bytes() == first
        assert json.loads(first) == {"a": [0, 1, 2], "n": 7, "z": 0.5}
        with pytest.raises(ValueError, match="m2.json"):
            run.write_json("m2.json", {"x": float("nan")})


def test_atomic_write_bytes_replaces_and_leaves_no_temp(tmp_path):
    p = tmp_path / "f.bin"
    atomic_write_bytes(p, b"one")
    atomic_write_bytes(p, b"two")
    assert p.read_bytes() == b"two"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_finite_json_turns_nan_and_inf_into_null_and_numpy_into_python():
    obj = {"a": math.inf, 1: [np.float64(2.5), math.nan, np.int64(3)], "t": (np.float32(-math.inf),)}
    clean = finite_json(obj)
    assert clean == {"a": None, "1": [2.5, None, 3], "t": [None]}
    assert type(clean["1"][2]) is int
    with pytest.raises(ValueError):
        json_text({"auc": math.nan})       # raw NaN is refused: JSON has none
    assert json.loads(json_text(clean)) == clean
