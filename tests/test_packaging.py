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
