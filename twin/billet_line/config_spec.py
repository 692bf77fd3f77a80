"""Declarative spec of every key of the billet-line configuration, and cross-field checks.

The same machinery as the molding cell (:mod:`twin.config_field`): each
dotted key of ``twin/defaults/billets.toml`` maps to a
:class:`~twin.config_field.Field` with type, unit, inclusive physical range
and a one-line doc; a test asserts that the defaults and the spec cover the
same keys. Ranges are plausibility limits of a billet caster and its
marking station (sections 100-250 mm, casting speeds up to the 6 m/min of
high-speed casting, PHYSICS_REFERENCES §5), wide enough for what-if studies
and narrow enough to catch a unit slip (``casting_speed_m_min = 40``).

Load it with ``twin.config.load_config(path, overrides, kind="billets")``.
"""
from __future__ import annotations

from physics.billet.steel import STEELS
from twin.config_field import Field, Issue, finite_number, lookup
from twin.config_spec import _iso8601_with_offset, _run_id

__all__ = ["SPEC", "SECTIONS", "validate_cross"]

_POS = {"min": 0.0, "min_open": True}


def _caster_code(value: str) -> str | None:
    if len(value) == 1 and value.isalpha() and value.isupper() and value.isascii():
        return None
    return f"{value!r} is not one capital letter"


def _checkpoint_list(value: str) -> str | None:
    """Syntax of ``render.stamp_gan`` (the files are checked where they are loaded, at the CLI edge)."""
    if value and not all(part.strip() for part in value.split(",")):
        return f"{value!r} has an empty entry between commas"
    return None


SPEC: dict[str, Field] = {
    # [run]
    "run.seed": Field(int, "-", "root seed of the run's numpy SeedSequence", min=0, max=2**63 - 1),
    "run.start_time": Field(
        str, "ISO 8601", "wall-clock time of simulated t = 0",
        check=_iso8601_with_offset, check_doc="ISO 8601 date-time with UTC offset, e.g. 2024-06-05T06:00:00+00:00"),
    "run.run_id": Field(
        str, "-", "run identifier; empty: derived from seed and config hash",
        check=_run_id, check_doc="empty, or 1-64 of A-Z a-z 0-9 . _ - (not starting with . _ -)"),
    # [steel]
    "steel.grade": Field(str, "-", "steel grade (physics/billet/steel.py)", choices=tuple(STEELS)),
    "steel.emissivity": Field(float, "-", "total emissivity of the oxidised face", min=0.05, max=1.0),
    # [caster]
    "caster.strands": Field(int, "-", "number of strands cast side by side", min=1, max=9),
    "caster.section_mm": Field(float, "mm", "square billet section (edge length)", min=80.0, max=300.0),
    "caster.casting_speed_m_min": Field(float, "m/min", "strand withdrawal speed", min=0.3, max=7.0),
    "caster.cut_length_m": Field(float, "m", "billet length cut by the torch", min=1.0, max=20.0),
    "caster.cut_length_sd_mm": Field(float, "mm", "torch-cut length scatter (1 sd)", min=0.0, max=200.0),
    "caster.heat_size_t": Field(float, "t", "steel per heat (ladle)", min=5.0, max=400.0),
    "caster.first_heat": Field(int, "-", "heat number of the first heat of the run", min=0, max=99998),
    "caster.code": Field(str, "-", "caster letter, position 0 of the billet ID", check=_caster_code,
                         check_doc="one capital letter A-Z"),
    "caster.surface_temp_at_cut_C": Field(float, "degC", "billet surface temperature at the torch cut",
                                          min=600.0, max=1350.0),
    "caster.surface_temp_sd_K": Field(float, "K", "billet-to-billet scatter of the surface temperature at the cut",
                                      min=0.0, max=150.0),
    "caster.core_temp_at_cut_C": Field(float, "degC", "billet core temperature at the torch cut",
                                       min=700.0, max=1550.0),
    "caster.ambient_C": Field(float, "degC", "air temperature around the run-out table", min=-30.0, max=80.0),
    "caster.rhomboidity_sd_deg": Field(float, "deg", "billet-to-billet face tilt (rhomboidity), 1 sd",
                                       min=0.0, max=5.0),
    "caster.strand_rhomboidity_sd_deg": Field(
        float, "deg", "persistent tilt of each strand (mould wear), 1 sd across strands", min=0.0, max=5.0),
    # [transfer]
    "transfer.to_stamping_s": Field(float, "s", "mean roller-table time from the cut to the stamping station",
                                    min=0.0, max=7200.0),
    "transfer.to_stamping_sd_s": Field(float, "s", "scatter of that time (1 sd)", min=0.0, max=3600.0),
    "transfer.to_camera_s": Field(float, "s", "time from the stamping station to the camera", min=0.0, max=7200.0),
    # [stamping]
    "stamping.force_kN": Field(float, "kN", "nominal punch force per character", max=2000.0, **_POS),
    "stamping.force_sd_pct": Field(float, "%", "strike-to-strike force scatter (1 sd)", min=0.0, max=50.0),
    "stamping.positioning_s": Field(float, "s", "robot time per billet besides the strikes (approach, measure, retract)",
                                    min=0.0, max=600.0),
    "stamping.strike_s": Field(float, "s", "robot time per character (pick the pin, strike, put it back)",
                               max=60.0, **_POS),
    "stamping.max_wait_s": Field(
        float, "s", "a billet waiting longer for the busy robot leaves unstamped (stick-on label)",
        min=0.0, max=3600.0),
    "stamping.pin_wear_per_strike": Field(float, "-", "wear added to a pin per strike (1 = worn out)",
                                          min=0.0, max=0.5),
    "stamping.pin_wear_initial": Field(float, "-", "wear of every pin at the start of the run", min=0.0, max=1.0),
    "stamping.pin_change_every_h": Field(float, "h", "pin magazine renewed every so many hours (0 = never)",
                                         min=0.0, max=10000.0),
    "stamping.pin_change_min": Field(float, "min", "robot stop for a pin change", min=0.0, max=600.0),
    # [stamp_die]: the punch geometry (physics/billet/stamping.py)
    "stamp_die.char_height_mm": Field(float, "mm", "character height on the die", min=5.0, max=60.0),
    "stamp_die.tip_half_angle_deg": Field(float, "deg", "half-angle of the wedge-shaped character ridge",
                                          min=10.0, max=80.0),
    "stamp_die.punch_speed_mm_s": Field(float, "mm/s", "punch speed at impact", max=10000.0, **_POS),
    "stamp_die.land_width_new_mm": Field(float, "mm", "flat land at the ridge tip of a new pin", min=0.0, max=5.0),
    "stamp_die.land_width_per_wear_mm": Field(float, "mm", "extra land width at wear 1 (worn out)",
                                              min=0.0, max=10.0),
    # [camera]
    "camera.site": Field(str, "-", "camera site (lighting and viewing angle)", choices=("A", "B")),
    "camera.readable_depth_mm": Field(float, "mm", "shallowest effective stamp depth the camera resolves",
                                      max=5.0, **_POS),
    # [cooling_bed]
    "cooling_bed.slots": Field(int, "-", "billets the cooling bed holds", min=1, max=10000),
    "cooling_bed.dwell_min": Field(float, "min", "time a billet spends on the cooling bed", min=0.0, max=10000.0),
    # [render]
    "render.enabled": Field(bool, "-", "render a face image per billet (false: records only)"),
    "render.size_px": Field(int, "px", "image width and height", min=64, max=1024),
    "render.rgb": Field(bool, "-", "RGB (true) or grayscale (false) images"),
    "render.real_texture": Field(
        bool, "-", "sample real steel texture (NEU-DET under TWINLOOP_REALDATA) when present; else procedural"),
    "render.stamp_gan": Field(
        str, "-", "stamp cGAN checkpoint(s) for the characters' texture, comma-separated; empty: physics only",
        check=_checkpoint_list, check_doc="empty, or comma-separated paths (.ckpt files, training folders, globs)"),
}

#: Every dotted section prefix of the spec.
SECTIONS: frozenset[str] = frozenset(
    ".".join(key.split(".")[:i]) for key in SPEC for i in range(1, key.count(".") + 1)
)


def validate_cross(cfg: dict) -> list[Issue]:
    """Checks across keys: the core is hotter than the surface; a heat holds at least one billet per strand."""
    issues: list[Issue] = []
    surf = finite_number(lookup(cfg, "caster.surface_temp_at_cut_C"))
    core = finite_number(lookup(cfg, "caster.core_temp_at_cut_C"))
    if surf is not None and core is not None and core < surf:
        issues.append(Issue("caster.core_temp_at_cut_C",
                            f"{core:g} degC is below the surface temperature at the cut ({surf:g} degC): "
                            "a billet cools from its surface", f">= {surf:g} degC"))
    a, length = finite_number(lookup(cfg, "caster.section_mm")), finite_number(lookup(cfg, "caster.cut_length_m"))
    heat, strands = finite_number(lookup(cfg, "caster.heat_size_t")), finite_number(lookup(cfg, "caster.strands"))
    grade = lookup(cfg, "steel.grade")
    if None not in (a, length, heat, strands) and grade in STEELS and strands >= 1 and a > 0 and length > 0:
        billet_t = STEELS[grade].density_kg_m3 * (a / 1000.0) ** 2 * length / 1000.0
        per_strand = heat / billet_t / strands
        if per_strand < 1.0:
            issues.append(Issue("caster.heat_size_t",
                                f"{heat:g} t is less than one {billet_t:.2f} t billet per strand",
                                f">= {billet_t * strands:.1f} t"))
        if per_strand > 99.0:
            issues.append(Issue("caster.heat_size_t",
                                f"{heat:g} t makes {per_strand:.0f} billets per strand and heat; the ID's "
                                "two-digit sequence holds 99", f"<= {99 * billet_t * strands:.0f} t"))
    return issues
