"""Signs of GAN training trouble in a run's ``log.csv``, and a toy that shows mode collapse (Lesson 7).

Three quantities of the log say most about a run's health:

* the critic's **Wasserstein estimate** ``-D/adv`` (minus the critic term of Eq. 2, summed
  over the critics): it should fall back towards 0 as the generator improves; when it stays
  high or grows, the critic *overpowers* the generator (it separates real from fake easily
  and the generator does not catch up);
* the **mask level** ``G/att / n_masks``: with LGP-GAN's Eq. 7 (``attention_variant`` "l2")
  each mask's term is its root mean square, so the level is about 1 when the masks keep the
  whole input (a copy, no expression) and about 0 when they take the colour image
  everywhere (the generator redraws the face and its background);
* the **classification gap** ``G/cls - D/cls``: the cross-entropy of the generator's fakes
  (read as their targets) minus that of real faces (read as their labels). Far below 0, the
  fakes are recognised *more* easily than real faces: look at them for exaggerated or
  striped patterns that serve the classifier rather than the face (Lesson 8's
  high-frequency ratio measures it).

:func:`plot_health` draws the three against the iteration for several runs;
:data:`LOG_COLUMNS` are the columns kept in the course's committed logs (``docs/logs/``).
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

#: Columns of log.csv that :func:`health` and the committed logs use (the others are per critic).
LOG_COLUMNS = ("step", "D/adv", "D/cls", "D/gp", "D_gp/gp", "D/total", "G/adv", "G/cls", "G/att", "G/cycle",
               "G/self", "G/total")


def read_log(path) -> dict[str, np.ndarray]:
    """log.csv -> {column: float array}; a missing file or an empty log raises ``ValueError``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such log (a run's log.csv)")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{path}: the log has no rows")
    return {c: np.array([float(r[c]) if r.get(c) not in (None, "") else np.nan for r in rows]) for c in rows[0]}


def smooth(values, window: int = 5) -> np.ndarray:
    """Moving average over ``window`` entries (shorter at the start), same length as ``values``."""
    v = np.asarray(values, np.float64)
    if window <= 1 or len(v) == 0:
        return v
    c = np.cumsum(np.insert(v, 0, 0.0))
    n = np.minimum(np.arange(1, len(v) + 1), window)
    return (c[1:] - c[np.arange(1, len(v) + 1) - n]) / n


def health(log: dict, n_masks: int | None = None) -> dict[str, np.ndarray]:
    """The three signals of the module docstring from a log ({column: values}); the mask level
    only when ``n_masks`` is given and the log has ``G/att``."""
    for col in ("step", "D/adv", "D/cls", "G/cls"):
        if col not in log:
            raise ValueError(f"log: column {col!r} missing (have {sorted(log)})")
    out = {"step": np.asarray(log["step"], np.float64),
           "wasserstein estimate": -np.asarray(log["D/adv"], np.float64),
           "classification gap": np.asarray(log["G/cls"], np.float64) - np.asarray(log["D/cls"], np.float64)}
    if n_masks and "G/att" in log:
        out["mask level"] = np.asarray(log["G/att"], np.float64) / n_masks
    return out


def plot_health(runs: dict, masks: dict | None = None, window: int = 5):
    """Plot :func:`health` of several runs side by side: ``runs`` = {label: log.csv path},
    ``masks`` = {label: number of attention masks} for the runs that have masks."""
    import matplotlib.pyplot as plt

    masks = masks or {}
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.4))
    titles = ("critic's Wasserstein estimate (-D/adv)", "mask level (G/att per mask; 1 = keep the input)",
              "classification gap (G/cls - D/cls)")
    colours = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2", "C3"])
    for i, (label, path) in enumerate(runs.items()):
        h = health(read_log(path), masks.get(label))
        for ax, key in zip(axes, ("wasserstein estimate", "mask level", "classification gap")):
            if key in h:       # one colour per run in every panel
                ax.plot(h["step"], smooth(h[key], window), label=label, color=colours[i % len(colours)])
    for ax, title in zip(axes, titles):
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
        ax.axhline(0, color="k", lw=0.6)
    axes[1].axhline(1, color="k", lw=0.6, ls="--")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return axes


def mode_shares(samples, modes, radius: float) -> np.ndarray:
    """Share of ``samples`` (N,) or (N, D) within ``radius`` of each mode (K,) or (K, D); a mode
    with a share near 0 is *dropped* (mode collapse when all but one are)."""
    x = np.asarray(samples, np.float64)
    m = np.asarray(modes, np.float64)
    x = x.reshape(len(x), -1)
    m = m.reshape(len(m), -1)
    if x.shape[1] != m.shape[1]:
        raise ValueError(f"samples have {x.shape[1]} dimension(s), modes {m.shape[1]}")
    d = np.linalg.norm(x[:, None, :] - m[None, :, :], axis=-1)
    return (d < radius).mean(axis=0)


def train_mixture(g_steps, n_critic=1, loss="gan", batch=128, seed=0):
    """Lesson 7's mode-collapse toy: a small MLP generator against a small MLP discriminator on a mixture of N(-2, 0.2^2) and
    N(2, 0.2^2); returns the share of 2000 samples near each mode, every g_steps // 5 steps.
    ``loss``: "gan" (non-saturating, Lesson 6) or "wgan-gp" (Eq. 8/9 with the penalty weight 10)."""
    import torch
    from torch import nn

    from course_lib import losses
    from course_lib.lesson import torch_threads

    with torch_threads(1):   # tiny tensors: one thread is many times faster (see torch_threads)
        torch.manual_seed(seed)
        modes = torch.tensor([-2.0, 2.0])
        G = nn.Sequential(nn.Linear(1, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 1))
        D = nn.Sequential(nn.Linear(1, 32), nn.LeakyReLU(0.2), nn.Linear(32, 32), nn.LeakyReLU(0.2), nn.Linear(32, 1))
        opt_g = torch.optim.Adam(G.parameters(), 1e-3, betas=(0.5, 0.9))
        opt_d = torch.optim.Adam(D.parameters(), 1e-3, betas=(0.5, 0.9))
        shares = []
        for step in range(g_steps):
            for _ in range(n_critic):
                real = (modes[torch.randint(0, 2, (batch,))] + 0.2 * torch.randn(batch)).unsqueeze(1)
                fake = G(torch.randn(batch, 1)).detach()
                if loss == "gan":
                    d_loss = losses.gan_discriminator_loss(D(real), D(fake))
                else:
                    d_loss = losses.critic_adv_loss(D(real), D(fake)) + 10 * losses.gradient_penalty(D, real, fake)
                opt_d.zero_grad()
                d_loss.backward()
                opt_d.step()
            out = D(G(torch.randn(batch, 1)))
            g_loss = losses.gan_generator_loss(out) if loss == "gan" else losses.generator_adv_loss(out)
            opt_g.zero_grad()
            g_loss.backward()
            opt_g.step()
            if (step + 1) % max(1, g_steps // 5) == 0:
                with torch.no_grad():
                    shares.append(mode_shares(G(torch.randn(2000, 1)), modes, radius=0.6))
        return shares
