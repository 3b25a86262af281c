"""Exercises of Lesson 11 (the landmark- and label-guided GAN, Li et al. 2021).

Expected values come from :mod:`course_lib.landmark_gan`, never typed in by hand."""
from __future__ import annotations

import torch

from course_lib import landmark_gan as lg
from course_lib.exercises import case, check_function, exercise


def _close(answer, expected, hint, tol=1e-6):
    try:
        value = float(answer)
    except (TypeError, ValueError):
        raise AssertionError(f"expected a number, got {type(answer).__name__}") from None
    assert abs(value - float(expected)) <= tol * max(1.0, abs(float(expected))), hint


@exercise("11.critic_side")
def _critic_side(answer):
    assert isinstance(answer, int) and not isinstance(answer, bool), "expected an integer (the side of the map)"
    _close(answer, lg.output_size(256), "not quite: follow Table 3 row by row - three stride-2 convs halve the side, "
                                        "then each 4x4 conv with stride 1 and padding 1 takes one pixel off")


@exercise("11.total_loss")
def _total_loss(answer):
    _close(answer, lg.total_generator_loss(0.7, 0.3, 0.1),
           "not quite: Eq. 7 weighs L_GAN by lambda_1 = 5, L_Per by lambda_2 = 10 and L_pixel by lambda_3 = 10 (IV.B)")


def heatmap_cases():
    """Inputs of exercise 11.heatmaps_function: ``(landmarks (B, K, 2), size, sigma)``."""
    g = torch.Generator().manual_seed(11)
    out = [case("random: 2 faces x 68 landmarks at 32x32, sigma 1.5", torch.rand(2, 68, 2, generator=g) * 31, 32, 1.5),
           case("random: fractional positions, sigma 3", torch.rand(1, 5, 2, generator=g) * 15, 16, 3.0)]
    asym = torch.tensor([[[2.0, 9.0], [12.0, 1.0]]])                # x != y: catches swapped axes
    out.append(case("edge: x and y differ (x = column, y = row)", asym, 16, 1.0))
    corner = torch.tensor([[[0.0, 0.0], [15.0, 15.0]]])
    out.append(case("edge: landmarks on the corners", corner, 16, 2.0))
    unknown = torch.tensor([[[4.0, 5.0], [float("nan"), float("nan")]]])
    out.append(case("edge: an unknown landmark (NaN) gives an empty channel", unknown, 8, 1.0))
    return out


@exercise("11.heatmaps_function", kind="function")
def _heatmaps_function(fn):
    check_function(fn, lg.landmark_heatmaps, heatmap_cases(), rtol=1e-4, atol=1e-5)


def migration_cases():
    """Inputs of exercise 11.migration_unit_function: ``(fp, fs, conv_p, conv_s)`` with small
    convolutions as the two paths (eval mode: no randomness)."""
    g = torch.Generator().manual_seed(12)
    out = []
    for label, dim, first, hw in (("random: first block (F^S has dim channels)", 3, True, 5),
                                  ("random: a later block (F^S has 2 dim channels)", 2, False, 4),
                                  ("edge: one channel, 1x1 maps", 1, True, 1)):
        s_in = dim if first else 2 * dim
        conv_p = torch.nn.Conv2d(dim, dim, 3, padding=1)
        conv_s = torch.nn.Conv2d(s_in, dim, 3, padding=1)
        for p in list(conv_p.parameters()) + list(conv_s.parameters()):
            torch.nn.init.normal_(p, 0, 0.5, generator=g)
        fp = torch.randn(2, dim, hw, hw, generator=g)
        fs = torch.randn(2, s_in, hw, hw, generator=g)
        out.append(case(label, fp, fs, conv_p.eval(), conv_s.eval()))
    return out


def _migration_outcome(f, c):
    with torch.no_grad():
        r = f(*c.args)
    if r is None:
        return None
    assert isinstance(r, (tuple, list)) and len(r) == 3, "return three tensors: (F^P_t, F^S_t, M_t)"
    return tuple(r)


@exercise("11.migration_unit_function", kind="function")
def _migration_unit_function(fn):
    check_function(fn, lg.migration_update, migration_cases(), run=_migration_outcome, rtol=1e-5, atol=1e-6)
