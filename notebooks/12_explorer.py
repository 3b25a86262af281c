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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-expression-course/gan-expression-course/blob/main/notebooks/12_explorer.ipynb)
#
# # Lesson 12 — The explorer: every trained method, one face, any expression
#
# The earlier lessons built one method at a time and looked at its outputs as sample grids.
# This lesson puts every method the course ships a trained checkpoint for behind one set of
# controls: pick a face (a test face, a real photo aligned as in Lesson 3, or your own
# photo), pick a target expression, and move *between* the source's expression and the
# target's. Moving between them is where the methods differ most: a label method was only
# ever trained on the corners of its label space, an AU method on continuous intensities.

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
# - load the course's shipped checkpoints (`course_lib.shipped`) and translate any aligned
#   face with every method, without training first;
# - use the explorer: input, target, interpolation, per-AU sliders, views (output, attention
#   masks, colour maps, difference to the input, each method's named intermediate images)
#   and the side-by-side mode;
# - say what "halfway between two expressions" means for a label-conditioned method (a mix
#   of two one-hot vectors) and for an AU-conditioned one (a path through AU intensities),
#   and why Cascade EF-GAN learns its path (Section 3.2, Eq. 7) instead of drawing a straight
#   line;
# - write both paths yourself and check them against the library.
#
# **Runtime.** Nothing is trained here. On a CPU (2 cores shared with other jobs, load
# about 12): 27 s of wall time for the whole notebook with three shipped checkpoints
# (GANimation, LGP-GAN, StarGAN), 16 s with none (`python -m pytest --nbval-lax
# --nbval-current-env notebooks/12_explorer.ipynb` under `/usr/bin/time`). On a Colab GPU:
# not measured.

# %% [markdown]
# ## The shipped checkpoints
#
# `python -m course_lib checkpoints build` trains every registered method at its `cpu`
# preset with the course's own `train` code (Lesson 7) and keeps, per method, only the
# networks translation needs (`data/checkpoints/<method>.pt`) and a record of how it was made
# (`<method>.json`: the command, the config, the commit, the training time and its evaluation
# row by the shipped judge of Lesson 8). `shipped.load(name)` turns one into a
# `Translator`; `shipped.available()` lists the methods that have one. The cell below prints
# what this copy of the course has.

# %%
import torch

from course_lib import explorer, methods, shipped
from course_lib.exercises import check

torch.set_num_threads(2)
available = shipped.available()
for name in methods.names():
    if name in available:
        rec = shipped.info(name)
        g = rec.get("evaluation", {}).get("acc_g")
        size = rec.get("size_bytes")
        line = f"{name:16s} shipped" + (f": {size / 1e6:.1f} MB" if size else "")
        print(line + (f", G {g:.1%} on changed targets (the shipped judge)" if g is not None else ""))
    else:
        print(f"{name:16s} no shipped checkpoint yet")
if not available:
    print("\nNo method has a shipped checkpoint yet: `python -m course_lib checkpoints build` makes them. "
          "The explorer below says so; the interpolation part of this lesson works without them.")

# %% [markdown]
# ## Using the explorer
#
# `explorer.show()` returns the whole panel (run the cell, then use the controls):
#
# - **method**: every method listed above with a checkpoint.
# - **input**: a *test face* of the synthetic set (the slider picks one; its expression,
#   AU intensities and landmarks are known), the *astronaut* or *Grace Hopper* (the two
#   offline photos of Lesson 3, found and aligned by dlib), or an *uploaded photo* (the
#   *upload photo* button). The explorer says when dlib finds no face, or several (it then
#   uses the largest).
# - **source expression**: the input's own expression: read from a test face, chosen by you
#   for a photo. It is the start of the interpolation path.
# - **target** and **source → target** (`t`): the condition translated is the one a
#   fraction `t` of the way from the source's condition (`t = 0`) to the target's (`t = 1`).
# - **AU intensities** (AU-conditioned methods only): one slider per Action Unit of
#   Lesson 1. They follow the path; move one and you edit the condition directly (raise
#   AU12, *Lip Corner Puller*, on a neutral face).
# - **view**: the difference to the input, the attention masks (LGP-GAN's eye, mouth and
#   global masks, the M of Eq. 1; GANimation's mask), and every named image the method returns:
#   colour maps, the local generators' outputs, a cascade's stages.
# - **side by side**: every method on the same input, target and `t`.
#
# The explorer never asks which method it shows: it reads each method's `conditioning`, its
# `condition_vector` and `interpolate_condition` hooks and the `masks` and `visuals` its
# `translate` returns, so a new method appears in it as soon as it has a checkpoint.

# %%
# NBVAL_IGNORE_OUTPUT
panel = explorer.show()
panel

# %% [markdown]
# ## What "between two expressions" means
#
# **Label methods** (StarGAN, LGP-GAN): the generator receives the target as a one-hot
# vector `c` of the 8 expressions, spread over the image as 8 constant channels beside the
# input's 3 (the generators of Lesson 4). Training only ever shows it the 8 corners of the
# simplex. The straight path from the source's label `s` to the target's `g` is the mix
#
# $$c(t) = (1 - t)\, e_s + t\, e_g, \qquad t \in [0, 1],$$
#
# a point the generator never saw: whether `t = 0.5` gives a "half smile" or an artefact is an
# empirical question, and the explorer is the place to ask it.
#
# **AU methods** (GANimation, EF-GAN, Cascade EF-GAN): the condition is a vector of AU
# intensities (Lesson 1's AUs, in `facs.AU_NUMBERS` order), continuous by design. The straight
# path `y(t) = (1 - t) y_src + t y_trg` raises the target's AUs and lowers the source's
# gradually. Cascade EF-GAN (Section 3.2) argues that such linearly interpolated AUs "may
# not reside on the manifold of natural AUs", and trains an **Interpolator** whose
# intermediate AUs stay close to the linear ones (the regression term of Eq. 7) while a
# critic on AU vectors keeps them realistic (its second term); each of its stages edits
# towards one of them (continuous editing, its Fig. 7).
#
# A method with its own path overrides `Method.interpolate_condition(c_src, c_trg, t)`
# (default: the straight line); the explorer's slider calls it.

# %% [markdown]
# **Exercise 1 (code).** Write `label_mix(source, target, t)`: `source` and `target` are
# label tensors of shape `(B,)` (indices into `facs.EXPRESSIONS`), `t` a float in [0, 1];
# return the `(B, 8)` float tensor of the mixes `(1 - t) e_source + t e_target`. The checker
# runs it on random and edge-case inputs (t = 0, t = 1, source = target) against StarGAN's
# `interpolate_condition`.

# %%
def label_mix(source, target, t):
    ...  # your code here


check("12.label_mix", label_mix)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
import torch.nn.functional as F


def label_mix(source, target, t):
    return (1 - t) * F.one_hot(source, 8).float() + t * F.one_hot(target, 8).float()


assert check("12.label_mix", label_mix)

# %% [markdown]
# The library's path for a label method, from *sad* to *happy*: each row is the condition
# the generator receives at one `t`.

# %%
stargan = methods.get("stargan")(build=False)      # the method's hooks only, no networks
sad, happy = torch.tensor([6]), torch.tensor([4])
for t in (0.0, 0.25, 0.5, 0.75, 1.0):
    c = stargan.interpolate_condition(stargan.condition_vector(sad), stargan.condition_vector(happy), t)
    print(f"t = {t:.2f}:", " ".join(f"{v:.2f}" for v in c[0].tolist()))

# %% [markdown]
# **Exercise 2 (code).** Write `au_path(aus_src, aus_trg, steps)`: two AU vectors of shape
# `(K,)` (K = `len(facs.AU_NUMBERS)`) and a number of steps; return the `(steps + 1, K)`
# tensor of the straight path's points at `t = 0, 1/steps, ..., 1` (first row the source,
# last row the target). Checked against GANimation's `interpolate_condition`.

# %%
def au_path(aus_src, aus_trg, steps):
    ...  # your code here


check("12.au_path", au_path)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def au_path(aus_src, aus_trg, steps):
    return torch.stack([aus_src + (aus_trg - aus_src) * (k / steps) for k in range(steps + 1)])


assert check("12.au_path", au_path)

# %% [markdown]
# The library's AU path from *neutral* to *happy* (the synthetic set's prototypes,
# `datasets.prototype_aus`), printed for the AUs that are not zero along it:

# %%
from course_lib import facs
from course_lib.datasets import prototype_aus

ganimation = methods.get("ganimation")(build=False)
ends = prototype_aus(torch.tensor([facs.expression_index("neutral"), facs.expression_index("happy")]))
path = torch.stack([ganimation.interpolate_condition(ends[0], ends[1], k / 4) for k in range(5)])
for j in torch.nonzero(path.abs().sum(0)).flatten().tolist():
    print(f"AU{facs.AU_NUMBERS[j]:<3d} {facs.AU_TABLE[facs.AU_NUMBERS[j]].name:18s}",
          " ".join(f"{v:.2f}" for v in path[:, j].tolist()))

# %% [markdown]
# **Exercise 3.** For which of the course's registered methods does the explorer show the
# per-AU sliders? Answer with a list of their CLI names (`methods.names()` lists every
# method; each class says how it is conditioned).

# %%
answer = None  # your code
check("12.au_methods", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
solution = [n for n in methods.names() if methods.get(n).conditioning == "AUs"]
assert check("12.au_methods", solution)

# %% [markdown]
# ## Every method side by side
#
# The explorer's *side by side* mode, drawn once for the book (where widgets do not run):
# test face 0 of the synthetic set, each method with a shipped checkpoint translating it to
# *happy*; the third column is the mean absolute difference to the input (bright: changed),
# where the attention methods should leave the background dark.

# %%
explorer.preview(face=0, target="happy");

# %% [markdown]
# And the interpolation slider, drawn for the same face: each row one method, each column
# one `t` of its path from the face's own expression to *happy*.

# %%
explorer.interpolation_figure(face=0, target="happy", steps=4);

# %% [markdown]
# ## Questions
#
# 1. A label method at `t = 0.5` receives a vector it never saw in training. What would you
#    expect from a generator whose first layer is a convolution over `(image, c)` channels,
#    and what do you see in the explorer?
# 2. Set every AU slider of an AU method to 0 on a smiling test face. What should come out,
#    and what does? Which AU brings the smile back first?
# 3. Upload a photo whose face is turned to the side. Where does dlib's alignment (Lesson 3)
#    stop helping, and which method degrades first?
# 4. The difference view of an attention method and of StarGAN on the same input: where does
#    each change pixels it should not?

# %% [markdown]
# ## Summary
#
# - `course_lib.shipped` gives every method a trained checkpoint to load instead of
#   training; `explorer.show()` puts all of them behind one panel, and `explorer.preview()`
#   draws its side-by-side view where widgets cannot run.
# - A condition has a method-specific form: a one-hot label vector or AU intensities
#   (`Method.condition_vector`). Interpolating means walking from the source's condition to
#   the target's: a mix of one-hot vectors for a label method, an AU path for an AU method
#   (`Method.interpolate_condition`, the straight line unless a method has its own, as
#   Cascade EF-GAN's Interpolator, Section 3.2, Eq. 7).
# - The per-AU sliders edit the condition directly: the finest control the course's methods
#   offer, and the one the label methods lack.
# - Views show what each method computes on the way (masks, colour maps, stages); the
#   side-by-side mode compares methods on the same input and target.
