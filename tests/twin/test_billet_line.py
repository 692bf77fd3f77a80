"""The billet line twin end to end: timing, skipping, IDs, determinism, bad configs, COCO export."""
import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from scenarios.cli import main
from twin.billet_line.billet_id import is_valid, parse_billet_id
from twin.billet_line.simulate import simulate_billets
from twin.config import load_config

SMALL = ["render.size_px=96"]


def _cfg(*overrides, render=True):
    return load_config(None, [*SMALL, f"render.enabled={'true' if render else 'false'}", *overrides], kind="billets")


def test_one_strand_without_scatter_runs_on_exact_times(tmp_path):
    cfg = _cfg("caster.strands=1", "caster.cut_length_sd_mm=0", "transfer.to_stamping_sd_s=0",
               "caster.casting_speed_m_min=2.4", "caster.cut_length_m=6", "transfer.to_stamping_s=90",
               "transfer.to_camera_s=60", "stamping.positioning_s=6", "stamping.strike_s=2",
               "stamping.pin_change_every_h=0", render=False)
    out = simulate_billets(cfg, tmp_path / "r", billets=5)
    t = pq.read_table(out / "billets.parquet").to_pandas()
    cut = t["cut_time"].astype("int64").to_numpy() / 1e3
    np.testing.assert_allclose(np.diff(cut), 150.0, atol=1e-3)        # 6 m at 2.4 m/min
    stamp = t["stamp_time"].astype("int64").to_numpy() / 1e3
    np.testing.assert_allclose(stamp - cut, 90.0 + 3.0, atol=1e-3)     # table + half the positioning
    photo = t["photo_time"].astype("int64").to_numpy() / 1e3
    np.testing.assert_allclose(photo - stamp, 3.0 + 11 * 2.0 + 60.0, atol=1e-3)
    assert t["stamped"].all() and (t["wait_at_station_s"] == 0).all()


def test_a_robot_slower_than_the_caster_skips_billets_and_labels_them(tmp_path):
    # One billet every 150 s, 2 x 150 s to stamp one, no waiting allowed: exactly every other billet is skipped.
    cfg = _cfg("caster.strands=1", "caster.cut_length_sd_mm=0", "transfer.to_stamping_sd_s=0",
               "stamping.positioning_s=2", "stamping.strike_s=27", "stamping.max_wait_s=0",
               "stamping.pin_change_every_h=0", render=False)
    out = simulate_billets(cfg, tmp_path / "r", billets=10)
    # Records come in camera order; a skipped billet overtakes the one being stamped.
    t = pq.read_table(out / "billets.parquet").to_pandas().sort_values("billet_index")
    assert list(t["stamped"])[:8] == [True, False] * 4
    assert (t["label_applied"] == ~t["stamped"]).all()
    skipped = t[~t["stamped"]]
    assert skipped["stamped_id"].isna().all() and skipped["char_visibility"].map(len).eq(0).all()
    ev = pq.read_table(out / "events.parquet").to_pandas()
    assert (ev["kind"] == "billet_skipped").sum() == (~t["stamped"]).sum()
    m = json.loads((out / "metrics.json").read_text())
    assert m["labelled_unstamped_rate"] == pytest.approx((~t["stamped"]).mean())


def test_ids_follow_the_schema_heats_and_sequences(tmp_path):
    # Small heats so the run crosses heat changes.
    cfg = _cfg("caster.heat_size_t=10", render=False)
    out = simulate_billets(cfg, tmp_path / "r", billets=40)
    t = pq.read_table(out / "billets.parquet").to_pandas().sort_values("billet_index")
    assert t["billet_id"].is_unique and t["billet_id"].map(is_valid).all()
    parts = t["billet_id"].map(parse_billet_id)
    assert (parts.map(lambda p: p.heat).to_numpy() == t["heat"].to_numpy()).all()
    assert (parts.map(lambda p: p.strand) == t["strand"]).all()
    assert t["heat"].nunique() >= 3 and (np.diff(np.sort(t["heat"].unique())) == 1).all()
    for (_, _), g in t.groupby(["heat", "strand"]):
        assert list(g["sequence_in_heat"]) == list(range(1, len(g) + 1))
    assert t["strand"].between(1, 4).all()


def test_same_seed_same_bytes_other_seed_other_images(tmp_path):
    cfg = _cfg()
    a = simulate_billets(cfg, tmp_path / "a", billets=6)
    b = simulate_billets(cfg, tmp_path / "b", billets=6)
    assert (a / "billets.parquet").read_bytes() == (b / "billets.parquet").read_bytes()
    c = simulate_billets(load_config(None, [*SMALL, "run.seed=8"], kind="billets"), tmp_path / "c", billets=6)
    assert (a / "billets.parquet").read_bytes() != (c / "billets.parquet").read_bytes()


def test_records_carry_physics_and_labels(tmp_path):
    out = simulate_billets(_cfg(), tmp_path / "r", billets=8)
    t = pq.read_table(out / "billets.parquet").to_pylist()
    for r in t:
        if not r["stamped"]:
            continue
        assert len(r["char_depth_mm"]) == len(r["char_visibility"]) == 11
        assert 500 < r["surface_temp_C"] < 1300 and r["time_since_cut_s"] > 0
        assert r["n_well"] + r["n_partial"] + r["n_poor"] == 11
        assert r["image_width"] == r["image_height"] == 96
        for b in r["boxes"]:
            assert 0 <= b["x0"] < b["x1"] <= 96 and 0 <= b["y0"] < b["y1"] <= 96
            assert r["billet_id"][b["position"]] == b["char"]
            assert b["visibility"] == r["char_visibility"][b["position"]]


@pytest.mark.parametrize("override,needle", [
    ("caster.strands=0", "caster.strands"),
    ("caster.casting_speed_m_min=40", "caster.casting_speed_m_min"),
    ("caster.code=k", "caster.code"),
    ("caster.core_temp_at_cut_C=900", "caster.core_temp_at_cut_C"),
    ("caster.cut_length_m=1", "caster.heat_size_t"),
    ("camera.site=C", "camera.site"),
    ("render.size_px=2048", "render.size_px"),
    ("stamping.forse_kN=50", "did you mean"),
    ("steel.grade=X99", "steel.grade"),
])
def test_bad_configs_name_the_key_and_write_nothing(tmp_path, capsys, override, needle):
    out = tmp_path / "r"
    assert main(["simulate", "billets", "--billets", "3", "--out", str(out), "--set", override,
                 "--no-progress"]) == 2
    assert needle in capsys.readouterr().err
    assert not out.exists() and not list(tmp_path.iterdir())


def test_cli_run_report_and_coco_export(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["simulate", "billets", "--billets", "6", "--seed", "3", "--size", "96", "--site", "B",
                 "--out", str(out), "--no-progress"]) == 0
    assert (out / "report.html").is_file() and "<svg" in (out / "report.html").read_text()
    assert main(["export", "coco", str(out)]) == 0
    doc = json.loads((out / "coco" / "annotations.json").read_text())
    t = pq.read_table(out / "billets.parquet").to_pylist()
    assert len(doc["categories"]) == 36 and len(doc["images"]) == 6
    assert len(doc["annotations"]) == sum(len(r["boxes"]) for r in t)
    assert {im["site"] for im in doc["images"]} == {"B"}
    for im in doc["images"]:
        assert (out / "coco" / im["file_name"]).is_file()
    for a in doc["annotations"]:
        x, y, w, h = a["bbox"]
        assert w > 0 and h > 0 and x + w <= 96 and y + h <= 96 and a["area"] == w * h
        assert a["attributes"]["visibility"] in ("well", "partial", "poor")
    # A second export without --overwrite is refused, and leaves the first intact.
    assert main(["export", "coco", str(out)]) == 2
    assert "exists" in capsys.readouterr().err
    assert (out / "coco" / "annotations.json").is_file()


def test_export_of_a_folder_without_billets_is_a_clear_error(tmp_path, capsys):
    assert main(["export", "coco", str(tmp_path)]) == 2
    assert "billets.parquet" in capsys.readouterr().err
