"""course_lib.gan_health: the run-health signals of Lesson 7, on logs whose values are known."""
import csv

import matplotlib
import numpy as np
import pytest

from course_lib import gan_health
from course_lib.lesson import repo_root

matplotlib.use("Agg")


def write_log(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_smooth_is_a_trailing_mean():
    assert np.allclose(gan_health.smooth([1, 2, 3, 4, 5], 2), [1, 1.5, 2.5, 3.5, 4.5])
    assert np.allclose(gan_health.smooth([1, 2, 3], 1), [1, 2, 3])
    assert np.allclose(gan_health.smooth([4.0, 8.0, 0.0, 0.0], 3), [4, 6, 4, 8 / 3])


def test_health_signals(tmp_path):
    rows = [{"step": 10 * (i + 1), "D/adv": -0.5 * i, "D/cls": 1.0, "G/cls": 0.25 * i, "G/att": 1.5 + 0.3 * i}
            for i in range(4)]
    h = gan_health.health(gan_health.read_log(write_log(tmp_path / "log.csv", rows)), n_masks=3)
    assert np.allclose(h["wasserstein estimate"], [0, 0.5, 1.0, 1.5])
    assert np.allclose(h["classification gap"], [-1, -0.75, -0.5, -0.25])
    assert np.allclose(h["mask level"], [0.5, 0.6, 0.7, 0.8])
    assert "mask level" not in gan_health.health(gan_health.read_log(tmp_path / "log.csv"))


def test_bad_logs_are_named(tmp_path):
    with pytest.raises(ValueError, match="no such log"):
        gan_health.read_log(tmp_path / "missing.csv")
    (tmp_path / "empty.csv").write_text("step,D/adv\n")
    with pytest.raises(ValueError, match="no rows"):
        gan_health.read_log(tmp_path / "empty.csv")
    with pytest.raises(ValueError, match="D/cls"):
        gan_health.health({"step": [1], "D/adv": [0.0], "G/cls": [0.0]})


def test_mode_shares():
    x = np.array([-2.1, -1.9, 2.0, 2.2, 0.0])
    assert np.allclose(gan_health.mode_shares(x, [-2.0, 2.0], radius=0.5), [0.4, 0.4])
    assert np.allclose(gan_health.mode_shares(np.full(10, 2.0), [-2.0, 2.0], 0.5), [0.0, 1.0])   # collapsed
    with pytest.raises(ValueError, match="dimension"):
        gan_health.mode_shares(np.zeros((3, 2)), [0.0, 1.0], 0.5)


def test_committed_logs_plot():
    logs = repo_root() / "docs" / "logs"
    runs = {"LGP-GAN": logs / "lgp-gan_cpu.csv", "StarGAN": logs / "stargan_cpu.csv",
            "GANimation": logs / "ganimation_cpu.csv"}
    for path in runs.values():
        log = gan_health.read_log(path)
        assert set(log) <= set(gan_health.LOG_COLUMNS) and len(log["step"]) > 100
    axes = gan_health.plot_health(runs, masks={"LGP-GAN": 3, "GANimation": 2})
    assert [len(a.lines) for a in axes] == [3 + 1, 2 + 2, 3 + 1]      # curves + reference lines


def test_config_docstring_keeps_what_lesson_7_reads():
    """Lesson 7 prints the cpu preset's measured table and the n_critic = 1 result from config.py's docstring."""
    import re

    import course_lib.config as config_module

    doc = config_module.__doc__
    sentences = re.split(r"(?<=[.)]) (?=[A-Z(])", " ".join(doc.split()))
    assert any("``n_critic`` 1" in s for s in sentences)
    assert any(s.startswith("Two departures") for s in sentences)
    assert sum(1 for line in doc.splitlines() if line.strip().startswith("====")) >= 3
