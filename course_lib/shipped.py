"""Trained checkpoints shipped with the course: ``data/checkpoints/<method>.pt`` + ``<method>.json``.

One per registered method, trained on the embedded synthetic set at the method's ``cpu``
preset by the course's own ``train`` code (``python -m course_lib checkpoints build``), so
that lessons, the explorer and the book show trained models without training for minutes
first (the uvadlc pattern: :func:`load_or_train`).

* ``<method>.pt`` is a course checkpoint (:data:`course_lib.checkpoint.RUN_FORMAT`) that
  keeps only what translation needs (the method's ``translate_networks``, no critic, no
  optimiser), its weights stored as float16 to halve the folder (loaded into float32
  networks): :func:`course_lib.translator.load_translator` reads it like a run's
  ``last.pt``.
* ``<method>.json`` records how it was made: the command, the config, the commit, the
  training wall time, the file's size and sha256, its evaluation row (changed targets, the
  shipped judge, beside the copy and oracle rows) and ``subset_g``: the G accuracy of the
  shipped judge on a fixed subset (the first :data:`SUBSET_FACES` test faces, each to its 7
  other expressions), which ``tests/test_shipped.py`` recomputes from the file.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

from course_lib.lesson import repo_root

SHIPPED_DIR = repo_root() / "data" / "checkpoints"
SUBSET_FACES = 16
#: evaluation keys kept in the record (the rest of a metrics.json row is per-pair detail)
ROW_KEYS = ("method", "acc_g", "acc_r", "psnr", "psnr_copy", "psnr_gain", "ssim", "ssim_gain", "hf_ratio",
            "outside_change", "in_domain_fid", "fid_kind", "paired", "judge_name", "judge_kind")


#: what a lesson prints when, in fast mode, it shows a model it trained for a few iterations
#: itself; the book build fails when such a line names a method that has a shipped checkpoint
#: (:func:`fast_figures_with_checkpoint`).
FAST_NOTE = "[fast mode: {method} trained here for {steps} iteration(s), not a trained model]"
_FAST_RE = re.compile(r"\[fast mode: ([\w-]+) trained here for \d+ iteration\(s\), not a trained model\]")


def path(name: str, directory: Path | None = None) -> Path:
    return Path(directory or SHIPPED_DIR) / f"{name}.pt"


def log_path(name: str, directory: Path | None = None) -> Path:
    """The training log (``log.csv``) of the run a shipped checkpoint comes from."""
    return Path(directory or SHIPPED_DIR) / f"{name}-log.csv"


def rows(name: str, directory: Path | None = None) -> list[dict]:
    """The evaluation table of a shipped checkpoint: its ``metrics.json`` rows (copy, the model,
    oracle), for :func:`course_lib.evaluate.markdown_table` / ``per_target_table``."""
    return info(name, directory)["rows"]


def fast_note(method: str, steps: int) -> str:
    """The line a lesson prints under a figure of a model it trained for ``steps`` iterations in fast mode."""
    return FAST_NOTE.format(method=method, steps=steps)


def fast_figures_with_checkpoint(texts, directory: Path | None = None) -> list[str]:
    """Methods whose fast-mode figure (:func:`fast_note`) appears in ``texts`` (e.g. the built book's
    HTML pages) although a shipped checkpoint of that method exists: the lesson should load it."""
    have = set(available(directory))
    return sorted({m for t in texts for m in _FAST_RE.findall(t) if m in have})


def describe(name: str, directory: Path | None = None) -> str:
    """One line naming a shipped checkpoint: method, iterations, training time, G, the command."""
    r = info(name, directory)
    return (f"{name}: shipped checkpoint {path(name, directory).name} ({r['config'].get('steps')} iterations, "
            f"{r['wall_time_s']:.0f} s of training, G {r['evaluation']['acc_g']:.1%} on the test set; "
            f"made by `{r['command']}`)")


def sample_pictures(translator, out_dir: Path, faces: int = 4) -> dict:
    """The sample grid (the first ``faces`` test faces x 8 targets) and the attention masks of
    ``translator``, as a training run writes them: ``{"sample_grid": png, "masks": png or None}``."""
    from course_lib import evaluate, facs, trainer
    from course_lib.images import save_rgb, to_uint8
    from course_lib.translator import translation_grid

    n = len(facs.EXPRESSIONS)
    test = evaluate.collect(trainer.open_dataset(translator.config, "test"), translator.image_size, faces * n,
                            desc="loading test faces")
    pick = [k * n + (3 * k) % n for k in range(faces) if k * n + (3 * k) % n < len(test)]  # other faces, other expressions
    x = evaluate.clf_lib.as_float(test.images[pick])
    lm = None if bool(test.landmarks.isnan().any()) else test.landmarks[pick]
    grid, masks = translation_grid(translator, x, lm, with_masks=True)
    out_dir = Path(out_dir)
    res = {"sample_grid": save_rgb(to_uint8(grid), out_dir / "sample_grid.png"), "masks": None}
    if masks is not None:
        res["masks"] = save_rgb(to_uint8(masks), out_dir / "masks.png")
    return res


def info(name: str, directory: Path | None = None) -> dict:
    """The record (``<name>.json``) of the shipped checkpoint of method ``name``."""
    p = path(name, directory).with_suffix(".json")
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no shipped checkpoint record for method {name!r} "
                                f"(python -m course_lib checkpoints build --methods {name})")
    return json.loads(p.read_text())


def available(directory: Path | None = None) -> list[str]:
    """Registered methods with a shipped checkpoint (file and record), in registry order."""
    from course_lib import methods

    return [n for n in methods.names()
            if path(n, directory).is_file() and path(n, directory).with_suffix(".json").is_file()]


def load(name: str, device="cpu", directory: Path | None = None):
    """A :class:`~course_lib.translator.Translator` of the shipped checkpoint of method ``name``."""
    from course_lib.translator import load_translator

    p = path(name, directory)
    if not p.is_file():
        have = ", ".join(available(directory)) or "none"
        raise FileNotFoundError(f"{p}: no shipped checkpoint for method {name!r} (shipped: {have}; "
                                f"python -m course_lib checkpoints build --methods {name})")
    return load_translator(p, device=device)


def load_or_train(name: str, train, device="cpu", directory: Path | None = None):
    """The shipped checkpoint of ``name`` when present (and the lesson is not asked to train:
    ``COURSE_TRAIN=1`` forces training), else ``train()``'s result: (translator or model,
    "shipped" | "trained")."""
    import os

    if os.environ.get("COURSE_TRAIN") != "1" and path(name, directory).is_file():
        return load(name, device, directory), "shipped"
    return train(), "trained"


def _commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo_root(), capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "course_lib"], cwd=repo_root(),
                               capture_output=True, text=True, check=True).stdout.strip()
        return sha + ("+uncommitted changes in course_lib" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"


def subset_g(translator, faces: int = SUBSET_FACES) -> dict:
    """G accuracy of the shipped judge on the first ``faces`` test faces, each translated to its
    7 other expressions: ``{"faces", "translations", "correct", "acc_g"}``."""
    from course_lib import evaluate, judge, trainer
    from course_lib import classifier as clf_lib

    config = translator.config
    size = translator.image_size
    train = evaluate.collect(trainer.open_dataset(config, "train"), size, 0, desc="loading training faces")
    full = evaluate.collect(trainer.open_dataset(config, "test"), size, 0, desc="loading test faces")
    model, why = judge.shipped_judge(train, full)
    if model is None:
        raise ValueError(f"no shipped judge for this data: {why}")
    test = evaluate.Split(full.images[:faces], full.labels[:faces], full.landmarks[:faces],
                          None if full.aus is None else full.aus[:faces], full.identities[:faces], full.dataset)
    gen = evaluate.translate(translator, test, changed_only=True, desc="translating")
    predicted = clf_lib.predict(model, gen.images)
    correct = int((predicted == gen.target).sum())
    return {"faces": len(test), "translations": len(gen.target), "correct": correct,
            "acc_g": correct / len(gen.target)}


def export(run: Path, name: str | None = None, directory: Path | None = None, command: str = "",
           force: bool = False) -> tuple[Path, Path]:
    """Write ``<directory>/<method>.pt`` (translation networks only) and ``.json`` from the finished,
    evaluated run folder ``run``."""
    import torch

    from course_lib import checkpoint, methods
    from course_lib.translator import load_translator

    run = Path(run)
    state = checkpoint.read_run_state(run / "checkpoints" / "last.pt")
    if state.get("format") != checkpoint.RUN_FORMAT:
        raise ValueError(f"{run}: not a course training run")
    model = state["config"]["model"]
    name = name or model
    keep = methods.get(model).translate_networks
    half = lambda sd: {k: v.half() if v.is_floating_point() else v for k, v in sd.items()}  # noqa: E731
    slim = {"format": state["format"], "config": state["config"], "step": state.get("step"),
            "nets": {n: half(state["nets"][n]) for n in keep}}
    summary_path, metrics_path = run / "summary.json", run / "eval" / "metrics.json"
    if not summary_path.is_file() or not metrics_path.is_file():
        raise FileNotFoundError(f"{run}: needs summary.json and eval/metrics.json (train, then evaluate it)")
    summary = json.loads(summary_path.read_text())
    if summary.get("interrupted") or summary.get("step") != summary.get("steps"):
        raise ValueError(f"{run}: the run is not finished ({summary.get('step')} of {summary.get('steps')} iterations)")
    rows = json.loads(metrics_path.read_text())
    row = next(r for r in rows if not r["method"].startswith(("copy", "oracle")))
    pt = path(name, directory)
    if pt.exists() and not force:
        raise FileExistsError(f"{pt} exists; pass --force to replace it")
    checkpoint.atomic_write(pt, lambda f: torch.save(slim, f))
    translator = load_translator(pt)
    record = {
        "method": model,
        "command": command or f"python -m course_lib checkpoints build --methods {model}",
        "run": str(run),
        "config": state["config"],
        "commit": _commit(),
        "wall_time_s": summary.get("wall_time_s"),
        "torch_threads": summary.get("torch_threads"),
        "size_bytes": pt.stat().st_size,
        "sha256": hashlib.sha256(pt.read_bytes()).hexdigest(),
        "dtype": "float16 on disk (loaded into float32 networks); the evaluation row is the float32 run's, "
                 "subset_g is this file's",
        "evaluation": {k: row[k] for k in ROW_KEYS if k in row},
        "references": {r["method"]: {k: r.get(k) for k in ("acc_g", "psnr", "ssim")} for r in rows
                       if r["method"].startswith(("copy", "oracle"))},
        "subset_g": subset_g(translator),
        "rows": rows,
    }
    if (run / "log.csv").is_file():
        shutil.copyfile(run / "log.csv", log_path(name, directory))
    js = checkpoint.atomic_write_bytes(pt.with_suffix(".json"), json.dumps(record, indent=1).encode())
    return pt, js


def build(names, *, runs: Path = Path("runs") / "checkpoints", directory: Path | None = None, threads: int = 2,
          force: bool = False, log=print) -> list[Path]:
    """Train (unless finished), evaluate (unless evaluated) and export the checkpoint of each method
    in ``names`` with its ``cpu`` preset, seed 0: ``python -m course_lib checkpoints build``."""
    from course_lib.benchmarks.quality import train_and_evaluate

    written = []
    for name in names:
        train_and_evaluate(name, 0, Path(runs), threads, None, "synthetic", log=log)
        pt, js = export(Path(runs) / f"{name}-seed0", name, directory, force=force)
        rec = json.loads(js.read_text())
        log(f"{name}: {pt} ({rec['size_bytes'] / 1e6:.1f} MB), G {rec['evaluation']['acc_g']:.1%}, "
            f"subset G {rec['subset_g']['acc_g']:.1%}")
        written.append(pt)
    return written
