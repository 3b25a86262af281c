"""Exercises checker, Colab set-up helper, fast mode and the Lesson 1 figures/widget."""
import subprocess

import numpy as np
import pytest

from course_lib import facs, lesson, setup_env, viz
from course_lib.exercises import check


def test_check_verdicts(capsys):
    assert check("01.crop_share", None) is False
    assert "not attempted" in capsys.readouterr().out
    assert check("01.crop_share", 0.5) is False
    assert "not yet" in capsys.readouterr().out
    assert check("01.crop_share", 22 / 23) is True
    assert check("01.sad_vector", "wrong type") is False
    with pytest.raises(ValueError, match="unknown exercise"):
        check("01.no_such_exercise", 1)


def test_region_counts_exercise_rejects_a_set_count():
    unique = {r: len({a for e in facs.BASIC_EXPRESSIONS for a in facs.EXPRESSION_AUS[e] if facs.au_region(a) == r})
              for r in facs.REGIONS}
    assert check("01.region_counts", unique) is False  # counting distinct AUs is the classic mistake


def test_missing_packages_and_dry_run(monkeypatch):
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("must not install in a dry run"))
    fake = {"json": "json-req", "surely_not_a_module_xyz": "the-missing-one"}
    assert setup_env.missing_packages(fake) == ["the-missing-one"]
    assert setup_env.ensure_packages(fake, dry_run=True) == ["the-missing-one"]


def test_ensure_packages_installs_only_missing(monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **k: calls.append(cmd))
    setup_env.ensure_packages({"numpy": "numpy==0.0", "surely_not_a_module_xyz": "x-pkg"})
    assert len(calls) == 1 and calls[0][-1] == "x-pkg" and "numpy==0.0" not in calls[0]


def test_fast_mode(monkeypatch):
    monkeypatch.setenv(lesson.FAST_ENV, "1")
    assert lesson.fast_mode() and lesson.pick(100, 2) == 2
    monkeypatch.setenv(lesson.FAST_ENV, "0")
    assert not lesson.fast_mode() and lesson.pick(100, 2) == 100


def test_heatmap_matrix_is_table_i():
    m, aus = viz.expression_au_matrix()
    assert m.shape == (len(aus), 8)
    for j, e in enumerate(facs.EXPRESSIONS):
        assert {a for a, v in zip(aus, m[:, j]) if v} == set(facs.EXPRESSION_AUS[e])


def test_figures_draw():
    import matplotlib
    matplotlib.use("Agg")
    assert viz.expression_au_heatmap().images
    ax = viz.region_count_bars()
    assert [p.get_height() for p in ax.patches] == list(facs.region_counts().values())


def test_au_explorer_updates():
    panel = viz.au_explorer()
    assert "neutral" in panel.result.value
    panel.boxes[6].value = True
    panel.boxes[12].value = True
    assert "closest: happy" in panel.result.value and "1.00" in panel.result.value
