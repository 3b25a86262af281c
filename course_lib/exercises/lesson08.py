"""Checkers of Lesson 8 (evaluation: FID, IS, PSNR/SSIM, R / G / R+G, identity)."""
import numpy as np

from course_lib import facs, metrics
from course_lib.exercises import exercise


def exercise_features(n: int = 500, d: int = 4, seed: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The two feature sets of exercise 08.fid_by_hand: 'real' and 'generated' (shifted and stretched)."""
    rng = np.random.default_rng(seed)
    real = rng.normal(size=(n, d))
    generated = rng.normal(size=(n, d)) * np.linspace(0.5, 2.0, d) + np.linspace(0.0, 1.0, d)
    return real, generated


@exercise("08.fid_by_hand")
def _fid_by_hand(answer):
    expected = metrics.fid_from_features(*exercise_features())
    value = float(answer)
    assert np.isfinite(value), "FID is a finite number"
    assert value >= 0, "FID is a squared distance: it cannot be negative (did you keep only the real part of sqrtm?)"
    assert abs(value - expected) <= 1e-3 * max(1.0, expected), (
        "not yet: |mu_r - mu_g|^2 + Tr(S_r + S_g - 2 sqrtm(S_r S_g)), with np.cov(..., rowvar=False) as S")


@exercise("08.psnr_offset")
def _psnr_offset(answer):
    a = np.full((1, 8, 8, 3), 100, np.uint8)
    expected = float(metrics.psnr(a + np.uint8(10), a)[0])
    assert abs(float(answer) - expected) < 1e-6, ("not yet: every pixel is off by 10, so MSE = 100; "
                                                   "PSNR = 10 log10(255^2 / MSE) in dB")


@exercise("08.identity_g")
def _identity_g(answer):
    expected = 1 / len(facs.EXPRESSIONS)
    assert abs(float(answer) - expected) < 1e-9, (
        "not yet: the judge gives each unchanged input one fixed label; of the 8 targets it was "
        "asked to become, how many can that label match?")
