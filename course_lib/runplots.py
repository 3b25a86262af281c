"""The pictures of a training run: its loss curves (``log.csv``), the learning-rate schedules
of training presets, and any PNG of a run folder."""
from __future__ import annotations

import csv
from pathlib import Path


def read_log(path) -> dict[str, list[float]]:
    """log.csv -> {column: values} (empty cells are NaN)."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    cols = rows[0].keys() if rows else []
    return {c: [float(r[c]) if r.get(c) not in (None, "") else float("nan") for r in rows] for c in cols}


def plot_loss_curves(log_path, out_path=None, ax=None):
    """D and G total losses and the parts of Eq. 8 / 9 against the iteration; saved to ``out_path``."""
    import matplotlib

    if out_path is not None and ax is None:
        matplotlib.use(matplotlib.get_backend())
    import matplotlib.pyplot as plt

    log_path = Path(log_path)
    if not log_path.is_file():
        return None
    log = read_log(log_path)
    if not log or not log.get("step"):
        return None
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6)) if ax is None else (ax.figure, ax)
    steps = log["step"]
    for a, prefix in zip(axes, ("D", "G")):
        for k, v in log.items():
            net, _, part = k.partition("/")
            # every update of this network (e.g. GANimation's separate "D_gp" step); the sums over
            # discriminators, not the per-D parts ("D/eye_adv")
            if part and net.split("_")[0] == prefix and "_" not in part:
                a.plot(steps, v, label=k, lw=1.6 if k.endswith("total") else 1.0)
        a.set_xlabel("iteration")
        a.set_title("discriminator, Eq. 8" if prefix == "D" else "generator, Eq. 9")
        a.legend(fontsize=7, ncol=2)
        a.grid(alpha=0.3)
    fig.tight_layout()
    if out_path is not None:
        fig.savefig(out_path, dpi=100)
        if ax is None:
            plt.close(fig)
    return axes


def plot_lr_schedule(configs: dict, ax=None):
    """Learning-rate multiplier against the iteration for ``{name: TrainConfig}`` (paper IV.B schedule)."""
    import matplotlib.pyplot as plt
    import numpy as np

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    for name, cfg in configs.items():
        steps = np.linspace(0, cfg.steps, 200)
        ax.plot(steps / cfg.steps, [cfg.g_lr * cfg.lr_factor(int(s)) for s in steps],
                label=f"{name} ({cfg.steps:,} iterations)")
    ax.set_xlabel("fraction of the run")
    ax.set_ylabel("learning rate")
    ax.set_title("constant, then linear decay to 0 (paper Section IV.B)")
    ax.legend(fontsize=8)
    ax.figure.tight_layout()
    return ax


def show_image(path, title: str = "", width: float = 10.0, ax=None):
    """Display a PNG of a run folder (sample grid, masks, loss curves) with a title."""
    import matplotlib.pyplot as plt

    from course_lib.images import load_rgb

    img = load_rgb(path)
    if ax is None:
        _, ax = plt.subplots(figsize=(width, width * img.shape[0] / img.shape[1] + 0.4))
    ax.imshow(img)
    ax.set_axis_off()
    ax.set_title(title or Path(path).name, fontsize=9)
    ax.figure.tight_layout()
    return ax
