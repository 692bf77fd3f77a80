"""The digit detector: data, metrics, layout and ID decoder, training, determinism, files, CLI, scenario.

Tiny everything: 96 px billet faces from the twin, a handful of billets,
the ``"tiny"`` network preset, a few optimiser steps.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from learners.detector import (BilletIdDecoder, Detections, DetectorInputError, DigitDetector, IdSchema, Truth,
                               build_faster_rcnn, char_label, count_parameters, fit_layout, label_char, match_image,
                               read_billet_images, reading_metrics)
from learners.detector.id_decoder import check_accepts, check_step
from learners.detector.model import PRESETS
from learners.storage import LearnerFileError
from twin.billet_line.billet_id import ALPHABET, BilletId, char_value, check_character

TINY = dict(model="tiny", batch_size=2, lr=3e-3, warmup_steps=2, augment=False)


@pytest.fixture(autouse=True)
def _one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def run96(tmp_path_factory) -> Path:
    from twin.billet_line.simulate import simulate_billets
    from twin.config import load_config

    cfg = load_config(None, ["run.seed=5", "render.size_px=96", "stamping.force_kN=38"], kind="billets")
    return simulate_billets(cfg, tmp_path_factory.mktemp("det") / "run", billets=6)


@pytest.fixture(scope="module")
def samples(run96):
    return read_billet_images(run96)


# -- data -------------------------------------------------------------------------

def test_dataset_round_trip(run96, samples) -> None:
    rows = pq.read_table(run96 / "billets.parquet").to_pylist()
    assert len(samples) == len(rows) == 6
    for s, r in zip(samples, rows):
        assert s.image.dtype == torch.uint8 and tuple(s.image.shape) == (1, 96, 96)
        img = s.float_image()
        assert tuple(img.shape) == (3, 96, 96) and 0.0 <= float(img.min()) and float(img.max()) <= 1.0
        assert s.billet_id == r["billet_id"] and s.stamped_id == r["stamped_id"] and s.strand == r["strand"]
        assert s.boxes_px.tolist() == [[b["x0"], b["y0"], b["x1"], b["y1"]] for b in r["boxes"]]
        assert list(s.chars) == [b["char"] for b in r["boxes"]]
        assert [label_char(int(v)) for v in s.labels] == list(s.chars)
        assert list(s.visibility) == [b["visibility"] for b in r["boxes"]]
        assert set(s.target()) == {"boxes", "labels"}
    assert [char_label(c) for c in "09AZ"] == [1, 10, 11, 36]


def _write_rows(rows, table, path: Path) -> Path:
    import pyarrow as pa

    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), path / "billets.parquet")
    return path


def test_dataset_errors_name_file_row_and_box(run96, tmp_path) -> None:
    table = pq.read_table(run96 / "billets.parquet")
    rows = table.to_pylist()
    no_image = [dict(r) for r in rows]
    no_image[2]["image_png"] = None
    d = _write_rows(no_image, table, tmp_path / "no_image")
    with pytest.raises(DetectorInputError, match=r"billets\.parquet, row 2: no image"):
        read_billet_images(d)
    bad_box = [dict(r) for r in rows]
    bad_box[1]["boxes"] = [dict(b) for b in bad_box[1]["boxes"]]
    bad_box[1]["boxes"][3]["x1"] = 500
    d = _write_rows(bad_box, table, tmp_path / "bad_box")
    with pytest.raises(DetectorInputError, match=r"row 1, box 3: box .* outside the 96 x 96 image"):
        read_billet_images(d)
    bad_png = [dict(r) for r in rows]
    bad_png[0]["image_png"] = b"not a png"
    d = _write_rows(bad_png, table, tmp_path / "bad_png")
    with pytest.raises(DetectorInputError, match=r"row 0: image_png does not decode"):
        read_billet_images(d)
    with pytest.raises(DetectorInputError, match="no such run folder"):
        read_billet_images(tmp_path / "nowhere")


# -- metrics ----------------------------------------------------------------------

def _boxes(n: int, y: float = 10.0) -> list[list[float]]:
    return [[10.0 + 20 * i, y, 25.0 + 20 * i, y + 25] for i in range(n)]


def _one(truth: Truth, det: Detections) -> dict:
    return reading_metrics([truth], [det])["subsets"]["all"]


def test_metrics_each_figure_responds() -> None:
    truth = Truth(_boxes(3), ("1", "2", "3"))
    perfect = _one(truth, Detections.from_lists(_boxes(3), "123"))
    assert (perfect["tp"], perfect["mc"], perfect["fn"], perfect["fp"], perfect["cb"]) == (1.0, 0.0, 0.0, 0.0, 1.0)
    wrong = _one(truth, Detections.from_lists(_boxes(3), "183"))          # a misread: MC, not FN + FP
    assert (wrong["tp"], wrong["mc"], wrong["fn"], wrong["fp"], wrong["cb"]) == (2 / 3, 1 / 3, 0.0, 0.0, 0.0)
    missed = _one(truth, Detections.from_lists(_boxes(3)[:2], "12"))
    assert (missed["tp"], missed["fn"], missed["fp"], missed["cb"]) == (2 / 3, 1 / 3, 0.0, 0.0)
    extra = _one(truth, Detections.from_lists(_boxes(3) + [[100, 60, 115, 85]], "1234"))
    assert (extra["tp"], extra["fp"], extra["counts"]["fp"], extra["cb"]) == (1.0, 1 / 3, 1, 0.0)
    # A box shifted to IoU < 0.5 is not found: FN and FP, even with the right label.
    shifted = [[10.0, 10.0, 25.0, 35.0], [30.0, 10.0, 45.0, 35.0], [58.0, 22.0, 73.0, 47.0]]
    s = _one(truth, Detections.from_lists(shifted, "123"))
    assert s["counts"]["tp"] == 2 and s["counts"]["fn"] == 1 and s["counts"]["fp"] == 1 and s["cb"] == 0.0


def test_matching_is_greedy_by_iou() -> None:
    truth = [[0, 0, 10, 20]]
    dets = [[1, 0, 11, 20], [0, 0, 10, 20]]                     # the second fits better, though listed last
    m = match_image(truth, ["5"], dets, ["6", "5"], det_scores=[0.9, 0.6])
    assert m.tp == ((0, 1),) and m.fp == (0,) and not m.mc and not m.correct
    # Two truths, one detection between them: the higher IoU wins, the other truth is missed.
    m = match_image([[0, 0, 10, 20], [9, 0, 19, 20]], ["1", "2"], [[1, 0, 11, 20]], ["2"])
    assert m.mc == ((0, 0),) and m.fn == (1,)


def test_visibility_subsets_count_boxes_of_their_class() -> None:
    t1 = Truth(_boxes(3), ("1", "2", "3"), ("well", "poor", "well"))
    t2 = Truth(_boxes(2), ("4", "5"), ("well", "partial"))
    d1 = Detections.from_lists(_boxes(3)[:2], "12")                # the poor '2' read, the well '3' missed
    d2 = Detections.from_lists(_boxes(2), "45")
    m = reading_metrics([t1, t2], [d1, d2])["subsets"]
    assert m["poor"]["characters"] == 1 and m["poor"]["tp"] == 1.0
    assert m["well"]["characters"] == 3 and m["well"]["fn"] == 1 / 3
    assert m["partial"]["characters"] == 1 and m["partial"]["tp"] == 1.0
    # CB is per billet: billet 1 is a "poor" billet (worst character) and wrong; billet 2 "partial" and right.
    assert (m["poor"]["billets"], m["poor"]["cb"]) == (1, 0.0)
    assert (m["partial"]["billets"], m["partial"]["cb"]) == (1, 1.0)
    assert m["all"]["cb"] == 0.5 and m["well"]["billets"] == 0 and m["well"]["cb"] is None


# -- layout and ID decoder -----------------------------------------------------------

def _id_detections(text: str, alternatives: dict | None = None, drop=(), jitter_px: float = 1.0, seed: int = 0):
    """Boxes of an 11-character ID on the 6 + 5 grid; ``alternatives``: position -> ((char, score), ...)."""
    rng = np.random.default_rng(seed)
    boxes, chars, scores, cands = [], [], [], []
    for i, c in enumerate(text):
        if i in drop:
            continue
        row, col = (0, i) if i < 6 else (1, i - 6 + 0.5)
        x, y = 40 + 20 * col + rng.uniform(-jitter_px, jitter_px), 60 + 33 * row + rng.uniform(-2, 2)
        boxes.append([x, y, x + 15, y + 25])
        cand = (alternatives or {}).get(i, ((c, 0.95),))
        cands.append(cand)
        chars.append(cand[0][0])
        scores.append(cand[0][1])
    order = rng.permutation(len(chars))                               # detections come in any order
    return Detections(np.asarray(boxes)[order], tuple(chars[k] for k in order), np.asarray(scores)[order],
                      tuple(cands[k] for k in order))


TRUE_ID = BilletId("K", 4, 41237, 3, 7).text()
SCHEMA = IdSchema(caster_codes="K", strands=4)


def test_check_state_machine_is_the_schema_check() -> None:
    rng = np.random.default_rng(1)
    for _ in range(300):
        body = "".join(rng.choice(list(ALPHABET), 10))
        p = 36
        for c in body:
            p = check_step(p, char_value(c))
        accepted = [v for v in range(36) if check_accepts(p, v)]
        assert accepted == [char_value(check_character(body))]


def test_layout_orders_rows_and_keeps_gaps() -> None:
    det = _id_detections(TRUE_ID, drop=(0, 8), seed=3)
    lay = fit_layout(det.boxes_px, det.scores, (6, 5))
    read = ["?"] * 11
    for c, pos in zip(det.chars, lay.positions):
        read[pos] = c
    assert "".join(read) == "?" + TRUE_ID[1:8] + "?" + TRUE_ID[9:]


def test_decoder_corrects_one_misread_with_the_check_character() -> None:
    dec = BilletIdDecoder(SCHEMA)
    # Position 4 ('2') read as '8' (0.6), with '2' second (0.3): only '2' passes the check.
    det = _id_detections(TRUE_ID, {4: (("8", 0.6), ("2", 0.3))})
    out = dec.decode(det)
    assert dec.read_raw(det) == TRUE_ID[:4] + "8" + TRUE_ID[5:]
    assert out.text == TRUE_ID and out.corrected == (4,) and out.how == "reading"
    # Without the check the schema alone keeps the misread.
    assert BilletIdDecoder(SCHEMA, use_check=False).decode(det).text == TRUE_ID[:4] + "8" + TRUE_ID[5:]
    # A letter read in a digit position is not allowed there: the digit alternative is taken.
    det = _id_detections(TRUE_ID, {6: (("T", 0.7), ("7", 0.2))})
    assert dec.decode(det).text == TRUE_ID
    # The plant's caster letter is known: a misread there costs nothing.
    det = _id_detections(TRUE_ID, {0: (("R", 0.9),)})
    assert dec.read_raw(det)[0] == "R" and dec.decode(det).text == TRUE_ID


def test_decoder_refuses_what_no_candidate_explains() -> None:
    dec = BilletIdDecoder(SCHEMA)
    det = _id_detections(TRUE_ID, {4: (("8", 0.6), ("9", 0.3))})    # the true '2' is not a candidate
    out = dec.decode(det)
    assert out.text is None and out.how == "refused" and not out.accepted
    two_missing = dec.decode(_id_detections(TRUE_ID, drop=(4, 9)))    # the check cannot fix two unknowns
    assert two_missing.text is None
    one_missing = dec.decode(_id_detections(TRUE_ID, drop=(5,)))      # ... but it determines one
    assert one_missing.text == TRUE_ID and one_missing.how == "filled"


def test_decoder_uses_the_previous_id_of_the_strand() -> None:
    dec = BilletIdDecoder(SCHEMA)
    previous = BilletId("K", 4, 41237, 3, 6).text()
    det = _id_detections(TRUE_ID, drop=(4, 9))
    out = dec.decode(det, previous=previous)
    assert out.text == TRUE_ID and out.how == "previous"
    # Two billets of the strand later (the one between was not read): sequence + 2.
    two_before = BilletId("K", 4, 41237, 3, 5).text()
    assert dec.decode(det, previous=two_before, gap=2).text == TRUE_ID
    assert dec.decode(det, previous=two_before, gap=1).text is None
    # A clean reading of a valid ID is kept even when it is not the expected one.
    other = BilletId("K", 4, 41237, 3, 12).text()
    assert dec.decode(_id_detections(other), previous=previous).text == other


# -- model, training, determinism, files ------------------------------------------------

def test_torchvision_preset_is_the_factory_model() -> None:
    import torchvision

    with torch.device("meta"):  # shapes only: no memory, no initialisation time
        ref = torchvision.models.detection.fasterrcnn_mobilenet_v3_large_fpn(weights=None, weights_backbone=None,
                                                                             num_classes=37)
        mine = build_faster_rcnn(PRESETS["torchvision"])
    assert count_parameters(mine) == count_parameters(ref)
    assert {k: v.shape for k, v in mine.state_dict().items()} == {k: v.shape for k, v in ref.state_dict().items()}


def test_loss_is_finite_and_falls_when_overfitting(samples) -> None:
    det = DigitDetector(**TINY, steps=40, seed=1).fit(samples[:4])
    loss = np.array([h["loss"] for h in det.history_])
    assert loss.shape == (40,) and np.isfinite(loss).all()
    assert loss[-8:].mean() < 0.7 * loss[:4].mean()
    out = det.predict_many(samples[:2])
    assert len(out) == 2 and all(isinstance(d, Detections) for d in out)


def test_learn_many_fits_then_fine_tunes(samples) -> None:
    fresh = DigitDetector(**TINY, steps=2, online_steps=2, seed=1).learn_many(samples[:3])   # unfitted: fit
    fitted = DigitDetector(**TINY, steps=2, online_steps=2, seed=1).fit(samples[:3])
    assert _same_weights(fresh, fitted) and fresh.n_updates_ == 0
    before = {k: v.clone() for k, v in fresh.model_.state_dict().items()}
    fresh.learn_many(samples[3:])
    assert fresh.n_updates_ == 1 and fresh.step_ == 2 and len(fresh.history_) == 4
    assert any(not torch.equal(before[k], v) for k, v in fresh.model_.state_dict().items())
    with pytest.raises(ValueError, match="labels are the records' boxes"):
        fresh.learn_many(samples[3:], ["x"] * 3)


def _same_weights(a: DigitDetector, b: DigitDetector) -> bool:
    sa, sb = a.model_.state_dict(), b.model_.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_a_seed_fixes_the_result(samples) -> None:
    before = torch.random.get_rng_state()
    a = DigitDetector(**{**TINY, "augment": True}, steps=4, seed=3).fit(samples)
    b = DigitDetector(**{**TINY, "augment": True}, steps=4, seed=3).fit(samples)
    c = DigitDetector(**{**TINY, "augment": True}, steps=4, seed=4).fit(samples)
    assert _same_weights(a, b) and not _same_weights(a, c)
    assert [h["loss"] for h in a.history_] == [h["loss"] for h in b.history_]
    assert torch.equal(torch.random.get_rng_state(), before)          # the global RNG is left alone


class _Stop(Exception):
    pass


def test_save_load_and_exact_resume(samples, tmp_path) -> None:
    full = DigitDetector(**TINY, steps=6, seed=2).fit(samples)
    path = full.save(tmp_path / "full.twl")
    back = DigitDetector.load(path)
    assert _same_weights(full, back) and back.get_params() == full.get_params() and back.step_ == 6
    a, b = full.predict_many(samples[:2]), back.predict_many(samples[:2])
    assert all(np.array_equal(x.boxes_px, y.boxes_px) and x.chars == y.chars for x, y in zip(a, b))

    ckpt = tmp_path / "ckpt.twl"
    interrupted = DigitDetector(**TINY, steps=6, seed=2, checkpoint_every=3, checkpoint_path=ckpt)

    def stop_after_4(step: int, total: int) -> None:
        if step == 4:
            raise _Stop

    with pytest.raises(_Stop):
        interrupted.fit(samples, progress=stop_after_4)
    assert DigitDetector.load(ckpt).step_ == 3
    resumed = DigitDetector(**TINY, steps=6, seed=2, checkpoint_every=3, checkpoint_path=ckpt)
    resumed.fit(samples, resume=True)
    assert resumed.step_ == 6 and _same_weights(resumed, full)
    assert [h["loss"] for h in resumed.history_] == [h["loss"] for h in full.history_]
    # Other data or other settings: the checkpoint is refused, naming it.
    with pytest.raises(LearnerFileError, match="other images"):
        DigitDetector(**TINY, steps=6, seed=2, checkpoint_path=ckpt).fit(samples[:3], resume=True)
    with pytest.raises(LearnerFileError, match="other settings"):
        DigitDetector(**TINY, steps=6, seed=9, checkpoint_path=ckpt).fit(samples, resume=True)


def test_corrupt_or_foreign_checkpoint_is_a_clear_error(samples, tmp_path) -> None:
    good = DigitDetector(**TINY, steps=1, seed=0).fit(samples[:2]).save(tmp_path / "m.twl")
    data = bytearray(good.read_bytes())
    data[-100] ^= 0xFF
    bad = tmp_path / "corrupt.twl"
    bad.write_bytes(bytes(data))
    with pytest.raises(LearnerFileError, match=r"corrupt\.twl: corrupt learner file"):
        DigitDetector.load(bad)
    with pytest.raises(LearnerFileError, match="corrupt.twl"):
        DigitDetector(**TINY, steps=2, checkpoint_path=bad).fit(samples[:2], resume=True)
    short = tmp_path / "short.twl"
    short.write_bytes(good.read_bytes()[: len(data) // 2])
    with pytest.raises(LearnerFileError, match="short.twl"):
        DigitDetector.load(short)
    foreign = tmp_path / "foreign.twl"
    foreign.write_text("hello")
    with pytest.raises(LearnerFileError, match="not a twinloop learner file"):
        DigitDetector.load(foreign)


def test_learners_do_not_import_the_simulator() -> None:
    """``learners/detector`` reads records: of ``twin`` it may use the schema modules only, never simpy."""
    import ast

    import learners.detector as pkg

    allowed = {"twin.schema", "twin.billet_line.billet_id"}
    for f in sorted(Path(pkg.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(f.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                     [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert not name.startswith("simpy"), f"{f.name} imports {name}"
                assert not name.startswith("twin") or name in allowed, f"{f.name} imports {name}"


# -- CLI and scenario -----------------------------------------------------------------

def test_cli_train_and_evaluate(run96, tmp_path, capsys) -> None:
    from scenarios.cli_detector import main

    model = tmp_path / "model"
    assert main(["train", "detector", "--data", str(run96), "--out", str(model), "--steps", "3", "--batch-size",
                 "2", "--model", "tiny", "--checkpoint-every", "2", "--no-progress"]) == 0
    assert (model / "model.twl").is_file() and not (tmp_path / "model.checkpoint.twl").exists()
    ev = tmp_path / "eval"
    assert main(["evaluate", "detector", "--model", str(model), "--data", f"{run96},{run96}", "--out", str(ev)]) == 0
    m = json.loads((ev / "metrics.json").read_text())
    assert m["billets"] == 12 and set(m["reading"]["subsets"]) == {"all", "well", "partial", "poor"}
    assert set(m["ids"]["all"]) >= {"raw", "schema_check", "schema_check_previous"}
    assert main(["evaluate", "detector", "--model", str(tmp_path / "none"), "--data", str(run96),
                 "--out", str(tmp_path / "e2")]) == 2
    assert "none: no such model folder" in capsys.readouterr().err


def test_scenario_writes_metrics_and_report(tmp_path, monkeypatch) -> None:
    from scenarios.billet_detector import run

    monkeypatch.delenv("TWINLOOP_REALDATA", raising=False)
    spec = {"twin": {"size_px": 96},
            "train": {"runs": [{"billets": 4, "seed": 1, "set": {"caster.first_heat": 12000}}]},
            "test": {"runs": [{"billets": 3, "seed": 2, "set": {"stamping.force_kN": 35.0}}]},
            "detector": {"model": "tiny", "steps": 3, "batch_size": 2, "threads": 1, "checkpoint_every": 2},
            "standin": {"enabled": False}}
    out = run(spec, tmp_path / "run")
    m = json.loads((out / "metrics.json").read_text())
    assert m["simulated"]["test_billets"] == 3 and "cb" in m["simulated"]["reading"]["subsets"]["all"]
    assert "schema_check_previous" in m["simulated"]["ids"]["all"]
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    assert not (tmp_path / "run.checkpoints").exists()
