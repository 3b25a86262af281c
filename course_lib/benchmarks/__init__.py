"""Benchmarks (``python -m course_lib bench <what>``): one module each, discovered by :mod:`course_lib.cli`.

A benchmark prints the figures it measured (and the machine it ran on); speed targets
live here, never in timed unit tests.
"""
import os
import platform


def machine_line() -> str:
    """One line naming the machine a figure was measured on."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (f"machine: {platform.machine()}, {os.cpu_count()} logical cores, "
            f"torch {torch.__version__} with {torch.get_num_threads()} threads, {gpu}")
