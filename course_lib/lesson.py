"""Small helpers every lesson notebook uses: fast mode, devices, paths."""
from __future__ import annotations

import os
from contextlib import contextmanager
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


@contextmanager
def torch_threads(n: int = 1):
    """Run the ``with`` block on ``n`` torch CPU threads, then restore the previous number.

    The lessons' 2-D toys (an MLP of 32 units on batches of a few hundred numbers) are
    thousands of tiny operations: on several threads each one pays for handing work to the
    other threads and, on a busy machine, for waiting until another core is free. Measured on
    the course's 2-core machine while another job was using it: Lesson 6's minimax toy (200
    generator steps) took 1.3 s on one thread and 56 s on two, with identical results."""
    import torch

    if n < 1:
        raise ValueError(f"torch_threads: n = {n}: expected a positive number of threads")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
