"""Colab set-up: install only what the runtime lacks or has in too old a version.

Colab ships torch, torchvision, numpy (and sometimes dlib) built for its GPU; re-pinning
them breaks the runtime, so for those (:data:`PRESENCE_ONLY`) :func:`ensure_packages`
only checks that the module is there, never its version.  For the other packages it
compares the installed version (``importlib.metadata``) with the floor in
:data:`PACKAGES` (the same floors as ``pyproject.toml``) and installs the requirement
when the module is missing or older than the floor.  A module whose version cannot be
read (no distribution metadata) counts as present.

ipywidgets: the course's widgets (``viz.au_explorer``, ``render.au_widget``) use core
widgets only (Checkbox, FloatSlider, IntText, Dropdown, Image, HTML, HBox/VBox/GridBox,
Layout), so the floor is 7.7 (Colab ships ipywidgets 7): they were built and driven
under ipywidgets 7.7.1 and 7.7.5 as well as 8.
"""
from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import subprocess
import sys

#: import name -> pip requirement, for what the course needs beyond Colab's stock image.
PACKAGES = {
    "torch": "torch>=2.4",
    "torchvision": "torchvision",
    "numpy": "numpy",
    "matplotlib": "matplotlib>=3.7",
    "ipywidgets": "ipywidgets>=7.7",
    "dlib": "dlib-bin",               # `dlib` (source build) provides the same module
    "face_recognition_models": "face_recognition_models>=0.3",
    "torch_fidelity": "torch-fidelity>=0.3",
    "skimage": "scikit-image>=0.21",
    "tqdm": "tqdm>=4.60",
    "yaml": "pyyaml>=6",
}

#: modules whose version is never checked (nor re-pinned): only installed when absent.
PRESENCE_ONLY = frozenset({"torch", "torchvision", "numpy", "dlib"})


def _requirement(req: str):
    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - pip vendors packaging
        from pip._vendor.packaging.requirements import Requirement
    return Requirement(req)


def installed_version(distribution: str) -> str | None:
    """The installed version of ``distribution`` (a pip name), or None when there is no metadata."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def check_package(module: str, requirement: str) -> str | None:
    """Why ``requirement`` must be installed for ``module`` (a short reason), or None when it is fine."""
    if importlib.util.find_spec(module) is None:
        return "not installed"
    if module in PRESENCE_ONLY:
        return None
    req = _requirement(requirement)
    if not req.specifier:
        return None
    version = installed_version(req.name)
    if version is None:
        return None  # importable, version unknown: leave it alone
    if not req.specifier.contains(version, prereleases=True):
        return f"{version} installed, need {req.specifier}"
    return None


def package_report(packages: dict[str, str] = PACKAGES) -> dict[str, str]:
    """pip requirement -> reason, for every module in ``packages`` that needs installing."""
    report = {}
    for mod, req in packages.items():
        reason = check_package(mod, req)
        if reason is not None:
            report[req] = reason
    return report


def missing_packages(packages: dict[str, str] = PACKAGES) -> list[str]:
    """pip requirements of the modules in ``packages`` that are absent or older than their floor
    (only absence counts for :data:`PRESENCE_ONLY`)."""
    return list(package_report(packages))


def ensure_packages(packages: dict[str, str] = PACKAGES, dry_run: bool = False) -> list[str]:
    """pip-install what is missing or too old (nothing else); return what was (or would be) installed."""
    report = package_report(packages)
    todo = list(report)
    if todo and not dry_run:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *todo], check=True)
        importlib.invalidate_caches()   # so that modules installed just now can be imported
    if not todo:
        print("all course packages already present")
        return todo
    verb = "would install" if dry_run else "installed"
    print(f"{verb}: " + ", ".join(f"{r} ({why})" for r, why in report.items()))
    stale = [mod for mod, req in packages.items() if req in report and mod in sys.modules]
    if stale and not dry_run:
        print("restart the runtime (Colab: Runtime > Restart session) so that the new versions of "
              + ", ".join(stale) + " are used; they were imported before the upgrade")
    return todo
