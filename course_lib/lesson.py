"""Small helpers every lesson notebook uses: fast mode, devices, paths."""
from __future__ import annotations

import os
from pathlib import Path

#: Environment variable that switches every notebook and long command to fast mode:
#: ``COURSE_FAST=1`` -> tiny sizes and a few steps, so CI executes a lesson in seconds;
#: unset (the default) -> the real thing.
FAST_ENV = "COURSE_FAST"


def fast_mode() -> bool:
    """True when ``COURSE_FAST`` is set to a true value (1, true, yes)."""
    return os.environ.get(FAST_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def pick(full, fast):
    """``fast`` in fast mode, else ``full`` (e.g. ``steps = pick(20_000, 5)``)."""
    return fast if fast_mode() else full


def repo_root() -> Path:
    """The course checkout (folder holding ``course_lib/``)."""
    return Path(__file__).resolve().parents[1]


def device():
    """``torch.device('cuda')`` when a GPU is present, else CPU."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
