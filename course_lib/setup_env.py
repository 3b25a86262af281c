"""Colab set-up: install only what the runtime lacks.

Colab ships torch, torchvision, numpy (and sometimes dlib) built for its GPU; re-pinning
them breaks the runtime, so :func:`ensure_packages` never touches a module that imports.
"""
from __future__ import annotations

import importlib.util
import subprocess
import sys

#: import name -> pip requirement, for what the course needs beyond Colab's stock image.
PACKAGES = {
    "torch": "torch>=2.4",
    "torchvision": "torchvision",
    "numpy": "numpy",
    "matplotlib": "matplotlib",
    "ipywidgets": "ipywidgets>=8",
    "dlib": "dlib-bin",               # `dlib` (source build) provides the same module
    "face_recognition_models": "face_recognition_models",
    "torch_fidelity": "torch-fidelity",
    "skimage": "scikit-image",
    "tqdm": "tqdm",
    "yaml": "pyyaml",
}


def missing_packages(packages: dict[str, str] = PACKAGES) -> list[str]:
    """pip requirements of the modules in ``packages`` that cannot be imported."""
    return [req for mod, req in packages.items() if importlib.util.find_spec(mod) is None]


def ensure_packages(packages: dict[str, str] = PACKAGES, dry_run: bool = False) -> list[str]:
    """pip-install the missing requirements (nothing else); return what was (or would be) installed."""
    todo = missing_packages(packages)
    if todo and not dry_run:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", *todo], check=True)
    print("installed: " + ", ".join(todo) if todo else "all course packages already present")
    return todo
