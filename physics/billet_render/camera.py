"""The two marking-camera sites and what their optics do to a composed billet face.

A site is data (:class:`CameraSite`): the lamp (direction, elevation,
colour), the camera pose (tilt and yaw away from the face normal, in-plane
roll of the billet and their spreads), zoom, focus blur, sensor noise,
exposure and tone curve. ``SITES["A"]`` and ``SITES["B"]`` are two clearly
different installations: A looks at the face almost square-on under a
warm lamp 40 degrees up from the upper left; B is mounted off-axis
(tilted 16 degrees about the image x axis, turned 14 degrees about y, closer
to the face) with a cold LED raking from the right at 22 degrees, a softer
focus, more noise, stronger vignetting and a darker exposure.

Geometry
--------
The face is a plane; a pinhole camera at ``distance_mm`` looks at its
centre. With face coordinates (X, Y) in mm (origin at the face centre,
x right, y down) the image point is x ~ K [r1 r2 t] (X, Y, 1)^T, a
homography (:func:`face_homography`). It maps *continuous* face-canvas
pixel coordinates (pixel i covers [i, i + 1)) to continuous output
coordinates; :func:`warp` feeds its inverse to Pillow's PERSPECTIVE
transform, which samples each output pixel centre. The same matrix warps
the image (bilinear) and the integer character label map (nearest), which
is what makes the character boxes exact.

Photometry
----------
Radiance -> gain (``exposure`` / radiance of a flat face of albedo 1, so
sites with weak or raking lamps are exposed for them as a plant would set
them up) -> tone curve (gamma with a soft shoulder, by
look-up table) -> 8 bit, then focus blur (separable Gaussian), vignetting
and sensor noise ``sd = sqrt(read^2 + shot^2 * signal)``. The normal
variates come from an inverse-CDF table indexed by random bytes, which is
five times faster than ``standard_normal`` and exact to 1/256 in
probability (tails cut at 2.9 sd).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy.special import ndtri

from .shading import Light


@dataclass(frozen=True)
class CameraPose:
    """One photograph's pose: angles in degrees, centre offset in output pixels, exposure factor."""

    roll_deg: float
    tilt_deg: float
    yaw_deg: float
    offset_px: tuple[float, float]
    exposure_factor: float


@dataclass(frozen=True)
class CameraSite:
    """A camera installation: lamp, pose, optics and sensor (see the module docstring)."""

    name: str
    light: Light
    light_rgb: tuple[float, float, float] = (1.0, 1.0, 1.0)
    tilt_deg: float = 0.0            #: camera pitch away from the face normal (about the image x axis)
    yaw_deg: float = 0.0             #: camera turn away from the face normal (about the image y axis)
    pose_sd_deg: float = 1.0         #: photo-to-photo spread of tilt and yaw
    roll_deg: float = 0.0            #: mean in-plane rotation of the billet in the image
    roll_sd_deg: float = 3.0         #: billet-to-billet spread of the in-plane rotation
    distance_mm: float = 600.0       #: camera to face centre (sets the perspective strength)
    face_fraction: float = 0.95      #: face width / image width for a square-on view (zoom)
    centre_sd: float = 0.02          #: random offset of the face centre, fraction of the image size
    focus_blur_px: float = 0.8       #: Gaussian sigma of the focus blur at 512 px (scaled with the size)
    read_noise: float = 0.012        #: sensor read noise sd, fraction of full scale
    shot_noise: float = 0.03         #: shot noise sd at full scale (sd = shot * sqrt(signal))
    exposure: float = 1.0            #: level (0..1, before the tone curve) of a flat face of albedo 1
    exposure_sd: float = 0.08        #: photo-to-photo spread of the gain (log-normal)
    gamma: float = 1.0               #: tone curve exponent, out = in^(1/gamma) (before the shoulder)
    vignetting: float = 0.15         #: relative fall-off at the image corners
    background: float = 0.06         #: grey level (0..1) of what lies beyond the billet face

    def __post_init__(self) -> None:
        checks = {"distance_mm": self.distance_mm > 0, "face_fraction": 0.1 <= self.face_fraction <= 5.0,
                  "focus_blur_px": self.focus_blur_px >= 0, "read_noise": self.read_noise >= 0,
                  "shot_noise": self.shot_noise >= 0, "exposure": self.exposure > 0, "gamma": self.gamma > 0,
                  "vignetting": 0 <= self.vignetting < 1, "background": 0 <= self.background <= 1,
                  "pose_sd_deg": self.pose_sd_deg >= 0, "roll_sd_deg": self.roll_sd_deg >= 0,
                  "centre_sd": self.centre_sd >= 0, "exposure_sd": self.exposure_sd >= 0,
                  "tilt_deg": abs(self.tilt_deg) < 60, "yaw_deg": abs(self.yaw_deg) < 60}
        bad = [k for k, ok in checks.items() if not ok]
        if bad:
            raise ValueError(f"CameraSite {self.name!r}: invalid {', '.join(f'{k}={getattr(self, k)!r}' for k in bad)}")

    def with_(self, **changes) -> "CameraSite":
        """A copy with some fields changed (e.g. a test site without random pose)."""
        return replace(self, **changes)


#: The two installations of the billet line.
SITES: dict[str, CameraSite] = {
    "A": CameraSite(
        name="A",
        light=Light(azimuth_deg=-130.0, elevation_deg=40.0, ambient=0.32, diffuse=0.95, specular=0.18, shininess=16),
        light_rgb=(1.06, 1.0, 0.9),            # warm halogen
        tilt_deg=4.0, yaw_deg=-3.0, pose_sd_deg=1.0, roll_deg=0.0, roll_sd_deg=3.0,
        distance_mm=700.0, face_fraction=0.95, centre_sd=0.02,
        focus_blur_px=0.6, read_noise=0.01, shot_noise=0.025,
        exposure=0.95, exposure_sd=0.06, gamma=1.15, vignetting=0.12, background=0.05),
    "B": CameraSite(
        name="B",
        light=Light(azimuth_deg=10.0, elevation_deg=22.0, ambient=0.22, diffuse=1.1, specular=0.3, shininess=32),
        light_rgb=(0.88, 0.97, 1.12),          # cold LED bar
        tilt_deg=-16.0, yaw_deg=14.0, pose_sd_deg=2.0, roll_deg=4.0, roll_sd_deg=6.0,
        distance_mm=450.0, face_fraction=1.05, centre_sd=0.03,
        focus_blur_px=1.3, read_noise=0.025, shot_noise=0.045,
        exposure=0.8, exposure_sd=0.12, gamma=0.9, vignetting=0.3, background=0.02),
}


def get_site(site: "str | CameraSite") -> CameraSite:
    """The site named ``site`` (``"A"``/``"B"``), or ``site`` itself if it is a :class:`CameraSite`."""
    if isinstance(site, CameraSite):
        return site
    if isinstance(site, str) and site in SITES:
        return SITES[site]
    raise ValueError(f"unknown camera site {site!r}; known sites: {', '.join(sorted(SITES))} "
                     f"(or pass a CameraSite)")


def draw_pose(site: CameraSite, rng: np.random.Generator, size_px: int) -> CameraPose:
    """Random pose of one photograph at ``site`` (always five normal draws, whatever the spreads)."""
    z = rng.standard_normal(5)
    return CameraPose(roll_deg=float(site.roll_deg + site.roll_sd_deg * z[0]),
                      tilt_deg=float(site.tilt_deg + site.pose_sd_deg * z[1]),
                      yaw_deg=float(site.yaw_deg + site.pose_sd_deg * z[2]),
                      offset_px=(float(site.centre_sd * size_px * z[3]), float(site.centre_sd * size_px * z[4])),
                      exposure_factor=float(np.exp(site.exposure_sd * rng.standard_normal())))


def _rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def face_homography(site: CameraSite, pose: CameraPose, face_px: int, face_mm: float, out_px: int) -> np.ndarray:
    """3x3 homography from face-canvas pixel coordinates to output pixel coordinates.

    The face canvas is ``face_px`` square covering ``face_mm``; the billet is
    turned by ``pose.roll_deg`` about its axis (positive = clockwise on
    screen, y down), the camera looks at the face centre from
    ``site.distance_mm`` with its axis tilted by ``pose.tilt_deg`` about x
    and ``pose.yaw_deg`` about y; a square-on view shows the face
    ``site.face_fraction`` of the image wide. Normalised so H[2, 2] = 1.
    """
    mm_per_px = face_mm / face_px
    # face pixels -> face mm, centred
    to_mm = np.array([[mm_per_px, 0, -face_mm / 2], [0, mm_per_px, -face_mm / 2], [0, 0, 1]])
    roll = _rot_z(np.radians(pose.roll_deg))
    # camera-to-world rotation: camera z axis = viewing direction; world z points into the face.
    cam_to_world = _rot_y(np.radians(pose.yaw_deg)) @ _rot_x(np.radians(pose.tilt_deg))
    r = cam_to_world.T
    centre = cam_to_world @ np.array([0.0, 0.0, -site.distance_mm])
    t = -r @ centre
    f = site.face_fraction * out_px * site.distance_mm / face_mm
    k = np.array([[f, 0, out_px / 2 + pose.offset_px[0]], [0, f, out_px / 2 + pose.offset_px[1]], [0, 0, 1]])
    plane = np.column_stack([r @ roll[:, 0], r @ roll[:, 1], t])   # points (X, Y, 0) of the turned face
    h = k @ plane @ to_mm
    return h / h[2, 2]


def warp(image: Image.Image, homography: np.ndarray, out_px: int, resample: Image.Resampling,
         fill: int | tuple[int, ...] = 0) -> Image.Image:
    """Pillow PERSPECTIVE warp of ``image`` by ``homography`` (input -> output coordinates)."""
    inv = np.linalg.inv(homography)
    inv = inv / inv[2, 2]
    return image.transform((out_px, out_px), Image.Transform.PERSPECTIVE, tuple(inv.ravel()[:8].tolist()),
                           resample, fillcolor=fill)


@lru_cache(maxsize=16)
def tone_lut(gamma: float, levels: int = 4096, top: float = 1.6) -> np.ndarray:
    """uint8 table for radiance in [0, top] (``levels`` steps): gamma, then a soft shoulder above 0.8."""
    x = np.linspace(0.0, top, levels)
    y = np.power(x, 1.0 / gamma)
    knee = 0.8
    over = y > knee
    y[over] = knee + (1.0 - knee) * np.tanh((y[over] - knee) / (1.0 - knee))
    lut = np.clip(np.round(y * 255.0), 0, 255).astype(np.uint8)
    lut.setflags(write=False)
    return lut


def exposure_gain(site: CameraSite, pose: CameraPose) -> float:
    """Gain on radiance: the site's exposure relative to a flat, albedo-1 face under its lamp."""
    light = site.light
    flat = light.ambient + light.diffuse * np.sin(np.radians(light.elevation_deg))
    return float(site.exposure * pose.exposure_factor / max(flat, 1e-6))


def to_uint8(radiance: np.ndarray, gain: float, gamma: float, levels: int = 4096, top: float = 1.6) -> np.ndarray:
    """Exposure ``gain`` and the tone curve, by table look-up: float radiance -> uint8."""
    idx = radiance * np.float32(gain * (levels - 1) / top)
    np.clip(idx, 0, levels - 1, out=idx)
    return tone_lut(float(gamma), levels, top)[idx.astype(np.uint16)]


@lru_cache(maxsize=1)
def _normal_table() -> np.ndarray:
    """256 equal-probability quantiles of N(0, 1), rescaled to unit variance."""
    q = ndtri((np.arange(256) + 0.5) / 256.0)
    q = q / np.sqrt(np.mean(q * q))
    q = q.astype(np.float32)
    q.setflags(write=False)
    return q


def normal_noise(shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
    """Approximately N(0, 1) float32 noise from random bytes and an inverse-CDF table."""
    return _normal_table()[rng.integers(0, 256, size=shape, dtype=np.uint8)]


@lru_cache(maxsize=16)
def vignette(out_px: int, strength: float) -> np.ndarray:
    """Multiplicative cos^4-like fall-off: 1 at the centre, 1 - strength at the corners (float32)."""
    c = (out_px - 1) / 2.0
    yy, xx = np.mgrid[0:out_px, 0:out_px]
    r2 = ((xx - c) ** 2 + (yy - c) ** 2) / (2 * c * c)
    v = (1.0 - strength * r2).astype(np.float32)
    v.setflags(write=False)
    return v


@lru_cache(maxsize=16)
def gaussian_taps(sigma_px: float) -> tuple[float, ...]:
    """Normalised 1-D Gaussian taps of radius ceil(2.5 sigma) (at least 1)."""
    r = max(1, int(np.ceil(2.5 * sigma_px)))
    w = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma_px) ** 2)
    return tuple((w / w.sum()).tolist())


def focus_blur(a: np.ndarray, sigma_px: float) -> np.ndarray:
    """Separable Gaussian blur of a float32 (H, W[, C]) image, edges clamped; a few shifted adds."""
    taps = gaussian_taps(float(sigma_px))
    r = len(taps) // 2
    out = a
    for axis in (0, 1):
        n = out.shape[axis]
        padded = np.concatenate([np.repeat(out.take([0], axis=axis), r, axis=axis), out,
                                 np.repeat(out.take([n - 1], axis=axis), r, axis=axis)], axis=axis)
        sl = [slice(None)] * out.ndim
        sl[axis] = slice(0, n)
        acc = padded[tuple(sl)] * np.float32(taps[0])
        for k in range(1, len(taps)):
            sl[axis] = slice(k, k + n)
            acc += padded[tuple(sl)] * np.float32(taps[k])
        out = acc
    return out


def apply_optics(image: Image.Image, site: CameraSite, out_px: int, rng: np.random.Generator) -> np.ndarray:
    """Focus blur, vignetting and sensor noise on a warped 8-bit image; returns uint8 (H, W[, 3])."""
    arr = np.asarray(image, dtype=np.float32)
    sigma = site.focus_blur_px * out_px / 512.0
    if sigma > 0.25:
        arr = focus_blur(arr, sigma)
    vig = vignette(out_px, float(site.vignetting))
    if arr.ndim == 3:
        vig = vig[..., None]
    arr *= vig
    # sd in 8-bit units: sqrt(read^2 + shot^2 * signal), signal in [0, 1]
    var = arr * np.float32(site.shot_noise ** 2 * 255.0)
    var += np.float32((site.read_noise * 255.0) ** 2)
    np.sqrt(var, out=var)
    var *= normal_noise(arr.shape, rng)
    arr += var
    arr += np.float32(0.5)
    np.clip(arr, 0.0, 255.0, out=arr)
    return arr.astype(np.uint8)
