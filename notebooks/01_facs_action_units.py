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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-expression-course/gan-expression-course/blob/main/notebooks/01_facs_action_units.ipynb)
#
# # Lesson 1 — Facial Action Coding System and Action Units
#
# Every method in this course turns a face with one expression into the same face with
# another. Before building generators we need a precise vocabulary for *what* changes in
# a face: the **Facial Action Coding System** (FACS) and its **Action Units** (AUs).

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
# - explain what FACS and an Action Unit are, and read an AU code such as `AU6+AU12`;
# - write down the AU prototype of each of the six basic expressions (LGP-GAN **Table I**)
#   and of the two extra RaFD classes, contempt and neutral;
# - convert between expression names, label indices, one-hot labels and AU vectors with
#   `course_lib.facs` — the label conventions every later lesson uses;
# - argue, from AU counts per face region, why LGP-GAN adds *local* generators for the
#   eyes and the mouth (Section III.A.1; crop sizes in Section IV.B).
#
# **Runtime.** Measured on the course's CPU machine (2 cores, shared with other jobs while
# measuring; the wall time of the whole command, so expect some spread): fast mode 19 s,
# normal mode 11 s, with `COURSE_FAST=1 .venv/bin/python -m pytest --nbval-lax --nbval-current-env notebooks/01_facs_action_units.ipynb`
# (the same without `COURSE_FAST=1` for normal mode). On a Colab GPU: not measured.

# %% [markdown]
# ## FACS in a few paragraphs
#
# The Facial Action Coding System (Ekman & Friesen 1978, revised by Ekman, Friesen &
# Hager 2002) describes any facial movement as a combination of **Action Units**: the
# smallest visually distinguishable movements, each produced by one muscle or a group of
# muscles. AU12, *Lip Corner Puller*, is the zygomaticus major pulling the mouth corners up
# and back; AU6, *Cheek Raiser*, is the outer orbicularis oculi lifting the cheeks and
# narrowing the eyes. FACS defines 44 AUs (plus head and eye movements); coders also score
# an intensity from A (trace) to E (maximum) and whether the action is unilateral
# (one side only, prefix `L` or `R`).
#
# Expressions are then *combinations* of AUs. A genuine (Duchenne) smile is `AU6+AU12`;
# surprise raises the brows (`AU1+AU2`), widens the eyes (`AU5`) and drops the jaw
# (`AU26`). LGP-GAN's **Table I** lists one such prototype for each of the six basic
# expressions. The RaFD dataset the papers train on adds two more classes: *contemptuous*
# (a **unilateral** `AU12+AU14`: one mouth corner tightened and raised) and *neutral*
# (no AU).
#
# Two uses of AUs appear in this course. Label-conditioned methods (StarGAN, LGP-GAN)
# condition on a one-hot expression label; GANimation and Cascade EF-GAN condition on a
# continuous vector of AU intensities (Cascade EF-GAN Section 3.1: "we adopt the continuous
# AUs intensity as AUs labels", extracted with OpenFace, "similar to GANimation"). Both
# are one function call away in `course_lib.facs`.

# %%
from course_lib import facs
from course_lib.exercises import check

print(facs.format_au_table())

# %% [markdown]
# ## Table I, as a table and as a heat map
#
# The canonical label order of the course is RaFD's alphabetical order of its eight
# classes. `python -m course_lib facs` prints the same table from a terminal.

# %%
print(facs.format_expression_table())

# %%
from course_lib import viz

viz.expression_au_heatmap();

# %% [markdown]
# ## Labels: name, index, one-hot, AU vector
#
# The generator of every label-conditioned method receives the one-hot target label
# $f_y \in \{0, 1\}^n$, $n = 8$, tiled over the image (LGP-GAN Section III: "the input
# channel of each generator is $3 + n$"). GANimation instead receives AU intensities in
# $[0, 1]$.

# %%
print("index of happy:", facs.expression_index("happy"))
print("one-hot of happy:", facs.one_hot("happy"))
print("name of label 6:", facs.expression_name(6))
print("AUs used in Table I:", [f"AU{a}" for a in sorted({a for e in facs.BASIC_EXPRESSIONS for a in facs.EXPRESSION_AUS[e]})])
print("binary AU vector of surprised:", facs.au_vector("surprised", aus=[1, 2, 5, 26, 12]))
print("at half intensity:            ", facs.au_vector("surprised", intensity=0.5, aus=[1, 2, 5, 26, 12]))

# %% [markdown]
# Unknown names are errors that list what is valid — try `facs.expression_index("joy")`:

# %%
try:
    facs.expression_index("joy")
except ValueError as err:
    print(err)

# %% [markdown]
# ## Where do the AUs act? The argument for local networks
#
# LGP-GAN (Section III.A.1) observes that "most AUs appear in the eye and mouth region of
# six basic facial expressions" and therefore adds two local generators, $G_{eye}$ and
# $G_{mouth}$, working on crops of 48x96 and 48x64 pixels (the sizes are given in Section
# IV.B). Before the library counts the AU occurrences per region over Table I, count them
# yourself (the heat map above names each AU's region).
#
# **Exercise 1.** Without calling `facs.region_counts`, build a dict `{region: count}` of
# AU occurrences per face region over the six basic expressions
# (`facs.BASIC_EXPRESSIONS`), using `facs.EXPRESSION_AUS` and `facs.au_region`. Every
# region of `facs.REGIONS` must be a key.

# %%
answer = None  # your code here
check("01.region_counts", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
from collections import Counter

solution = Counter({r: 0 for r in facs.REGIONS})
for expression in facs.BASIC_EXPRESSIONS:
    solution.update(facs.au_region(a) for a in facs.EXPRESSION_AUS[expression])
assert check("01.region_counts", dict(solution))

# %% [markdown]
# **Exercise 2.** What share (a number between 0 and 1) of the AU occurrences of the six
# basic expressions lies inside LGP-GAN's eye or mouth crop? Use `facs.LGP_CROP_OF_REGION`,
# which names the crop (or `None`) of each region.

# %%
answer = None
check("01.crop_share", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
counts = facs.region_counts()
inside = sum(n for region, n in counts.items() if facs.LGP_CROP_OF_REGION[region] is not None)
assert check("01.crop_share", inside / sum(counts.values()))

# %% [markdown]
# Now the library's counts, per region and per crop, and the chart:

# %%
print(facs.region_counts())
print(facs.crop_counts())
viz.region_count_bars();

# %% [markdown]
# Almost every AU occurrence falls into one of the two crops: brows, eyes and upper cheeks
# are inside the eye crop, lips and the opening jaw inside the mouth crop. Only the nose
# wrinkler (AU9, disgust) lies between them — and the global generator of Stage II still
# sees the whole face. This is the design rationale of the two-stage cascade you will
# build in Lesson 4.

# %% [markdown]
# ## Explore: tick AUs, find the closest expression
#
# The panel scores every prototype by the Jaccard similarity between the ticked AUs and the
# prototype's AUs ($|A \cap P| / |A \cup P|$). Tick `AU6` and `AU12`; then add `AU1`,
# `AU4`, `AU15` one by one and watch happiness turn into sadness.

# %%
# NBVAL_IGNORE_OUTPUT
panel = viz.au_explorer()
panel

# %%
print(facs.closest_expressions([1, 2, 5, 26])[:3])

# %% [markdown]
# ## Exercises
#
# **Exercise 3.** How similar are the prototypes of *sad* and *fearful*? Read their AUs in
# Table I and compute the Jaccard similarity $|A \cap P| / |A \cup P|$ of the two AU sets
# (the score of the explorer above) by hand, without `facs.closest_expressions`.

# %%
answer = None  # a number between 0 and 1
check("01.sad_fear_jaccard", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# Sad = AU1 + AU4 + AU15, Fear = AU1 + AU2 + AU4 + AU5 + AU7 + AU20 + AU26: 2 shared AUs of 8
sad, fear = {1, 4, 15}, {1, 2, 4, 5, 7, 20, 26}
assert check("01.sad_fear_jaccard", len(sad & fear) / len(sad | fear))

# %% [markdown]
# ## Coding exercise
#
# **Exercise 4 (code).** Write the expression → AU vector map yourself:
# `au_vector(expression, intensity, aus)` returns a float32 NumPy array with one entry per
# AU number in `aus`, *in that order*: `intensity` (a number in [0, 1]) where the AU belongs
# to the expression's prototype (`facs.EXPRESSION_AUS[expression]`), 0 elsewhere. The checker
# runs your function and `facs.au_vector` on random expressions, intensities and AU lists and
# on edge cases (neutral, intensity 0, AUs out of order, an AU listed twice), and shows the
# first input where they differ.

# %%
import numpy as np


def au_vector(expression, intensity, aus):
    ...  # your code here


check("01.au_vector_function", au_vector)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def au_vector(expression, intensity, aus):
    active = facs.EXPRESSION_AUS[expression]
    return np.array([intensity if a in active else 0.0 for a in aus], np.float32)


assert check("01.au_vector_function", au_vector)

# %% [markdown]
# ## Summary
#
# - FACS decomposes facial movement into Action Units; an expression is a combination of
#   AUs, possibly unilateral and with intensities.
# - LGP-GAN Table I gives the AU prototypes of the six basic expressions; the course adds
#   contempt (unilateral AU12+AU14) and neutral, and uses RaFD's alphabetical order of the
#   8 classes as the label order everywhere.
# - `course_lib.facs` converts names, indices, one-hot labels and AU vectors, and refuses
#   unknown names with the list of valid ones.
# - Nearly all AU occurrences of the basic expressions lie in the eye and mouth crops —
#   the reason LGP-GAN adds local generators for exactly those regions.
#
# **Next:** Lesson 2 builds the dataset: faces rendered from these very AUs, with ground
# truth that real datasets cannot give.

# %% [markdown]
# ## Questions
#
# Answer in a few sentences each (no checker: compare with the lesson, or discuss them).
#
# 1. What is an Action Unit, and how does FACS describe a whole expression with AUs?
# 2. Why does RaFD's *contemptuous* class need a *unilateral* AU, and what would a label
#    that ignores sidedness confuse it with?
# 3. A one-hot label and a vector of AU intensities both condition a generator. What can the
#    AU vector express that the one-hot label cannot?
# 4. Why does the course fix one label order (RaFD's alphabetical order) for every lesson,
#    and what goes wrong when a dataset and a model disagree on it?
# 5. From the AU counts per region: which expression would suffer most if LGP-GAN had only
#    the mouth crop, and why?
# 6. The Jaccard score of the explorer treats all AUs alike. Name a case where two
#    prototypes share many AUs yet look clearly different.
