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
    assert check("01.sad_fear_jaccard", "wrong type") is False
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


def test_too_old_package_is_installed_and_caches_invalidated(monkeypatch):
    import importlib

    import yaml

    events = []
    monkeypatch.setattr(subprocess, "run", lambda cmd, **k: events.append(("pip", cmd)))
    monkeypatch.setattr(importlib, "invalidate_caches", lambda: events.append(("invalidate", None)))
    pkgs = {"yaml": "pyyaml>=999", "json": "json-is-stdlib"}     # yaml imports, but is too old
    assert setup_env.ensure_packages(pkgs) == ["pyyaml>=999"]
    assert [e[0] for e in events] == ["pip", "invalidate"]      # invalidate after installing
    assert events[0][1][-1] == "pyyaml>=999"
    # a floor the installed version meets: nothing to do, no pip, no invalidation
    events.clear()
    have = yaml.__version__
    assert setup_env.ensure_packages({"yaml": f"pyyaml>={have}"}) == [] and events == []
    assert setup_env.installed_version("pyyaml") == have        # the pip name, not the module name
    assert setup_env.package_report(pkgs) == {"pyyaml>=999": f"{have} installed, need >=999"}


def test_torch_numpy_dlib_are_never_version_checked(monkeypatch):
    import importlib.util

    monkeypatch.setattr(subprocess, "run", lambda *a, **k: pytest.fail("must not re-pin torch/numpy/dlib"))
    # the same floor on a package that is version-checked is reported
    assert setup_env.missing_packages({"tqdm": "tqdm>=999"}) == ["tqdm>=999"]
    present = [m for m in ("dlib", "numpy", "torch", "torchvision") if importlib.util.find_spec(m)]
    assert present, "the test needs at least one of torch/torchvision/numpy/dlib installed"
    impossible = {m: f"{setup_env.PACKAGES[m].split('>')[0]}>=999" for m in present}
    assert setup_env.missing_packages(impossible) == []
    assert setup_env.ensure_packages(impossible) == []
    assert setup_env.PRESENCE_ONLY == {"torch", "torchvision", "numpy", "dlib"}


def test_setup_floors_match_pyproject():
    import re
    import tomllib
    from pathlib import Path

    deps = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["dependencies"]
    norm = lambda r: re.split(r"[<>=!~ ]", r, maxsplit=1)[0].lower().replace("_", "-")
    floors = {norm(r): r.replace(" ", "") for r in deps}
    for mod, req in setup_env.PACKAGES.items():
        if mod not in setup_env.PRESENCE_ONLY:
            assert floors[norm(req)] == req, (req, floors[norm(req)])
    assert setup_env.PACKAGES["ipywidgets"] == "ipywidgets>=7.7"    # Colab ships ipywidgets 7


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
