"""The single entry point ``python -m course_lib``."""
import subprocess
import sys

import pytest

from course_lib import cli, facs


def run(*args):
    return subprocess.run([sys.executable, "-m", "course_lib", *args], capture_output=True, text=True)


def test_help_lists_commands():
    r = run("--help")
    assert r.returncode == 0
    for command in ("facs", "bench", "badges", "main", "judge"):
        assert command in r.stdout


def test_facs_prints_every_expression_with_its_aus(capsys):
    assert cli.main(["facs"]) == 0
    out = capsys.readouterr().out
    for i, name in enumerate(facs.EXPRESSIONS):
        line = next(l for l in out.splitlines() if f" {name} " in l)
        assert line.split()[0] == str(i)
        for au in facs.EXPRESSION_AUS[name]:
            assert f"AU{au}" in line
    assert "unilateral" in next(l for l in out.splitlines() if "contemptuous" in l)


def test_unknown_command_is_an_error():
    r = run("no-such-command")
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_badges_check_passes():
    assert cli.main(["badges", "--check"]) == 0


def test_main_job_evaluates_without_rg_unless_asked(tmp_path, monkeypatch):
    """The main job's step 4 leaves R+G out by default, includes it with --rg, skips with --no-eval."""
    from course_lib import datasets, evaluate, trainer

    class FakeTrainer:                      # the wiring only: training itself is tested in test_trainer
        def __init__(self, config, out, resume=False, steps=None):
            self.out = out
            self.samples = {"sample_grid": out / "samples" / "g.png", "masks": None}

        def train(self):
            self.samples["sample_grid"].parent.mkdir(parents=True, exist_ok=True)
            self.samples["sample_grid"].write_bytes(b"png")
            return {"interrupted": False, "wall_time_s": 0.0, "step": 1, "steps": 1}

        def write_samples(self):
            return dict(self.samples)

    calls = []
    monkeypatch.setattr(trainer, "Trainer", FakeTrainer)
    monkeypatch.setattr(evaluate, "evaluate_run", lambda run, **kw: calls.append(kw))
    monkeypatch.setattr(datasets, "DEFAULT_SYNTHETIC", tmp_path / "synthetic")   # "already built"
    (tmp_path / "synthetic").mkdir()
    (tmp_path / "synthetic" / datasets.METADATA).write_text("{}")
    monkeypatch.setattr("course_lib.commands.train.print_summary", lambda *a: None)
    for extra, expected in (([], [{"rg": False}]), (["--rg"], [{"rg": True}]), (["--no-eval"], [])):
        calls.clear()
        assert cli.main(["main", "--out", str(tmp_path / "run"), *extra]) == 0
        assert calls == expected, extra


def test_main_job_reports_an_evaluation_error_naming_the_file(tmp_path, monkeypatch, capsys):
    """A corrupted shipped judge (or any bad file) stops the main job's step 4 with one line naming it."""
    from course_lib import datasets, evaluate, trainer

    class FakeTrainer:
        def __init__(self, config, out, resume=False, steps=None):
            self.grid = out / "samples" / "g.png"

        def train(self):
            self.grid.parent.mkdir(parents=True, exist_ok=True)
            self.grid.write_bytes(b"png")
            return {"interrupted": False, "wall_time_s": 0.0, "step": 1, "steps": 1}

        def write_samples(self):
            return {"sample_grid": self.grid, "masks": None}

    def broken(run, **kw):
        raise ValueError("data/judges/expression-judge-64px-v1.pt: its weights do not match the sha256 recorded in it")

    monkeypatch.setattr(trainer, "Trainer", FakeTrainer)
    monkeypatch.setattr(evaluate, "evaluate_run", broken)
    monkeypatch.setattr(datasets, "DEFAULT_SYNTHETIC", tmp_path / "synthetic")
    (tmp_path / "synthetic").mkdir()
    (tmp_path / "synthetic" / datasets.METADATA).write_text("{}")
    monkeypatch.setattr("course_lib.commands.train.print_summary", lambda *a: None)
    assert cli.main(["main", "--out", str(tmp_path / "run")]) == 2
    assert "error: evaluation: data/judges/expression-judge-64px-v1.pt: its weights" in capsys.readouterr().err
