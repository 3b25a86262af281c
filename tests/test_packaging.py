"""Packaging: environment.yml and pyproject.toml agree; README's commands are what CI runs."""
import re
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None

ROOT = Path(__file__).resolve().parents[1]
# conda-forge name -> PyPI name, where they differ
CONDA_TO_PIP = {"pytorch": "torch", "dlib": "dlib-bin"}


def norm(req: str) -> str:
    name = re.split(r"[<>=!~; \[]", req.strip(), maxsplit=1)[0]
    return name.lower().replace("_", "-")


def pyproject_packages():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"])
    for extra in data["project"]["optional-dependencies"].values():
        reqs += extra
    return {norm(r) for r in reqs}


def environment_packages():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            names |= {norm(r) for r in dep.get("pip", [])}
        else:
            n = norm(dep)
            names.add(CONDA_TO_PIP.get(n, n))
    assert "conda-forge" in env["channels"]
    assert "python=3.11" in env["dependencies"]
    return names - {"python", "pip"}


def test_environment_yml_names_the_same_packages_as_pyproject():
    assert tomllib is not None
    assert environment_packages() == pyproject_packages()


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci/run").read_text()
    assert "bash scripts/course.sh main" in readme
    assert "bash scripts/course.sh test" in readme
    assert "bash scripts/course.sh test" in ci


def test_license_is_an_spdx_string_with_a_backend_that_reads_it():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["license"] == "MIT"            # a string, not the deprecated {text = ...} table
    floors = [r for r in data["build-system"]["requires"] if norm(r) == "setuptools"]
    assert len(floors) == 1
    m = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", floors[0].replace(" ", ""))
    assert m and int(m.group(1)) >= 77, floors             # SPDX strings need setuptools >= 77


def _ignored_data_patterns():
    lines = (ROOT / ".gitignore").read_text().splitlines()
    return [ln.strip().lstrip("/") for ln in lines if ln.strip().lstrip("/").startswith("data/")]


def test_data_folder_is_committed_with_a_readme_naming_what_is_ignored():
    readme = ROOT / "data" / "README.md"
    assert readme.is_file(), "data/ must be committed with a README"
    text = readme.read_text()
    patterns = _ignored_data_patterns()
    assert {"data/synthetic*/", "data/cache/"} <= set(patterns)
    for pat in patterns:
        assert f"`{pat}`" in text, f"data/README.md does not mention the ignored pattern {pat}"
    # what the code writes under data/ is described there
    from course_lib.datasets import DEFAULT_SYNTHETIC
    assert f"`{DEFAULT_SYNTHETIC.relative_to(ROOT).as_posix()}/`" in text


def test_git_ignores_the_data_folders_but_not_the_readme():
    import shutil
    import subprocess

    if shutil.which("git") is None or not (ROOT / ".git").exists():
        import pytest
        pytest.skip("not a git checkout")
    probes = [p.replace("*", "") + "x.png" for p in _ignored_data_patterns()] + ["data/synthetic64/x.png"]

    def ignored(path):
        return subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT).returncode == 0

    assert [p for p in probes if not ignored(p)] == []
    assert not ignored("data/README.md")
