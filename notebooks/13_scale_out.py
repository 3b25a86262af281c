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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-expression-course/gan-expression-course/blob/main/notebooks/13_scale_out.ipynb)
#
# # Lesson 13 (appendix) — Training on several processes: torchrun and data parallelism
#
# The `paper` presets train for 200k iterations at 128×128 (LGP-GAN Section IV.B): days on
# one GPU. A course lab with several GPUs, or one machine with many cores, can share each
# iteration among several processes. PyTorch's launcher `torchrun` starts them and
# `torch.distributed` lets them exchange tensors; the course's trainer uses both, for every
# method, with no change to a method's code. This lesson shows what that does to a GAN step,
# why the course does not wrap its networks in `DistributedDataParallel`, and what changes
# for the batch size and the learning rate.

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
# - say what each process computes in a data-parallel GAN step, and why the average of the
#   processes' gradients is the whole batch's gradient for a loss that is a mean over
#   images (the WGAN-GP losses of LGP-GAN Eq. 8 and 9, StarGAN's Eq. 7);
# - explain why the gradient penalty's double backward and the two networks of a GAN make the
#   course average gradients per update itself (as StyleGAN2-ADA's training loop does)
#   instead of using `DistributedDataParallel`;
# - launch `torchrun --nproc_per_node N -m course_lib train ...` and check that two processes
#   train like one on the same global batch;
# - choose the batch size and learning rate when the number of processes changes.
#
# **Runtime.** On a CPU (2 cores): about a minute, normal mode (two 20-iteration StarGAN
# runs, one and two processes, each a fresh Python start); fast mode (`COURSE_FAST=1`, 3
# iterations) about 30 s. On a Colab GPU: not measured (a free Colab runtime has one GPU;
# the launch below then uses gloo on its CPU).

# %%
import json
import tempfile
from pathlib import Path

import torch

from course_lib import distributed
from course_lib.exercises import check
from course_lib.lesson import pick

torch.set_num_threads(2)

# %% [markdown]
# ## 1. One step, several processes
#
# With $N$ processes and a global batch of $B$ images, process $r$ trains on images
# $rB/N, \dots, (r+1)B/N - 1$ of every batch: its *share*. Every process holds the whole
# model, computes the loss of one update on its share, and back-propagates. A WGAN-GP loss
# is a mean over images, e.g. the critic's real term of LGP-GAN Eq. 8,
# $-\frac{1}{B}\sum_{i=1}^{B} D(I_i)$. Split the sum by shares:
#
# $$-\frac{1}{B}\sum_{i=1}^{B} D(I_i) \;=\; \frac{1}{N}\sum_{r=1}^{N}\Big(-\frac{N}{B}\sum_{i \in \text{share } r} D(I_i)\Big),$$
#
# the mean of the processes' own losses, and so (the gradient is linear) the whole batch's
# gradient is the **mean of the processes' gradients**. After each backward pass the trainer
# averages the gradients of the network being updated over the processes (one `all_reduce`)
# and every process takes the same optimiser step: the models never drift apart.
#
# The cell below checks this in one process on a small critic: the gradient of its first
# layer on a batch of 8 images, and the gradients the shares of 2 and 4 processes would
# compute (`course_lib.exercises.lesson13.share_gradients`).

# %%
from course_lib.exercises import lesson13

x = torch.rand(8, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
for world in (2, 4):
    shares, whole = lesson13.share_gradients(x, world)
    mean = torch.stack(shares).mean(0)
    print(f"{world} processes: |mean of the shares' gradients - whole batch's| = {float((mean - whole).abs().max()):.1e}, "
          f"|sum - whole| = {float((sum(shares) - whole).abs().max()):.1e}")

# %% [markdown]
# **Exercise 1 (code).** Write `my_share(n_global, world, rank)`: the indices (a list of
# ints) of the images of a global batch of `n_global` that process `rank` of `world` trains
# on, as the course's trainer cuts them (contiguous blocks, `n_global` a multiple of
# `world`). The checker compares with `distributed.Context(world=world, rank=rank).share`.

# %%
def my_share(n_global, world, rank):
    ...  # your code here


check("13.my_share", my_share)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def my_share(n_global, world, rank):
    n = n_global // world
    return list(range(rank * n, (rank + 1) * n))


assert check("13.my_share", my_share)

# %% [markdown]
# **Exercise 2 (code).** Write `combine(share_grads)`: given the list of the $N$ processes'
# gradients of one parameter (each the gradient of the mean loss over that process's share),
# return the whole batch's gradient. The checker computes real share gradients of a critic
# for 1, 2, 4 and 8 processes.

# %%
def combine(share_grads):
    ...  # your code here


check("13.combine", combine)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def combine(share_grads):
    return torch.stack(list(share_grads)).mean(0)


assert check("13.combine", combine)

# %% [markdown]
# ## 2. Why not `DistributedDataParallel`?
#
# PyTorch's `DistributedDataParallel` (DDP) wraps a network and averages its gradients with
# hooks that fire during `backward()`. A GAN step does not fit it well:
#
# - **The gradient penalty** (WGAN-GP, LGP-GAN Eq. 8's $\lambda_{gp}$ term) takes
#   `torch.autograd.grad(D(x_hat), x_hat, create_graph=True)` and back-propagates through that
#   gradient: a *double backward*. DDP does not support higher-order gradients (PyTorch issues
#   #47562 and #63812, and the maintainers' open poll #63929).
# - **Two networks, one loss each.** The generator's loss runs through the critic; with a
#   DDP-wrapped critic the generator step would also all-reduce the critic's gradients (only
#   to throw them away) unless every such call sits in `no_sync()`.
# - **Several calls per update.** The critic sees real, fake and interpolated images, the
#   generator runs twice for the cycle loss, before one backward.
#
# NVIDIA's StyleGAN2-ADA and StyleGAN3 training loops face the same and do not use DDP for the
# step: after each phase's backward they all-reduce the flattened gradients of that phase's
# network. The course does the same (`course_lib/distributed.py`, `Context.average_gradients`):
# only the updated network's gradients travel, once per update.
#
# Three more things need care, and the module's docstring says how each is handled:
# **buffers** (StarGAN's running InstanceNorm statistics are averaged over the processes after
# every iteration, which equals one process on the whole batch), **random numbers** (every
# process draws the whole global batch's targets and interpolation weights from the common
# seed and keeps its share, so two processes draw exactly what one would), and **files** (only
# rank 0 writes checkpoints, logs and samples; a checkpoint records how many processes wrote it).
#
# Not every method is exact: BatchNorm (the landmark GAN) normalises over each process's share
# on the CPU (on GPUs the trainer switches to `SyncBatchNorm`), dropout masks repeat across
# shares, and CycleGAN's image pool holds each process's own fakes. The trainer lists these
# when it starts, from `distributed.departures`:

# %%
from course_lib import methods

for name in methods.names():
    notes = distributed.departures(methods.get(name)(size="cpu").nets, torch.device("cpu"))
    print(f"{name:15s}", "exact up to rounding" if not notes else "; ".join(notes))

# %% [markdown]
# ## 3. Launching: one process and two, on the same global batch
#
# `torchrun --standalone --nproc_per_node 2 -m course_lib train ...` runs the course's `train`
# command in two processes on this machine (gloo on the CPU; NCCL and one GPU each on a GPU
# machine). `distributed.launch` runs exactly that command; with `nproc=1` it is the one-process
# run. Both train StarGAN's `cpu` preset with a global batch of 8 from the same seed.

# %%
steps = pick(20, 3)
out = Path(tempfile.mkdtemp(prefix="lesson13-"))
args = ["--model", "stargan", "--steps", str(steps), "--set", "log_every=1", "--set", "sample_every=100000",
        "--set", "max_train_images=256"]
print(" ".join(["torchrun"] + distributed.torchrun_command(args + ["--out", "runs/NAME"], 2)[3:]))
runs = {}
for nproc in (1, 2):
    r = distributed.launch(args + ["--out", str(out / f"{nproc}proc")], nproc=nproc,
                           threads_per_process=2 // nproc)
    runs[nproc] = json.loads((out / f"{nproc}proc" / "summary.json").read_text())
    print(f"{nproc} process(es):", r.stdout.strip().splitlines()[-5])

# %% [markdown]
# How far apart are they? `distributed.compare_runs` gives, per iteration, the largest
# difference of a logged loss (relative to max(1, |loss|)), and the distance between the two
# final sets of weights divided by how far training moved them.

# %%
gap = distributed.compare_runs(out / "1proc", out / "2proc")
print("loss differences per iteration:", " ".join(f"{v:.0e}" for v in gap["loss_gap"]))
print(f"weights: {gap['weight_gap']:.2%} of the distance training moved them")
for nproc, summary in runs.items():
    print(f"{nproc} process(es): {summary['images_per_s']} images/s")

# %% [markdown]
# Read it: the first iteration's losses agree to float rounding (the networks are equal;
# only the sum over the batch is split in two). Later ones drift by rounding that Adam
# amplifies: it divides each gradient by its running RMS, so a weight whose gradient is zero
# up to rounding (a bias that the next InstanceNorm cancels) moves by about $\pm$ the
# learning rate in either run, whichever way the rounding went. `tests/test_distributed.py`
# runs every method this way and bounds both numbers; a job that forgot to average its
# gradients ends more than 30 % of the way apart.
#
# And the speed: compare the two images/s figures above (this run's). The networks of the
# `cpu` preset are small, and small convolutions split poorly over the threads of one
# process, so on a CPU two one-thread processes can beat one two-thread process; on a GPU
# machine each process has a GPU of its own. `python -m course_lib bench train` measures one
# process.

# %% [markdown]
# ## 4. Batch size and learning rate with more processes
#
# In the course `batch_size` is the **global** batch: with $N$ processes each trains on
# `batch_size / N` images (it must divide; the trainer says so otherwise). So a run with
# 1, 2 or 8 processes makes the same updates, and Section IV.B's hyper-parameters (batch 16,
# learning rates 1e-4) mean the same thing whatever the hardware. Resuming a checkpoint on
# another number of processes continues the same training, up to rounding (the trainer says
# so; on the same number it continues exactly).
#
# More processes then only split the same work. To use $N$ GPUs fully you may instead keep
# each GPU's share (16 images) and grow the global batch: `--set batch_size=64` on 4 GPUs.
# That is a different training run: 4 times fewer iterations per epoch and less noisy
# gradients. Heuristics for the learning rate, none of which the papers test for GANs:
# the linear scaling rule for SGD (Goyal et al. 2017, "Accurate, Large Minibatch SGD":
# $\eta \propto B$, with a warm-up), a square-root rule often used for Adam, or keeping
# the rate and the number of images seen. StyleGAN2-ADA keeps its per-configuration learning
# rates when it changes the number of GPUs and sets the batch per configuration. Whichever you
# choose, say it and measure it (Lesson 8).
#
# Losses that divide by the batch size themselves need the global one: GANimation's
# condition loss is `MSE / B * lambda_D_cond` in its official code, and its smoothness term a
# sum over the batch. `distributed.global_batch` and `distributed.batch_sum` keep both equal
# to one process's on the whole batch.

# %% [markdown]
# **Exercise 3.** A GANimation process under torchrun with 4 processes divides its condition
# loss by its share's size, `B / 4`, instead of the global batch `B`. By what factor is that
# term's gradient (after the average over the processes) off from one process's on the
# whole batch? Answer with a number.

# %%
answer = None  # your answer
check("13.division_factor", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
assert check("13.division_factor", 4)

# %% [markdown]
# ## Questions
#
# 1. Why must every process draw the *whole* global batch's targets and keep its share,
#    rather than draw targets for its share from a seed of its own? What would a comparison
#    with a one-process run lose, and what would a run resumed on another number of processes?
# 2. StarGAN's generator is used in training mode when translating, so writing a sample grid
#    updates its running statistics. Why does every process translate the sample batch,
#    although only rank 0 saves the picture?
# 3. With BatchNorm on the CPU each process normalises over its share. What changes for a
#    batch of 4 split over 4 processes? Why does `SyncBatchNorm` fix it?
# 4. The trainer checks at each checkpoint that every process holds the same weights. Name a
#    bug that check would catch that the loss log would not show.
# 5. On one 8-GPU machine, when would you keep `batch_size=16` (2 images per GPU), and when
#    would you raise it to 128?

# %% [markdown]
# ## Summary
#
# - Data parallelism: every process holds the whole model, trains on its share of the global
#   batch, and the updated network's gradients are averaged before each step; for a loss that
#   is a mean over images this equals one process on the whole batch.
# - The course averages gradients per update itself (StyleGAN2-ADA's approach) instead of
#   `DistributedDataParallel`: the gradient penalty's double backward, a critic inside the
#   generator's loss and several calls per update do not fit DDP's hooks.
# - Buffers are averaged, random numbers are drawn for the global batch and sharded, rank 0
#   writes the files: two processes reproduce one (`tests/test_distributed.py`), except where
#   BatchNorm, dropout or an image pool make a method depend on its share, which the trainer
#   says at launch.
# - `batch_size` is the global batch: more processes split the same updates. Growing the
#   batch with the number of GPUs is a different run, with a learning rate you choose and
#   measure.
