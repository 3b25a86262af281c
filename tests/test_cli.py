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
    for command in ("facs", "bench", "badges", "main"):
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
