"""``bench quality``: its summary over seeds and its target checks (the training itself is a benchmark)."""
import math

import pytest

from course_lib.benchmarks import quality


def test_derived_worst_target_and_job_time():
    row = {"acc_g": 0.9, "acc_g_angry": 0.7, "acc_g_happy": 0.95, "n_g_angry": 20, "psnr_gain": 1.2}
    out = quality.derived(row, {"wall_time_s": 540.0}, 60.0)
    assert out["acc_g_min"] == pytest.approx(0.7)      # n_g_* counts are not accuracies
    assert out["job_min"] == pytest.approx(10.0)
    assert quality.derived(row, {}, 60.0)["job_min"] is None


def test_targets_are_checked_on_the_right_side():
    ops = {label: (op, thr) for label, _, op, thr in quality.TARGETS}
    assert quality.met(1.0, *ops["PSNR gain over copy >= +1.0 dB"]) is True
    assert quality.met(0.99, *ops["PSNR gain over copy >= +1.0 dB"]) is False
    assert quality.met(0.0, *ops["SSIM gain over copy > 0"]) is False      # a copy does not meet it
    hf = [(op, thr) for label, key, op, thr in quality.TARGETS if key == "hf_ratio"]
    assert all(quality.met(1.0, *t) for t in hf)
    assert not all(quality.met(1.22, *t) for t in hf)                      # the stripes of issue 15
    assert not all(quality.met(0.90, *t) for t in hf)
    assert quality.met(None, ">=", 0) is None


def test_spread_and_tables():
    m, sd, lo, hi = quality.spread([1.0, 2.0, 3.0])
    assert (m, lo, hi) == (2.0, 1.0, 3.0) and sd == pytest.approx(1.0)
    assert quality.spread([5.0])[1] == 0.0
    rows = [dict(seed=s, psnr_gain=g, ssim_gain=0.01, hf_ratio=1.0, acc_g=0.95, acc_g_min=0.8,
                 outside_change=0.05, job_min=15.0) for s, g in ((0, 1.5), (1, 0.5))]
    text = quality.summary_table({"lgp-gan": rows})
    assert "+1.00 ± 0.71 [+0.50, +1.50]" in text
    targets = quality.targets_table("lgp-gan", rows)
    psnr_line = next(line for line in targets.splitlines() if line.startswith("| PSNR gain"))
    assert psnr_line.count("NOT met") == 1 and "1.000 met" in psnr_line      # the mean meets it, seed 1 does not
    assert not math.isnan(quality.spread([0.1, 0.2])[0])


def test_summary_table_puts_the_method_between_copy_and_oracle():
    rows = [dict(seed=0, psnr_gain=-2.0, ssim_gain=-0.02, hf_ratio=0.97, acc_g=0.9, acc_g_min=0.8,
                 outside_change=0.08, job_min=15.0)]
    refs = [dict(method="copy (input unchanged)", psnr_gain=0.0, ssim_gain=0.0, hf_ratio=1.0, acc_g=0.002),
            dict(method="oracle (ground truth)", psnr_gain=float("inf"), ssim_gain=0.086, hf_ratio=1.0, acc_g=0.988)]
    text = quality.summary_table({"lgp-gan": rows}, refs)
    lines = [line for line in text.splitlines() if line.startswith("| ") and "---" not in line][1:]
    assert [line.split(" | ")[0] for line in lines] == ["| copy (input unchanged)", "| lgp-gan", "| oracle (ground truth)"]
    assert "| ∞ |" in lines[2] and "98.8" in lines[2] and "+0.00" in lines[0]
