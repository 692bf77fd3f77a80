"""Billet-face renderer: glyphs, degradation, exact boxes, determinism, physics of the look, errors."""
from __future__ import annotations

import io
import itertools
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from physics.billet_render import (ALPHABET, SITES, BilletFaceRenderer, DegradeParams, Light, NeuBackgrounds,
                                   RenderParams, SteelFaceParams, deform_mask, erase_to_fraction, glyph_polygons,
                                   neu_backgrounds_from_env, rasterize_glyph)
from physics.billet_render.camera import CameraPose, face_homography, warp
from physics.billet_render.face_renderer import warp_labels
from physics.billet_render.shading import cast_shadow_patch, shade
from physics.billet_render.stamp_font import GLYPH_WIDTH_EM

ID = "K12MN456460"
N = len(ID)


@pytest.fixture(scope="module")
def renderers() -> dict[int, BilletFaceRenderer]:
    return {s: BilletFaceRenderer(RenderParams(size_px=s, texture_bank=2)) for s in (96, 128, 160)}


def ones(v: float, n: int = N) -> np.ndarray:
    return np.full(n, float(v))


def reference_boxes(label_map: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Tight boxes (x1, y1 exclusive) straight from np.nonzero, independent of the renderer's code."""
    boxes, present = np.full((n, 4), -1), np.zeros(n, bool)
    for i in range(n):
        ys, xs = np.nonzero(label_map == i + 1)
        if len(xs):
            boxes[i] = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
            present[i] = True
    return boxes, present


# ----------------------------------------------------------------------------- font
def test_all_glyphs_rasterise_non_empty_and_mutually_distinct():
    masks = {c: rasterize_glyph(c, 32) >= 0.5 for c in ALPHABET}
    assert len(masks) == 36
    for c, m in masks.items():
        assert m.shape == (32, round(32 * GLYPH_WIDTH_EM))
        assert 0.12 < m.mean() < 0.75, c         # a stroke glyph: neither empty nor a filled block
    for a, b in itertools.combinations(ALPHABET, 2):
        differing = (masks[a] ^ masks[b]).sum()
        assert differing > 0.05 * max(masks[a].sum(), masks[b].sum()), (a, b)


def test_glyph_polygons_lie_in_the_em_box_and_leave_counters_open():
    for c in ALPHABET:
        polys = glyph_polygons(c)
        assert polys and all(p.ndim == 2 and p.shape[1] == 2 and len(p) >= 3 for p in polys)
        pts = np.concatenate(polys)
        assert pts[:, 0].min() >= -1e-6 and pts[:, 0].max() <= GLYPH_WIDTH_EM + 1e-6, c
        assert pts[:, 1].min() >= -1e-6 and pts[:, 1].max() <= 1 + 1e-6, c
    # counters: the centre of 0 and O, and of both loops of 8 and B, are not stamped
    for c, points in {"0": [(0.3, 0.5)], "O": [(0.3, 0.5)], "8": [(0.3, 0.28), (0.3, 0.72)],
                      "B": [(0.25, 0.28), (0.25, 0.72)]}.items():
        m = rasterize_glyph(c, 100)
        for x, y in points:
            assert m[int(y * 100), int(x * 100)] == 0.0, (c, x, y)


@pytest.mark.parametrize("bad", ["a", "?", "", "AB", " ", "Ä"])
def test_unknown_glyph_is_a_clear_value_error(bad):
    with pytest.raises(ValueError, match="0-9 and A-Z"):
        glyph_polygons(bad)
    with pytest.raises(ValueError, match="0-9 and A-Z"):
        rasterize_glyph(bad, 20)


# ----------------------------------------------------------------------------- degradation
@pytest.mark.parametrize("tilt_weight", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("fraction", [0.2, 0.5, 0.8])
def test_erasure_leaves_the_requested_fraction(tilt_weight, fraction):
    pad = np.zeros((60, 40), np.float32)
    pad[6:54, 6:35] = rasterize_glyph("8", 48)[:, :29]
    base = (pad >= 0.5).sum()
    kept = erase_to_fraction(pad, fraction, 48, np.random.default_rng(3), tilt_weight=tilt_weight)
    assert kept.dtype == np.float32 and kept.shape == pad.shape
    assert np.all(kept <= pad + 1e-6)                        # erasing never adds material
    assert (kept >= 0.5).sum() / base == pytest.approx(fraction, abs=0.06)
    again = erase_to_fraction(pad, fraction, 48, np.random.default_rng(3), tilt_weight=tilt_weight)
    np.testing.assert_array_equal(kept, again)
    assert not (erase_to_fraction(pad, 0.0, 48, np.random.default_rng(0)) > 0).any()
    np.testing.assert_array_equal(erase_to_fraction(pad, 1.0, 48, np.random.default_rng(0)), pad)


def test_tilt_erasure_eats_in_from_one_side():
    pad = np.zeros((60, 40), np.float32)
    pad[6:54, 6:35] = rasterize_glyph("H", 48)[:, :29]
    kept = erase_to_fraction(pad, 0.5, 48, np.random.default_rng(1), direction_rad=0.0, tilt_weight=1.0)
    left, right = (kept[:, :20] >= 0.5).sum(), (kept[:, 20:] >= 0.5).sum()
    assert right > 3 * left                                   # ramp rises along +x: the left is gone


def test_deformation_changes_shape_but_keeps_size():
    g = np.zeros((70, 50), np.float32)
    g[8:62, 8:40] = rasterize_glyph("R", 54)[:, :32]
    d = deform_mask(g, 54, np.random.default_rng(0))
    assert d.shape == g.shape and d.dtype == np.float32
    assert 0.85 < (d >= 0.5).sum() / (g >= 0.5).sum() < 1.15
    assert ((d >= 0.5) ^ (g >= 0.5)).sum() > 0.05 * (g >= 0.5).sum()
    np.testing.assert_array_equal(d, deform_mask(g, 54, np.random.default_rng(0)))


# ----------------------------------------------------------------------------- shading
def test_cast_shadow_of_a_trench_wall():
    """A trench 5 px deep, lamp from +x at 45 degrees: the 5 px next to the far (+x) wall are dark."""
    h = np.zeros((20, 60), np.float32)
    h[:, 10:30] = -5.0
    sh = cast_shadow_patch(h, Light(azimuth_deg=0.0, elevation_deg=45.0), softness_px=0.1)
    row = sh[10]
    assert np.all(row[10:24] == 1.0) and np.all(row[26:30] == 0.0)
    assert np.all(row[:10] == 1.0) and np.all(row[30:] == 1.0)
    # from the other side the shadow falls next to the -x wall
    sh = cast_shadow_patch(h, Light(azimuth_deg=180.0, elevation_deg=45.0), softness_px=0.1)
    assert np.all(sh[10, 10:14] == 0.0) and np.all(sh[10, 16:30] == 1.0)


def test_lambert_lights_slopes_that_face_the_lamp():
    light = Light(azimuth_deg=0.0, elevation_deg=30.0, ambient=0.0, diffuse=1.0, specular=0.0)
    albedo = np.ones((1, 3), np.float32)
    gx = np.array([[-1.0, 0.0, 1.0]], np.float32)   # surface rising towards -x, flat, rising towards +x
    out = shade(albedo, gx, np.zeros_like(gx), light)
    assert out[0, 0] > out[0, 1] > out[0, 2]         # the lamp is at +x: slopes facing +x are brightest
    assert out[0, 1] == pytest.approx(np.sin(np.radians(30.0)), rel=1e-5)


# ----------------------------------------------------------------------------- exact boxes
@pytest.mark.parametrize("size", [96, 128, 160])
@pytest.mark.parametrize("site", ["A", "B"])
def test_boxes_are_the_tight_boxes_of_the_warped_label_map(renderers, size, site):
    r = renderers[size]
    for seed in range(3):
        frac = np.random.default_rng(seed).uniform(0.0, 1.0, N)
        frac[seed] = 0.0                                      # one character fully erased
        face = r.render(ID, ones(1.5), frac, site, np.random.default_rng(seed))
        assert face.image.shape == (size, size) and face.image.dtype == np.uint8
        assert face.boxes.shape == (N, 4) and face.boxes.dtype == np.int32
        ref_boxes, ref_present = reference_boxes(face.label_map, N)
        np.testing.assert_array_equal(face.present, ref_present)
        np.testing.assert_array_equal(face.boxes, ref_boxes)
        assert not face.present[seed]
        assert face.present.sum() >= N - 3
        b = face.boxes[face.present]
        assert np.all((b[:, 0] >= 0) & (b[:, 1] >= 0) & (b[:, 2] <= size) & (b[:, 3] <= size))
        assert np.all((b[:, 2] > b[:, 0]) & (b[:, 3] > b[:, 1]))


@pytest.mark.parametrize("site", ["A", "B"])
@pytest.mark.parametrize("partial", [False, True])
def test_label_map_is_where_the_image_shows_the_stamps(renderers, site, partial):
    """Same draws with and without stamps: every changed pixel lies in (or within a wall/blur
    halo of) a box, and every box holds a visible change: the boxes sit on the image's stamps.

    The halo is the groove wall and rim outside the footprint plus the focus blur (about 3 px
    at 128 px); an erasure cut also fades out over a few pixels of < 50 % coverage beyond
    the footprint, hence the wider halo for partial characters."""
    r = renderers[128]
    halo = 6 if partial else 4
    for seed in (4, 5):
        frac = np.linspace(0.4, 1.0, N) if partial else ones(1.0)
        stamped = r.render(ID, ones(2.0), frac, site, np.random.default_rng(seed))
        blank = r.render(ID, ones(0.0), frac, site, np.random.default_rng(seed))
        assert not blank.present.any() and stamped.present.all()
        diff = np.abs(stamped.image.astype(int) - blank.image.astype(int))
        inside = np.zeros_like(diff, dtype=bool)
        for x0, y0, x1, y1 in stamped.boxes:
            inside[max(0, y0 - halo):y1 + halo, max(0, x0 - halo):x1 + halo] = True
            assert diff[y0:y1, x0:x1].mean() > 2.0
        assert diff[~inside].max(initial=0) == 0


def test_label_map_is_pixel_aligned_with_the_relief():
    """Square-on camera (identity homography), lamp on the axis, flat steel, no blur, noise or
    deformation, glyphs symmetric in x and y: the darkening a stamp causes is then symmetric
    about the centre of its footprint, so its centroid must coincide with the centroid of the
    character's label pixels. An off-by-one between label map and image fails this."""
    overhead = SITES["A"].with_(light=Light(azimuth_deg=0.0, elevation_deg=90.0, ambient=0.3, diffuse=0.9,
                                            specular=0.0), tilt_deg=0.0, yaw_deg=0.0, pose_sd_deg=0.0,
                                roll_deg=0.0, roll_sd_deg=0.0, centre_sd=0.0, face_fraction=1.0,
                                focus_blur_px=0.0, read_noise=0.0, shot_noise=0.0, vignetting=0.0,
                                exposure_sd=0.0)
    flat = SteelFaceParams(striation_depth_mm=0.0, scale_mottle=0.0, flake_fraction=0.0, pits_per_cm2=0.0)
    rigid = DegradeParams(shear_max=0.0, scale_sd=0.0, rotation_max_deg=0.0, elastic_em=0.0)
    r = BilletFaceRenderer(RenderParams(size_px=160, texture_bank=1, steel=flat, degrade=rigid, die_play_mm=0.0))
    chars = "HIOX0HIOX0H"
    stamped = r.render(chars, ones(2.0), ones(1.0), overhead, np.random.default_rng(6))
    blank = r.render(chars, ones(0.0), ones(1.0), overhead, np.random.default_rng(6))
    np.testing.assert_allclose(stamped.homography, np.eye(3), atol=1e-9)
    darkening = np.clip(blank.image.astype(float) - stamped.image.astype(float), 0, None)
    offsets = []
    for i, (x0, y0, x1, y1) in enumerate(stamped.boxes):
        win = np.s_[y0 - 2:y1 + 2, x0 - 2:x1 + 2]          # neighbours are 3.8 px away
        ys, xs = np.mgrid[win]
        w = darkening[win]
        lab = stamped.label_map[win] == i + 1
        offsets.append(np.array([(xs * w).sum(), (ys * w).sum()]) / w.sum() - [xs[lab].mean(), ys[lab].mean()])
    assert np.abs(offsets).max() < 0.2, np.round(offsets, 3)


def test_sub_window_label_warp_equals_the_full_warp():
    rng = np.random.default_rng(0)
    labels = np.zeros((200, 200), np.uint8)
    for k in range(1, 8):
        y, x = rng.integers(20, 170, 2)
        labels[y:y + rng.integers(3, 25), x:x + rng.integers(3, 25)] = k
    ys, xs = np.nonzero(labels)
    box = (ys.min(), xs.min(), ys.max() + 1, xs.max() + 1)
    for site in ("A", "B"):
        for _ in range(5):
            pose = CameraPose(roll_deg=rng.uniform(-40, 40), tilt_deg=rng.uniform(-25, 25),
                              yaw_deg=rng.uniform(-25, 25), offset_px=tuple(rng.uniform(-20, 20, 2)),
                              exposure_factor=1.0)
            hom = face_homography(SITES[site], pose, 200, 150.0, 180)
            full = np.asarray(warp(Image.fromarray(labels), hom, 180, Image.Resampling.NEAREST, fill=0))
            sub, _ = warp_labels(labels, box, hom, 180)
            np.testing.assert_array_equal(sub, full)


def test_boxes_move_with_the_rotation(renderers):
    """Turning the billet by 25 degrees turns the characters' boxes about the image centre."""
    r = renderers[160]
    still = SITES["A"].with_(tilt_deg=0.0, yaw_deg=0.0, pose_sd_deg=0.0, roll_deg=0.0, roll_sd_deg=0.0,
                             centre_sd=0.0, face_fraction=0.8)
    turned = still.with_(roll_deg=25.0)
    a = r.render(ID, ones(1.5), ones(1.0), still, np.random.default_rng(11))
    b = r.render(ID, ones(1.5), ones(1.0), turned, np.random.default_rng(11))
    assert a.present.all() and b.present.all()
    ca = (a.boxes[:, :2] + a.boxes[:, 2:]) / 2.0
    cb = (b.boxes[:, :2] + b.boxes[:, 2:]) / 2.0
    c, s = np.cos(np.radians(25)), np.sin(np.radians(25))
    centre = 160 / 2.0
    expected = (ca - centre) @ np.array([[c, s], [-s, c]]) + centre    # clockwise on screen (y down)
    assert np.abs(cb - expected).max() < 2.5
    assert np.abs(cb - ca).max() > 10                                  # they did move
    # upright glyphs are taller than wide; turned by 25 degrees their boxes widen
    wa, wb = a.boxes[:, 2] - a.boxes[:, 0], b.boxes[:, 2] - b.boxes[:, 0]
    assert wb.mean() > wa.mean() + 2


def test_characters_outside_the_frame_are_absent(renderers):
    zoomed = SITES["A"].with_(face_fraction=2.6, pose_sd_deg=0.0, roll_sd_deg=0.0, centre_sd=0.0)
    face = renderers[128].render(ID, ones(1.5), ones(1.0), zoomed, np.random.default_rng(2))
    assert 0 < face.present.sum() < N
    np.testing.assert_array_equal(face.boxes[~face.present], -1)
    ref_boxes, ref_present = reference_boxes(face.label_map, N)
    np.testing.assert_array_equal(face.boxes, ref_boxes)


# ----------------------------------------------------------------------------- determinism, looks
def test_same_seed_gives_byte_identical_png(renderers):
    r = renderers[128]
    args = (ID, ones(1.2), np.linspace(0.3, 1, N), "B")
    p1 = r.render(*args, np.random.default_rng(42)).png_bytes()
    p2 = r.render(*args, np.random.default_rng(42)).png_bytes()
    p3 = r.render(*args, np.random.default_rng(43)).png_bytes()
    assert p1 == p2 and p1 != p3
    fresh = BilletFaceRenderer(RenderParams(size_px=128, texture_bank=2))
    assert fresh.render(*args, np.random.default_rng(42)).png_bytes() == p1
    decoded = np.asarray(Image.open(io.BytesIO(p1)))
    np.testing.assert_array_equal(decoded, r.render(*args, np.random.default_rng(42)).image)


def test_deeper_stamps_show_more_contrast_inside_their_boxes(renderers):
    r = renderers[160]
    for site in ("A", "B"):
        shallow = r.render(ID, ones(0.25), ones(1.0), site, np.random.default_rng(8))
        deep = r.render(ID, ones(2.5), ones(1.0), site, np.random.default_rng(8))
        np.testing.assert_array_equal(shallow.boxes, deep.boxes)  # same draws, same geometry

        def contrast(face):
            return np.mean([face.image[y0:y1, x0:x1].std() for x0, y0, x1, y1 in face.boxes])

        assert contrast(deep) > 1.5 * contrast(shallow), site


def test_sites_a_and_b_differ_in_light_and_view(renderers):
    r = renderers[128]
    a = r.render(ID, ones(1.5), ones(1.0), "A", np.random.default_rng(9))
    b = r.render(ID, ones(1.5), ones(1.0), "B", np.random.default_rng(9))
    assert np.abs(a.image.astype(int) - b.image.astype(int)).mean() > 10
    assert np.abs(a.boxes - b.boxes).max() > 2
    # B is off-axis: the face's far and near edges differ in length (perspective), A's hardly
    def edge_ratio(face):
        corners = np.array([[0, 0, 1], [128, 0, 1], [128, 128, 1], [0, 128, 1]], float).T
        q = face.homography @ corners
        q = (q[:2] / q[2]).T
        lengths = np.linalg.norm(np.roll(q, -1, axis=0) - q, axis=1)
        return max(lengths[0] / lengths[2], lengths[1] / lengths[3], lengths[2] / lengths[0], lengths[3] / lengths[1])
    assert edge_ratio(b) > 1.04 and edge_ratio(a) < edge_ratio(b) - 0.02
    # and lit differently: B's raking lamp gives the grooves harder light and shadow
    assert a.image.mean() != pytest.approx(b.image.mean(), abs=3)


def test_rgb_render_has_the_same_geometry_as_grey():
    grey = BilletFaceRenderer(RenderParams(size_px=96, texture_bank=1))
    rgb = BilletFaceRenderer(RenderParams(size_px=96, texture_bank=1, rgb=True))
    g = grey.render(ID, ones(1.5), ones(1.0), "B", np.random.default_rng(1))
    c = rgb.render(ID, ones(1.5), ones(1.0), "B", np.random.default_rng(1))
    assert c.image.shape == (96, 96, 3) and c.image.dtype == np.uint8
    np.testing.assert_array_equal(g.boxes, c.boxes)
    assert np.abs(c.image[..., 0].astype(int) - c.image[..., 2].astype(int)).mean() > 1   # coloured
    assert Image.open(io.BytesIO(c.png_bytes())).mode == "RGB"


def test_short_ids_and_box_records(renderers):
    face = renderers[128].render("7", [1.0], [1.0], "A", np.random.default_rng(0))
    assert face.present.tolist() == [True]
    twelve = "ABCDEF123456"
    face = renderers[128].render(twelve, ones(1.0, 12), ones(1.0, 12), "A", np.random.default_rng(0))
    recs = face.box_records(["well"] * 12)
    assert [r["char"] for r in recs] == list(twelve)
    assert recs[0]["visibility"] == "well" and recs[0]["x1"] > recs[0]["x0"]


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("kwargs, match", [
    ({"size_px": 63}, "size_px"), ({"size_px": 1025}, "size_px"), ({"size_px": 100.5}, "size_px"),
    ({"size_px": True}, "size_px"), ({"layout": "three_rows"}, "layout"), ({"face_mm": -1.0}, "face_mm"),
    ({"char_height_mm": 60.0}, "cover"), ({"char_pitch_em": 0.5}, "char_pitch_em"),
])
def test_bad_params_are_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        RenderParams(**kwargs)


def test_bad_render_inputs_are_clear_errors(renderers):
    r = renderers[96]
    rng = np.random.default_rng(0)
    d, f = ones(1.0), ones(1.0)
    with pytest.raises(ValueError, match=r"chars\[2\]='m'.*capitals"):
        r.render("K1mN", ones(1.0, 4), ones(1.0, 4), "A", rng)
    with pytest.raises(ValueError, match="1 to 12"):
        r.render("", [], [], "A", rng)
    with pytest.raises(ValueError, match="1 to 12"):
        r.render("A" * 13, ones(1.0, 13), ones(1.0, 13), "A", rng)
    with pytest.raises(ValueError, match=r"depth_mm must have shape \(11,\)"):
        r.render(ID, ones(1.0, 10), f, "A", rng)
    with pytest.raises(ValueError, match=r"visible_fraction must have shape \(11,\)"):
        r.render(ID, d, ones(1.0, 12), "A", rng)
    with pytest.raises(ValueError, match=r"visible_fraction\[0\]=1.5"):
        r.render(ID, d, np.r_[1.5, ones(1.0, 10)], "A", rng)
    with pytest.raises(ValueError, match=r"depth_mm\[3\]"):
        r.render(ID, np.r_[ones(1.0, 3), np.nan, ones(1.0, 7)], f, "A", rng)
    with pytest.raises(ValueError, match="unknown camera site 'C'.*A, B"):
        r.render(ID, d, f, "C", rng)
    with pytest.raises(TypeError, match="Generator"):
        r.render(ID, d, f, "A", 42)
    one_row = BilletFaceRenderer(RenderParams(size_px=96, layout="one_row", texture_bank=1))
    with pytest.raises(ValueError, match="one_row"):
        one_row.render(ID, d, f, "A", rng)
    assert one_row.render("AB12", ones(1.0, 4), ones(1.0, 4), "A", rng).present.all()


# ----------------------------------------------------------------------------- real NEU backgrounds
def test_neu_backgrounds_from_env_is_none_without_data(monkeypatch, tmp_path):
    monkeypatch.delenv("TWINLOOP_REALDATA", raising=False)
    assert neu_backgrounds_from_env() is None
    monkeypatch.setenv("TWINLOOP_REALDATA", str(tmp_path))
    assert neu_backgrounds_from_env() is None
    with pytest.raises(FileNotFoundError, match="neu_det"):
        NeuBackgrounds(tmp_path)


def test_neu_backgrounds_are_used_when_realdata_is_set(realdata, monkeypatch):
    monkeypatch.setenv("TWINLOOP_REALDATA", str(realdata))
    bg = neu_backgrounds_from_env()
    assert isinstance(bg, NeuBackgrounds) and len(bg.paths) > 1000
    tex = bg.sample(128, np.random.default_rng(0))
    assert tex.shape == (128, 128) and tex.dtype == np.float32
    assert 0.0 < tex.min() and tex.max() <= 1.0 and tex.std() > 0.01
    procedural = BilletFaceRenderer(RenderParams(size_px=128, texture_bank=1))
    real = BilletFaceRenderer(RenderParams(size_px=128, texture_bank=1), backgrounds=bg)
    a = procedural.render(ID, ones(1.5), ones(1.0), "A", np.random.default_rng(3))
    b = real.render(ID, ones(1.5), ones(1.0), "A", np.random.default_rng(3))
    assert np.abs(a.image.astype(int) - b.image.astype(int)).mean() > 3
    ref_boxes, _ = reference_boxes(b.label_map, N)
    np.testing.assert_array_equal(b.boxes, ref_boxes)
    again = real.render(ID, ones(1.5), ones(1.0), "A", np.random.default_rng(3))
    assert again.png_bytes() == b.png_bytes()


def test_renderer_imports_neither_simpy_nor_torch():
    code = ("import sys, physics.billet_render as r; "
            "bad = [m for m in ('simpy', 'torch') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
