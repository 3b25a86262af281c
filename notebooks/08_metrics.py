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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/gan-expression-course/gan-expression-course/blob/main/notebooks/08_metrics.ipynb)
#
# # Lesson 8 — Evaluating expression synthesis: FID, IS, PSNR/SSIM, expression accuracy, identity
#
# A trained generator produces faces; how good are they? The papers answer with numbers:
# LGP-GAN reports **IS** and **FID** (Table IV), Cascade EF-GAN expression-recognition
# accuracy **R / G / R+G** (Table 1) and **PSNR / FID** (Table 2), the landmark+label GAN
# **PSNR / SSIM / FID** (Table 5) and identity preservation (Table 6). This lesson computes
# each of them, says what each one can and cannot see, and assembles them into one table.

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
# - say what FID and IS measure, write FID's formula (the landmark+label GAN's **Eq. 10**)
#   and compute it by hand from two feature sets, matching torch-fidelity's number;
# - explain why IS is a weak metric for faces (LGP-GAN Sec. IV.D, **Table IV**) and why
#   an *in-domain* FID is not comparable with the papers' Inception FID;
# - run Cascade EF-GAN's expression-accuracy protocol **R / G / R+G** (**Table 1**);
# - score translations against a ground truth with PSNR and SSIM (**Eq. 8, 9**), AU error,
#   and identity with dlib's face descriptors — reporting the faces dlib did not find;
# - evaluate a training run with `python -m course_lib evaluate` and compare runs with
#   `python -m course_lib compare`.

# %%
import numpy as np
import torch
from IPython.display import Markdown, display

from course_lib import classifier, datasets, evaluate, facs, metrics
from course_lib.exercises import check
from course_lib.exercises.lesson08 import exercise_features
from course_lib.lesson import fast_mode, pick, repo_root

_ = torch.manual_seed(0)

# %% [markdown]
# ## 1. What FID and IS measure
#
# Both metrics look at generated images through a network trained on ImageNet,
# Inception-v3 (LGP-GAN Sec. IV.A).
#
# **Inception Score** (IS) uses only the generated images. For each image $x$ the network
# gives class probabilities $p(y \mid x)$; IS is
# $\exp\big(\mathbb{E}_x\, \mathrm{KL}(p(y \mid x) \,\|\, p(y))\big)$, large when each image
# is classified confidently (a sharp $p(y\mid x)$) and the images spread over many classes
# (a flat marginal $p(y)$). It never looks at real data.
#
# **Fréchet Inception Distance** (FID) compares generated with real images. It fits a
# Gaussian to the penultimate ("final average pooling") features of each set and computes
# the Fréchet distance between the two Gaussians — the landmark+label GAN's **Eq. 10**:
#
# $$\mathrm{FID}(g, r) = \lVert \mu_g - \mu_r \rVert^2 + \mathrm{Tr}\big(\Sigma_g + \Sigma_r - 2 (\Sigma_g \Sigma_r)^{1/2}\big).$$
#
# Lower is better; 0 means the same mean and covariance. The papers' numbers (LGP-GAN
# **Table IV**: FID 11.88 to 18.18, IS 1.26 to 1.31 on RaFD) are Inception numbers.

# %% [markdown]
# ## 2. FID by hand
#
# Eq. 10 in five lines of NumPy/SciPy. `scipy.linalg.sqrtm` returns a matrix square root
# that is slightly complex through rounding; like Eq. 10 says, keep the real part.

# %%
from scipy import linalg


def fid_by_hand(f1, f2):
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean))


rng = np.random.default_rng(0)
real_f = rng.normal(size=(2000, 8))
shift = np.full(8, 0.5)
print("FID(real, real)         =", round(fid_by_hand(real_f, real_f), 6))
print("FID(real, real + shift) =", round(fid_by_hand(real_f, real_f + shift), 6),
      " closed form |shift|^2 =", shift @ shift)
print("course_lib.metrics      =", round(metrics.fid_from_features(real_f, real_f + shift), 6))

# %% [markdown]
# torch-fidelity, the library the course uses for FID/IS/KID, computes the same quantity
# from the same statistics (through the eigenvalues of $\Sigma_1 \Sigma_2$ instead of
# `sqrtm`). On identical features the two agree to rounding:

# %%
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric

gen_f = rng.normal(size=(2000, 8)) * 1.5 + 0.3
tf_fid = fid_statistics_to_metric(fid_features_to_statistics(torch.from_numpy(real_f).float()),
                                  fid_features_to_statistics(torch.from_numpy(gen_f).float()),
                                  verbose=False)["frechet_inception_distance"]
print(f"by hand: {fid_by_hand(real_f, gen_f):.6f}   torch-fidelity: {tf_fid:.6f}")

# %% [markdown]
# ## 3. Offline features: an in-domain expression classifier
#
# The Inception weights are a download; this course runs offline. Our substitute is an
# **in-domain feature extractor**: a small CNN expression classifier
# (`course_lib.classifier`, our choice of architecture) trained on the real training
# faces; its penultimate layer plays the role of Inception's pooling features. The same
# classifier is the judge of the accuracy protocol in section 5.
#
# Its FID is always labelled **in-domain FID**. It is *not* the papers' FID: different
# features, different scale, not comparable with Table IV.

# %%
SIZE = 64   # the cpu preset's image size
train_set = datasets.SyntheticFaces(identities=pick(200, 16), size=SIZE, split="train")
test_set = datasets.SyntheticFaces(identities=pick(200, 16), size=SIZE, split="test")
train = evaluate.collect(train_set, SIZE, desc="rendering training faces")
test = evaluate.collect(test_set, SIZE, desc="rendering test faces")
judge = evaluate.train_judge(train, epochs=pick(evaluate.JUDGE_EPOCHS, 3), seed=0)
print(f"{len(train)} training and {len(test)} test faces; classifier accuracy on the real test faces "
      f"(protocol R): {classifier.accuracy(judge, test.images, test.labels):.1%}")

# %% [markdown]
# Registering the extractor with torch-fidelity is idempotent: running this cell twice
# (or the whole notebook again) does not fail.

# %%
name = metrics.register_in_domain_extractor()
assert metrics.register_in_domain_extractor() == name
print("registered with torch-fidelity as", repr(name))

# %% [markdown]
# Now the match of section 2 on real images: FID of the training faces against the same
# faces made brighter, once by hand from the classifier's features and once by
# torch-fidelity with the registered extractor.

# %%
brighter = (classifier.as_float(train.images) + 0.3).clamp(-1, 1)
as_seen = metrics.UInt8Images(brighter).images            # what torch-fidelity reads: uint8
hand = fid_by_hand(classifier.extract_features(judge, as_seen).double().numpy(),
                   classifier.extract_features(judge, train.images).double().numpy())
tf = metrics.fidelity_metrics(as_seen, train.images, classifier=judge)
print(f"in-domain FID, brighter vs original — by hand: {hand:.4f}   torch-fidelity ({tf['kind']}): {tf['fid']:.4f}")
print(f"in-domain FID, original vs itself: "
      f"{metrics.fidelity_metrics(train.images, train.images, classifier=judge)['fid']:.2e}")

# %% [markdown]
# ## 4. Inception FID and IS, and why IS is weak for faces
#
# With the Inception weights available (`--inception-weights PATH`, or torch hub's cache)
# `course_lib` reports Inception FID, IS and KID through torch-fidelity; without them it
# says so and reports nothing in their place — random Inception weights would give
# meaningless numbers.

# %%
try:
    print("Inception weights:", metrics.inception_weights())
except metrics.InceptionUnavailable as err:
    print(err)

# %% [markdown]
# LGP-GAN's own discussion (Sec. IV.D): its IS beats the others "within a max margin of
# 0.05", because IS "just evaluated the synthetic results using the output of pre-trained
# Inception network on ImageNet instead of comparing the synthetic distribution with the
# real distribution, which is not well appropriate to facial image database such as RaFD".
# Every face looks like the same few ImageNet classes, so all methods land near 1.3 in
# Table IV; FID, which compares with real faces, separates them better.
#
# The same weakness shows with our own classifier's probabilities (for teaching only: an
# "in-domain IS" is not a metric the papers use). A set that keeps one face per expression
# and repeats it — no identity diversity at all — gets about the IS of the real test set,
# because IS only sees class confidence and class spread; the in-domain FID sees the
# collapse.

# %%
def inception_score(probs):
    """exp(E_x KL(p(y|x) || p(y))) from class probabilities (N, classes)."""
    p_y = probs.mean(0, keepdims=True)
    return float(np.exp((probs * (np.log(probs + 1e-12) - np.log(p_y + 1e-12))).sum(1).mean()))


def probabilities(images):
    with torch.no_grad():
        return torch.softmax(judge(classifier.as_float(images)), 1).numpy()


first_of_each = [int((test.labels == k).nonzero()[0]) for k in range(len(facs.EXPRESSIONS))]
collapsed = test.images[first_of_each].repeat(len(test) // len(facs.EXPRESSIONS), 1, 1, 1)
for label, imgs in (("real test faces", test.images), ("collapsed: 8 faces repeated", collapsed)):
    print(f"{label:28s} in-domain IS {inception_score(probabilities(imgs)):.2f}   "
          f"in-domain FID vs real test {metrics.fidelity_metrics(imgs, test.images, classifier=judge)['fid']:.2f}")

# %% [markdown]
# ## 5. The protocols: R / G / R+G, PSNR / SSIM, AU error, identity
#
# **Expression accuracy** (Cascade EF-GAN Sec. 4.3, **Table 1**): **R** trains a classifier
# on the real training images and tests it on the real test images; **G** applies the same
# classifier to the translations of the test images to *every* target expression, scored
# against the targets; **R+G** trains a classifier on real plus generated images and tests
# it on the real test images. (Our choice: the generated training images of R+G are
# translations of the *training* images, one random other target each, so no test identity
# leaks into training.)
#
# **Paired metrics**: the synthetic data has what no real dataset has, the true face of the
# same identity with the target expression. PSNR (**Eq. 8**) and SSIM (**Eq. 9**) compare
# each translation with it (scikit-image), and the classifier's AU head measures the AU
# error against the true AU intensities.
#
# **Identity**: dlib's face-recognition network maps a face to a 128-D descriptor; two
# photos of one person lie within 0.6 of each other. We report the mean input/output
# distance, the share under 0.6, and how often dlib found no face (it is not hidden).
#
# Two stand-in translators bracket any model: the **identity** translator changes
# nothing, the **oracle** returns the ground truth. Their rows show what each metric
# considers worst and best.

# %% [markdown]
# **Exercise 1.** Before the next cell evaluates it: the identity translator returns its
# input unchanged. Under protocol G (every test face translated to each of the 8
# expressions), what accuracy does it get, whatever the judge? Give a number between 0 and 1.

# %%
answer = None
check("08.identity_g", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# one fixed prediction per input matches exactly one of its 8 targets
assert check("08.identity_g", 1 / len(facs.EXPRESSIONS))

# %%
rows = [evaluate.evaluate_translator(t, train, test, judge=judge, classifier_epochs=pick(evaluate.JUDGE_EPOCHS, 3),
                                     identity_inputs=pick(16, 2), log=lambda *a: None)
        for t in (evaluate.IdentityTranslator(), evaluate.OracleTranslator(test, train))]
display(Markdown(evaluate.markdown_table(rows) + "\n" + evaluate.notes(rows)))

# %% [markdown]
# Read the rows against each other: the identity translator keeps every face (identity
# distance 0) and reaches **G = 1/8**, because the judge gives each unchanged input one
# label, which matches exactly one of its eight targets. The oracle's translations *are*
# the test faces, so its G equals R, its SSIM is 1 and its PSNR is capped at 100 dB (an
# exact copy has infinite PSNR). A real model lies in between: the art is in raising G
# and PSNR without losing identity.

# %% [markdown]
# ## 6. The table for the main job's model
#
# `python -m course_lib main` trains LGP-GAN with the `cpu` preset into `runs/main/` and
# evaluates it without R+G (its second classifier takes minutes);
# `python -m course_lib evaluate --run runs/main` writes the whole table to
# `runs/main/eval/metrics.md` and `metrics.csv`, and `python -m course_lib compare runs/A runs/B ...` puts several runs in
# one table — our counterpart of LGP-GAN Table IV and Cascade EF-GAN Tables 1-2. This cell
# shows that table when it exists, evaluates the run when only its checkpoint exists, and
# otherwise says how to produce it.

# %%
RUN = repo_root() / "runs" / "main"
table = RUN / "eval" / "metrics.md"
if table.is_file():
    display(Markdown(table.read_text()))
elif (RUN / "checkpoints" / "last.pt").is_file() and not fast_mode():
    evaluate.evaluate_run(RUN)
    display(Markdown(table.read_text()))
else:
    print(f"No trained run at {RUN}. Produce it with `python -m course_lib main`, then "
          f"`python -m course_lib evaluate --run runs/main`.")

# %% [markdown]
# ## Exercises
#
# **Exercise 2.** `exercise_features()` returns two feature sets, `real` and `generated`
# (each 500 x 4). Compute their FID by hand with NumPy and `scipy.linalg.sqrtm` (Eq. 10),
# without `fid_by_hand` or `course_lib.metrics`.

# %%
real, generated = exercise_features()
answer = None  # your code here
check("08.fid_by_hand", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
mu_r, mu_g = real.mean(0), generated.mean(0)
s_r, s_g = np.cov(real, rowvar=False), np.cov(generated, rowvar=False)
solution = float(((mu_r - mu_g) ** 2).sum() + np.trace(s_r) + np.trace(s_g) - 2 * np.trace(linalg.sqrtm(s_r @ s_g)).real)
assert check("08.fid_by_hand", solution)

# %% [markdown]
# **Exercise 3.** A translation equals its ground truth except that every pixel value is
# higher by 10 (8-bit images). What is its PSNR in dB (Eq. 8)?

# %%
answer = None
check("08.psnr_offset", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# MSE = 10^2
assert check("08.psnr_offset", 10 * np.log10(255 ** 2 / 10 ** 2))

# %% [markdown]
# ## Summary
#
# - **FID** (Eq. 10) is the Fréchet distance between Gaussians fitted to two feature sets;
#   computed by hand it matches torch-fidelity's number. The papers' FID uses Inception
#   features; offline we report an **in-domain FID** from an expression classifier, always
#   labelled as such and never compared with Table IV.
# - **IS** looks only at generated images through ImageNet classes; for faces it barely
#   moves (LGP-GAN Table IV: 1.26-1.31) and it is blind to a collapse onto a few faces.
# - **R / G / R+G** (Cascade EF-GAN Table 1) ask whether translations carry the target
#   expression (G) and whether they help train a classifier (R+G).
# - With ground truth, **PSNR / SSIM** (Eq. 8, 9) and the **AU error** score each
#   translation; **identity** is the dlib descriptor distance, with the faces dlib missed
#   counted.
# - `python -m course_lib evaluate --run runs/NAME` writes the table as Markdown and CSV;
#   `python -m course_lib compare` puts runs side by side.
#
# This is the last lesson. To put the baselines of Lesson 5 into this very table, train
# them (`python -m course_lib train --model stargan --out runs/stargan`, likewise
# `--model ganimation`), evaluate each run with `python -m course_lib evaluate --run RUN`
# and compare them with `python -m course_lib compare runs/main runs/stargan runs/ganimation`.
