"""Checkpoints that survive a crash: atomic writes, RNG states, exact resume.

A checkpoint is one ``torch.save`` dict (see :func:`course_lib.trainer.Trainer.state_dict`)
holding models, optimisers, the step, the data-stream position and the random states of
Python, NumPy and torch (CPU and CUDA).  :func:`save` writes it to a temporary file in the
same folder, flushes and fsyncs it, then ``os.replace``-s it over the target: a crash or
Ctrl-C in the middle of a write leaves the previous checkpoint untouched and loadable.
"""
from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path


class CheckpointError(ValueError):
    """A checkpoint file that cannot be used; the message names the file."""


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temp file + fsync + os.replace)."""
    return atomic_write(path, lambda f: f.write(data))


def atomic_write(path, write) -> Path:
    """The course's one atomic write: ``write(f)`` fills a temporary file (binary) in the same
    folder, which is flushed, fsynced, given the usual permissions and renamed over ``path``;
    on any error (Ctrl-C included) ``path`` is untouched and the temporary file removed."""
    return _atomic(Path(path), write)


def _atomic(path: Path, write) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files
        os.replace(tmp, path)
    except BaseException:  # KeyboardInterrupt included: never leave a half-written temp file
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    try:  # make the rename itself durable (POSIX); not possible on every platform
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return path


def save(state: dict, path) -> Path:
    """``torch.save(state)`` to ``path`` atomically; returns the path."""
    import torch

    return _atomic(Path(path), lambda f: torch.save(state, f))


def load(path, map_location="cpu") -> dict:
    """The course's one checkpoint loader: a file written by :func:`save` (or any ``torch.save`` of
    tensors, numbers, strings, lists and dicts: state_dicts, released weights, classifiers).

    Uses ``weights_only=True``: a checkpoint never executes code when loaded.
    """
    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:
        raise CheckpointError(f"{path}: cannot load checkpoint ({type(err).__name__}: {err}); "
                              "the file is truncated, corrupt or not a torch checkpoint") from err


#: The format of a training checkpoint (:class:`course_lib.trainer.Trainer`); :func:`read_run_state`
#: also reads format 1 (before the method registry: ``G``, ``D``, ``g_opt``, ``d_opt`` at the top).
RUN_FORMAT = "course_lib.trainer/2"


def read_run_state(path, map_location="cpu"):
    """:func:`load` a file; when it is a training checkpoint of this course, in the current format.

    Format 1 (``course_lib.trainer/1``, written before the method registry) kept the networks
    and optimisers as ``G``, ``D``, ``g_opt``, ``d_opt``; format 2 keeps ``nets`` and
    ``optimizers`` as ``{network name: state}``.  The config's hyper-parameters are upgraded
    by :meth:`course_lib.config.TrainConfig.from_dict`.  Anything else is returned as loaded.
    """
    state = load(path, map_location)
    if not isinstance(state, dict) or not str(state.get("format", "")).startswith("course_lib.trainer/"):
        return state
    version = state["format"].rsplit("/", 1)[1]
    if version == "1":
        state = dict(state)
        state["nets"] = {"G": state.pop("G"), "D": state.pop("D")}
        state["optimizers"] = {"G": state.pop("g_opt"), "D": state.pop("d_opt")}
        state["format"] = RUN_FORMAT
    elif version != "2":
        raise CheckpointError(f"{path}: checkpoint format {state['format']!r} is newer than this course_lib "
                              "(reads course_lib.trainer/1 and /2); update the course")
    return state


# -- random states ------------------------------------------------------------------------
def rng_state() -> dict:
    """The random states of Python, NumPy and torch (CPU, and every CUDA device when present),
    as plain tensors / lists so that ``weights_only`` loading accepts them."""
    import numpy as np
    import torch

    py = random.getstate()
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = {
        "python": [py[0], list(py[1]), py[2]],
        "numpy": {"kind": kind, "keys": torch.from_numpy(keys.astype(np.int64)), "pos": int(pos),
                  "has_gauss": int(has_gauss), "gauss": float(gauss)},
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned."""
    import numpy as np
    import torch

    v, internal, gauss = state["python"]
    random.setstate((v, tuple(internal), gauss))
    n = state["numpy"]
    np.random.set_state((n["kind"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices)."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
