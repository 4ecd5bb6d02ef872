"""Resampling: interpolate (to a size or by a scale factor), pixel_shuffle and
pixel_unshuffle, over channels-first tensors `[b, c, *spatial]` as in
`torch.nn.functional`. The shapes are what is checked; the NumPy kernel of
`interpolate` samples the nearest input position in every mode."""
from __future__ import annotations

from fractions import Fraction

from .core import BOOL, DIM, DIMS, NUMBER, STR, TENSOR, Arg, Out, fixed, op

#: mode -> (number of spatial axes it needs or None for any of 1..3, input positions read per output)
_MODES = {"nearest": (None, 0), "nearest-exact": (None, 0), "linear": (1, 2), "bilinear": (2, 2),
          "bicubic": (2, 4), "trilinear": (3, 2)}


def scale_fraction(scale) -> Fraction:
    """A scale factor as an exact fraction (a float as the nearest one with a denominator
    up to 10**6: 0.5 -> 1/2, 1.5 -> 3/2)."""
    return Fraction(scale).limit_denominator(10 ** 6)


def _out_sizes(spatial, size, scale):
    if size is not None:
        return tuple(size) if isinstance(size, tuple) else (size,) * len(spatial)
    f = scale_fraction(scale)
    return tuple(d * f.numerator // f.denominator for d in spatial)   # floor(d * f), of ints or expressions


def _interpolate_kernel(k, x, size, scale_factor, mode, align_corners):
    np = k.np
    y = x
    for j, (n, m) in enumerate(zip(x.shape[2:], _out_sizes(x.shape[2:], size, scale_factor))):
        y = np.take(y, (np.arange(m) * n) // m, axis=2 + j)    # nearest: floor(i * in / out)
    return y if _MODES[mode][1] == 0 else y.astype(k.dtype)     # the other modes compute floats


def _interpolate_count(args, out) -> int:
    taps = _MODES[args[3]][1]
    return 2 * taps ** (len(args[0].shape) - 2) * int(out.size) if taps else 0


@op("interpolate", Arg("x", TENSOR), Arg("size", DIMS, None), Arg("scale_factor", NUMBER, None),
    Arg("mode", STR, "nearest"), Arg("align_corners", BOOL, None), kernel=_interpolate_kernel,
    count=_interpolate_count)
def interpolate(r, x, size, scale, mode, align_corners):
    """`interpolate(x, size=none, scale_factor=none, mode="nearest")`: `[b, c, *spatial]` resized
    to `size` (one size for every spatial axis, or one each) or to `floor(d * scale_factor)`."""
    shape = fixed(r, x, "interpolate")
    if mode not in _MODES:
        r.fail("SC103", f"interpolate: mode must be one of {', '.join(_MODES)}, got {mode!r}")
    need, taps = _MODES[mode]
    n_sp = len(shape) - 2
    if not 1 <= n_sp <= 3 or (need is not None and n_sp != need):
        want = "3 to 5" if need is None else str(need + 2)
        r.fail("SC304", f"interpolate: mode {mode!r} needs a tensor of rank {want} ([b, c, *spatial]), "
                        f"got {r.show_shape(shape)}")
    if align_corners is not None and taps == 0:
        r.fail("SC105", f"interpolate: align_corners is only for the linear and cubic modes, not {mode!r}")
    if (size is None) == (scale is None):
        r.fail("SC105", "interpolate: give exactly one of `size` and `scale_factor`")
    if isinstance(size, tuple) and len(size) != n_sp:
        r.fail("SC304", f"interpolate: {len(size)} sizes for {n_sp} spatial axes")
    if scale is not None and not float(scale) > 0:
        r.fail("SC103", f"interpolate: scale_factor must be positive, got {scale}")
    out = shape[:2] + _out_sizes(shape[2:], size, scale)
    return Out(out, x.dtype if taps == 0 else "float", flops=2 * taps ** n_sp * r.numel(out) if taps else 0)


def _pixel_shuffle_kernel(k, x, upscale_factor):
    f = upscale_factor
    *lead, c, h, w = x.shape
    n = len(lead)
    y = x.reshape(*lead, c // (f * f), f, f, h, w)
    y = y.transpose(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return y.reshape(*lead, c // (f * f), h * f, w * f)


def _pixel_unshuffle_kernel(k, x, downscale_factor):
    f = downscale_factor
    *lead, c, h, w = x.shape
    n = len(lead)
    y = x.reshape(*lead, c, h // f, f, w // f, f)
    y = y.transpose(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return y.reshape(*lead, c * f * f, h // f, w // f)


def _last3(r, x, what):
    shape = fixed(r, x, what)
    if len(shape) < 3:
        r.fail("SC304", f"{what} needs [*, c, h, w], got {r.show_shape(shape)}")
    return shape


@op("pixel_shuffle", Arg("x", TENSOR), Arg("upscale_factor", DIM), kernel=_pixel_shuffle_kernel)
def pixel_shuffle(r, x, f):
    """`pixel_shuffle(x, upscale_factor)`: `[*, c*r*r, h, w] -> [*, c, h*r, w*r]`."""
    shape = _last3(r, x, "pixel_shuffle")
    r.positive(f, "pixel_shuffle: upscale_factor")
    c = r.div(shape[-3], f * f, "pixel_shuffle: channels by upscale_factor**2")
    return Out(shape[:-3] + (c, shape[-2] * f, shape[-1] * f), x.dtype)


@op("pixel_unshuffle", Arg("x", TENSOR), Arg("downscale_factor", DIM), kernel=_pixel_unshuffle_kernel)
def pixel_unshuffle(r, x, f):
    """`pixel_unshuffle(x, downscale_factor)`: `[*, c, h*r, w*r] -> [*, c*r*r, h, w]`."""
    shape = _last3(r, x, "pixel_unshuffle")
    r.positive(f, "pixel_unshuffle: downscale_factor")
    h = r.div(shape[-2], f, "pixel_unshuffle: height by downscale_factor")
    w = r.div(shape[-1], f, "pixel_unshuffle: width by downscale_factor")
    return Out(shape[:-3] + (shape[-3] * f * f, h, w), x.dtype)
