# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: -jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-expression-course/gan-expression-course/blob/main/notebooks/07_training.ipynb)
#
# # Lesson 7 — Training LGP-GAN: the loop, checkpoints and the main job
#
# Lessons 4–6 built the networks and the losses. This lesson assembles them into the
# training procedure of LGP-GAN Section IV.B, runs it, and makes it robust enough to
# leave running for hours: checkpoints that survive a crash, exact resume, a NaN guard.

# %%
# Setup: in Colab, clone the course and install only what is missing; locally, nothing to do.
import sys

if "google.colab" in sys.modules:
    import os
    import subprocess

    REPO_GIT = "https://github.com/gan-expression-course/gan-expression-course.git"  # course_lib.REPO
    if not os.path.isdir("/content/course"):  # an uploaded /content/course is used as it is
        clone = subprocess.run(["git", "clone", "-q", REPO_GIT, "/content/course"], capture_output=True,
                               text=True, env={**os.environ, "GIT_TERMINAL_PROMPT": "0"})
        if clone.returncode != 0:
            why = (clone.stderr.strip().splitlines() or [f"git exit status {clone.returncode}"])[-1]
            raise SystemExit(f"Could not clone {REPO_GIT} ({why}): set REPO_GIT in this "
                             "cell to your fork of the course (course_lib.REPO), or upload the course folder "
                             "to /content/course, then run this cell again.")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", "/content/course"], check=True)
    sys.path.insert(0, "/content/course")
    from course_lib.setup_env import ensure_packages

    ensure_packages()

# %% [markdown]
# ## Learning objectives
#
# After this lesson you can
#
# - state LGP-GAN's training hyper-parameters (Section IV.B) and express them as a
#   `TrainConfig`: Adam(1e-4, β = 0.5/0.999), batch 16, $n_{critic} = 5$, 100k iterations at
#   constant learning rate then 100k decaying linearly to 0;
# - run one training iteration through the method's interface and read its loss function:
#   targets sampled as StarGAN does, the three discriminators updated with **Eq. 8**, the
#   cascade generator with **Eq. 9**;
# - explain what a checkpoint must hold for a resumed run to equal an uninterrupted one,
#   and why it is written atomically;
# - run the course's main job, read its sample grid, attention masks and loss curves, and
#   know what each training preset costs on your hardware.

# %%
import inspect
import tempfile
from pathlib import Path

import torch

from course_lib import datasets, facs, methods, trainer
from course_lib.config import PRESETS, TrainConfig, preset
from course_lib.exercises import check
from course_lib.lesson import fast_mode, pick, repo_root

# %% [markdown]
# ## 1. The configuration: Section IV.B as a dataclass
#
# Every knob of a run is a field of `course_lib.config.TrainConfig`; a run folder keeps
# it as `config.yaml`. Three presets: `paper` (exactly IV.B: 128×128, Tables II/III networks,
# 200k iterations — a GPU job), `colab-t4` (same networks, a shorter schedule for a free
# Colab GPU; its length is an estimate) and `cpu` (the default: 64×64 networks and a short
# schedule so that the main job trains within 20 minutes on 2 CPU cores; for LGP-GAN the
# networks are the `cpu-wide` size — 16 base channels in the generators, and
# resize-convolution instead of Table II's transposed convs, a measured departure against
# checkerboard artefacts, `course_lib/presets.py` — while StarGAN and GANimation
# train at the 8-channel `cpu` size). An *iteration* is one
# discriminator update; the generator is updated every `n_critic`-th iteration, as in
# StarGAN's solver that the paper follows.

# %%
for name in PRESETS:
    c = preset(name)
    h = c.method_hyper()  # the method's hyper-parameters (course_lib.methods.lgp_gan.Hyper)
    print(f"{name:9s} nets={c.net_size:8s} {c.image_size}px batch={c.batch_size} iterations={c.steps:>7,} "
          f"decay from {c.decay_start:>7,}  n_critic={c.n_critic} lr G/D={c.g_lr:g}/{c.d_lr:g} betas=({c.beta1}, {c.beta2})"
          f" lambda_1 D/G={h.lambda_cls if h.lambda_cls_d is None else h.lambda_cls_d:g}/{h.lambda_cls:g}")
print("loss weights (Eq. 2, 8, 9):", preset("paper").hyper)

# %% [markdown]
# **Exercise 1.** How many *generator* updates does the `paper` preset make in its
# 200,000 iterations? Compute it from `preset("paper")`.

# %%
answer = None  # your code here
check("07.generator_updates", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# G is updated on every n_critic-th iteration
paper = preset("paper")
assert check("07.generator_updates", paper.steps // paper.n_critic)

# %% [markdown]
# **Exercise 2.** Before the next cell plots the schedules: what is the generator's
# learning rate at iteration 150,000 of the paper's schedule (Section IV.B)? Compute it by
# hand from the schedule, not with `lr_factor`.

# %%
answer = None
check("07.lr_at_150k", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# 1e-4 until 100k, then a straight line to 0 at 200k
assert check("07.lr_at_150k", 1e-4 * (1 - (150_000 - 100_000) / (200_000 - 100_000)))

# %%
trainer.plot_lr_schedule({name: preset(name) for name in PRESETS});

# %% [markdown]
# Invalid values are refused with the field named — a typo never silently trains the
# wrong model:

# %%
for bad in ({"batch_size": 0}, {"model": "cyclegan"}, {"beta1": 1.5}):
    try:
        TrainConfig(**bad)
    except ValueError as err:
        print(err)

# %% [markdown]
# ## 2. One iteration: the method's loss function
#
# Every method of the course (LGP-GAN and the baselines; `python -m course_lib methods`
# lists them) is one file of `course_lib/methods/` behind one small interface: it builds
# its networks, says which networks an iteration updates, and computes the loss of each
# update. LGP-GAN's is `course_lib/methods/lgp_gan.py`; here are the two functions one
# iteration calls. `prepare` draws what the updates share — the **target labels**, sampled
# as StarGAN does (a random permutation of the batch's own labels, so the targets follow the
# label distribution of the data), and the eye and mouth boxes and crops of Lesson 3;
# `loss("D", ...)` is **Eq. 8** and `loss("G", ...)` is **Eq. 9**:

# %%
lgp = methods.get("lgp-gan")(size="cpu")       # the networks of Tables II/III at the cpu size
print(inspect.getsource(type(lgp).prepare))
print(inspect.getsource(type(lgp).loss))

# %% [markdown]
# Take a batch of 64×64 synthetic faces (Lesson 2) with their landmarks and prepare it:

# %%
torch.manual_seed(0)
faces = datasets.SyntheticFaces(identities=pick(20, 2), size=64, split="all")
tensors = datasets.decode(faces, 64)
batch = trainer.BatchStream(tensors, batch_size=pick(16, 4), seed=0).next()
b = lgp.prepare(batch)
print("input labels f_x:", b["label"].tolist(), "\ntarget labels f_y:", b["c_trg"].tolist())
print("eye / mouth boxes of the first face (top, left, height, width):",
      b["boxes"]["eye"][0].tolist(), b["boxes"]["mouth"][0].tolist())

# %% [markdown]
# **Discriminator step (Eq. 8).** The real images of the three critics are
# $I_{input} = \{I_x, I_{eye}, I_{mouth}\}$; the fakes are Stage I's generated regions
# and Stage II's output, computed without gradient for G. `losses.discriminator_loss`
# sums WGAN-GP (Eq. 2, with $\lambda_{gp} = 10$) and the CCE of Eq. 3 over the critics.
# One optimiser per network (`lgp.optimizers`), here with the paper's Adam(1e-4, β 0.5/0.999):

# %%
opt = lgp.optimizers(preset("paper"))
d_loss, d_parts = lgp.loss("D", b)
opt["D"].zero_grad(); d_loss.backward(); opt["D"].step()
print(f"L_D = {d_loss.item():.3f}", {k: round(v.item(), 3) for k, v in d_parts.items() if "_" not in k})

# %% [markdown]
# **Generator step (Eq. 9)**, every fifth iteration: adversarial and classification terms
# on the fakes (Eq. 4), the cycle $G(G(I_x, f_y), f_x)$ (Eq. 5), the self reconstruction
# $G(I_x, f_x)$ (Eq. 6) and the attention loss on the three masks (Eq. 7), weighted
# $\lambda_{1..4} = 1, 10, 10, 0.1$ (`lgp.hyper`, the paper's values).

# %%
print(lgp.hyper)
g_loss, g_parts = lgp.loss("G", b)
opt["G"].zero_grad(); g_loss.backward(); opt["G"].step()
print(f"L_G = {g_loss.item():.3f}", {k: round(v.item(), 3) for k, v in g_parts.items() if "_" not in k})
print("updates of iterations 1-5:", [lgp.updates(k, preset("paper")) for k in range(5)])

# %% [markdown]
# `course_lib.trainer.Trainer.iteration` makes exactly these calls, for whichever method
# the config names: `prepare`, then for each network of `method.updates(step)` its
# `loss`, `backward` and optimiser step (plus the learning-rate schedule and the NaN guard).
# The trainer never names a method, so StarGAN and GANimation (a single critic, no
# self-reconstruction and — StarGAN — no mask) train in the same loop. The `Trainer` adds
# what a long run needs: a tqdm bar, `log.csv` (and TensorBoard when installed), sample
# grids and masks every `sample_every` iterations, checkpoints, and Ctrl-C handling.

# %% [markdown]
# ## 3. Checkpoints: exact resume, atomic writes
#
# For a resumed run to *equal* an uninterrupted one, a checkpoint must hold more than the
# weights: both optimisers' moments (Adam), the iteration (it sets the learning rate and
# when G is updated), the position in the shuffled data, and the random states of Python,
# NumPy and torch (target permutations, gradient-penalty interpolation weights).
# `course_lib.checkpoint.save` writes to a temporary file, fsyncs it and renames it over
# `last.pt`: a crash mid-write leaves the previous checkpoint intact. Below: 2k iterations
# in one go against k, a "crash", and k more after `resume=True`.

# %%
k = pick(3, 1)
cfg = preset("cpu", model="stargan", steps=2 * k, batch_size=4, n_critic=1, log_every=1)
with tempfile.TemporaryDirectory() as tmp:
    straight = trainer.Trainer(cfg, Path(tmp) / "straight", tensors, progress=False)
    straight.train()
    first = trainer.Trainer(cfg, Path(tmp) / "resumed", tensors, progress=False)
    first.train(until=k)
    del first                                      # the "crash"
    torch.manual_seed(12345)                       # whatever happened in between
    resumed = trainer.Trainer(cfg, Path(tmp) / "resumed", tensors, resume=True, progress=False)
    resumed.train()
    a = trainer.read_log(Path(tmp) / "straight" / "log.csv")
    b = trainer.read_log(Path(tmp) / "resumed" / "log.csv")
print("D/total, uninterrupted:", a["D/total"])
print("D/total, resumed      :", b["D/total"])
print("identical:", a == b)

# %% [markdown]
# **The NaN guard.** A diverging run is stopped at once, with the loss and the iteration
# named, *before* the bad weights are written over the last good checkpoint:

# %%
with tempfile.TemporaryDirectory() as tmp:
    bad = trainer.Trainer(cfg, tmp, tensors, progress=False)
    with torch.no_grad():
        bad.nets["D"]["global"].conv1.weight.fill_(float("nan"))
    try:
        bad.train()
    except trainer.TrainingDiverged as err:
        print(err)

# %% [markdown]
# ## 4. What does a run cost here? (GPU check)
#
# The cell below looks for a GPU and *measures* one training cycle ($n_{critic}$
# iterations) of LGP-GAN per preset on this machine (`python -m course_lib bench train`
# does the same from a terminal), then extrapolates to the preset's length. The
# extrapolation is an estimate; the measured seconds per iteration are not. In fast mode
# nothing is measured.

# %%
from course_lib.benchmarks import train as bench_train

gpu = torch.cuda.is_available()
print("GPU:", torch.cuda.get_device_name(0) if gpu else "none - training runs on the CPU")
if fast_mode():
    print("fast mode: no measurement")
else:
    for name in (("cpu", "colab-t4", "paper") if gpu else ("cpu",)):
        r = bench_train.measure("lgp-gan", name, cycles=1)
        print(f"{name:9s}: measured {r['s_per_iteration']:.3f} s/iteration ({r['images_per_s']:.1f} images/s) "
              f"-> about {r['s_per_iteration'] * r['steps'] / 3600:.1f} h for its {r['steps']:,} iterations")
    if not gpu:
        print("paper / colab-t4 need a GPU (Colab: Runtime > Change runtime type > GPU)")

# %% [markdown]
# ## 5. The main job: load it if present, else train
#
# `python -m course_lib main` builds `data/synthetic` if it is missing and trains LGP-GAN
# with the `cpu` preset into `runs/main/`. If that run exists this lesson loads it;
# otherwise it trains it here (the README gives the measured time on 2 cores; in fast mode a few iterations
# into a temporary folder). Interrupt the kernel at any time: the trainer saves a
# checkpoint, and running the cell again continues the run exactly.

# %%
RUN = repo_root() / "runs" / "main"
if fast_mode():
    RUN = Path(tempfile.mkdtemp()) / "main"
    run = trainer.Trainer(preset("cpu", steps=1, batch_size=4, n_critic=1, n_samples=2), RUN, tensors)
else:
    run = trainer.Trainer(preset("cpu"), RUN, resume=(RUN / "checkpoints" / "last.pt").is_file())
summary = run.train()
pictures = run.write_samples()
print({k: summary[k] for k in ("model", "step", "steps", "wall_time_s", "images_per_s", "device")})

# %%
trainer.show_image(pictures["sample_grid"], "inputs (left) translated to " + ", ".join(facs.EXPRESSIONS));

# %% [markdown]
# The attention masks of the same translations (LGP-GAN Eq. 1: white keeps the input
# pixel, black takes the colour image). Per input three rows: G_eye, G_mouth, G_global
# (the local masks centred on a grey canvas); one column per target expression.

# %%
trainer.show_image(pictures["masks"], "attention masks: eye, mouth, global (rows) x 8 targets");

# %%
trainer.plot_loss_curves(RUN / "log.csv");

# %% [markdown]
# How to read the curves: the critic's adversarial part `D/adv` is minus its estimate of
# the Wasserstein distance between real and generated faces (summed over the three
# critics): it drops below zero quickly and should then creep back towards zero as G
# improves. `D/gp` stays small once the critics are near 1-Lipschitz. `G/cls` falling means
# the generated faces are recognised as their *target* expressions; `G/cycle` and
# `G/self` falling means identity is preserved. A trained run can also be applied to any
# photo: `python -m course_lib generate --checkpoint runs/main --image photo.jpg --target all --out grid.png`.

# %% [markdown]
# ## Exercises
#
# **Exercise 3.** A batch has the labels `[0, 3, 4, 4, 7, 1]`. Sample its target labels as
# StarGAN (and our trainer) does, right after `torch.manual_seed(0)`.

# %%
answer = None
check("07.stargan_targets", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
torch.manual_seed(0)
labels = torch.tensor([0, 3, 4, 4, 7, 1])
assert check("07.stargan_targets", labels[torch.randperm(len(labels))])

# %% [markdown]
# ## Summary
#
# - `TrainConfig` holds a run; the `paper` preset is Section IV.B (Adam 1e-4, β 0.5/0.999,
#   batch 16, $n_{critic} = 5$, 100k + 100k iterations with linear decay, λ = 1, 10, 10, 0.1,
#   λ_gp = 10); `colab-t4` and `cpu` shorten it for smaller hardware (`cpu` also raises the
#   learning rates to 2e-4 / 8e-4 and the critics' classification weight λ_1 in Eq. 8 to 6,
#   so the classifiers learn within the 4000 iterations of `cpu`).
# - One iteration: targets are a permutation of the batch's labels; the three critics take
#   a step on Eq. 8; every fifth iteration the cascade takes a step on Eq. 9.
# - A checkpoint holds weights, optimiser moments, the iteration, the data position and all
#   random states, written atomically: resumed runs equal uninterrupted ones, and a crash
#   never destroys the last good checkpoint. NaN/inf losses stop the run with a message.
# - `python -m course_lib main` trains the `cpu` preset end to end; `train` and `generate`
#   cover other models, presets, datasets and your own photos.
#
# **Next:** Lesson 8 measures how good the translations are (FID, IS, expression accuracy,
# identity).
