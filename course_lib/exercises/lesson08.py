"""Checkers of Lesson 8 (evaluation: FID, IS, PSNR/SSIM and their gains over copy, the
high-frequency ratio, R / G / R+G, identity)."""
import numpy as np
import torch

from course_lib import evaluate, facs, metrics
from course_lib.exercises import case, check_function, exercise


def exercise_features(n: int = 500, d: int = 4, seed: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The two feature sets of exercise 08.fid_by_hand: 'real' and 'generated' (shifted and stretched)."""
    rng = np.random.default_rng(seed)
    real = rng.normal(size=(n, d))
    generated = rng.normal(size=(n, d)) * np.linspace(0.5, 2.0, d) + np.linspace(0.0, 1.0, d)
    return real, generated


def exercise_translations(n: int = 4, size: int = 16, seed: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(inputs, outputs, truths)`` of exercises 08.psnr_gain and 08.hf_ratio: uint8 arrays (n, size, size, 3).

    Each input is a smooth "face" (a brightness ramp plus noise); its truth darkens a "mouth"
    box (rows 10-12, columns 4-11) by 15 to 45 grey levels (one depth per image); the output
    darkens it by 70 % of that and adds horizontal stripes (+6 grey levels on every other row)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    inputs = (80 + 90 * yy[None, :, :, None] + 30 * xx[None, :, :, None] + rng.uniform(-20, 20, (n, 1, 1, 3))
              + rng.normal(0, 2, (n, size, size, 3)))
    mouth = np.zeros((1, size, size, 1))
    mouth[:, 10:13, 4:12] = 1
    depth = np.linspace(15, 45, n)[:, None, None, None]
    stripes = np.zeros((1, size, size, 1))
    stripes[:, ::2] = 6
    u8 = lambda a: np.clip(a, 0, 255).round().astype(np.uint8)
    return u8(inputs), u8(inputs - 0.7 * depth * mouth + stripes), u8(inputs - depth * mouth)


def _close(value: float, expected: float, tol: float = 1e-6) -> bool:
    return abs(value - expected) <= tol * max(1.0, abs(expected))


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


@exercise("08.copy_g")
def _copy_g(answer):
    r = 0.9
    value = float(answer)
    assert not _close(value, 1 / len(facs.EXPRESSIONS)), (
        "1/8 was the answer when every face was also asked for its own expression; here its own "
        "expression is left out: only the 7 other targets count")
    assert not _close(value, 0.0), (
        "the judge is wrong on 10 % of the real faces, and a wrong label is always one of the 7 other "
        "expressions: some unchanged faces do get counted as their target")
    # expected, by running the protocol on labels: 80 faces, the judge wrong on 10 % of them
    labels = torch.arange(80) % len(facs.EXPRESSIONS)
    predicted = labels.clone()
    predicted[::10] = (labels[::10] + 3) % len(facs.EXPRESSIONS)
    assert int((predicted != labels).sum()) == round((1 - r) * len(labels))
    source, target = evaluate.changed_pairs(labels)     # each face to its 7 other expressions
    expected = float((predicted[source] == target).float().mean())
    assert _close(value, expected, 1e-3), (
        "each face is asked for 7 targets and the judge gives its unchanged copy one label: how many of "
        "the 7 targets can that label match when the judge reads the face right, and when it reads it wrong?")


def _mean_psnr(a, b) -> float:
    return float(metrics.psnr(a, b).mean())


@exercise("08.psnr_gain")
def _psnr_gain(answer):
    inputs, outputs, truths = exercise_translations()
    expected = _mean_psnr(outputs, truths) - _mean_psnr(inputs, truths)
    value = float(answer)
    assert not _close(value, -expected, 1e-4), "the sign: gain = PSNR(translation, truth) - PSNR(input, truth)"
    mse = lambda a, b: float(((a.astype(np.float64) - b) ** 2).mean())
    pooled = 10 * np.log10(255 ** 2 / mse(outputs, truths)) - 10 * np.log10(255 ** 2 / mse(inputs, truths))
    assert not _close(value, pooled, 1e-4), ("PSNR of one image at a time, then the mean over the images "
                                              "(not one PSNR of the MSE pooled over all images)")
    assert _close(value, expected, 1e-4), (
        "per image: PSNR = 10 log10(255^2 / MSE) with the MSE over its pixels and channels (as floats, not "
        "uint8); the gain is mean PSNR(outputs, truths) - mean PSNR(inputs, truths) in dB")


@exercise("08.hf_ratio")
def _hf_ratio(answer):
    _, outputs, truths = exercise_translations()
    expected = metrics.high_frequency_ratio(outputs, truths)
    value = float(answer)
    assert not _close(value, 1 / expected, 1e-4), "upside down: the translations' energy over the truths'"
    assert _close(value, expected, 1e-4), (
        "mean |laplacian(outputs)| over mean |laplacian(truths)|, each mean over all images, pixels and "
        "channels (on float values: uint8 arithmetic wraps around)")


def frechet_cases():
    """Inputs of exercise 08.frechet_function: ``(mu1, sigma1, mu2, sigma2)``: random Gaussians
    and edge cases (the same Gaussian, one dimension, a singular covariance)."""
    rng = np.random.default_rng(80)

    def spd(d):
        a = rng.normal(size=(d, d + 2))
        return a @ a.T / (d + 2)

    out = []
    for i, d in enumerate([2, 3, 5]):
        out.append(case(f"random, {d}-D", rng.normal(size=d), spd(d), rng.normal(size=d) + 1, spd(d)))
    mu, s = rng.normal(size=3), spd(3)
    out.append(case("edge: the same Gaussian twice", mu, s, mu.copy(), s.copy()))
    out.append(case("edge: one dimension", np.array([0.5]), np.array([[4.0]]), np.array([-1.0]), np.array([[1.0]])))
    a = rng.normal(size=(3, 1))
    out.append(case("edge: a singular covariance (rank 1)", np.zeros(3), a @ a.T, np.ones(3), spd(3)))
    return out


@exercise("08.frechet_function", kind="function")
def _frechet_function(fn):
    check_function(fn, metrics.frechet_distance, frechet_cases(), rtol=1e-4, atol=1e-4)
