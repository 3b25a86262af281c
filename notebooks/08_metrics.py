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
# each of them, says what each one can and cannot see, and assembles them into one table —
# beside two references scored on the same translations: a **copy** that changes nothing and
# the **oracle** that returns the ground truth.

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
# - explain why the **copy baseline** matters: most of a face does not change with its
#   expression, so returning the input unchanged already scores a high PSNR/SSIM; read a
#   model's row against the **copy** and **oracle** reference rows, as its **gain over copy**;
# - compute the share of **changes outside the expression** and the **high-frequency ratio**
#   (stripes and checkerboards raise it, blur lowers it), and read G per target expression
#   and the judge's confusion matrix;
# - evaluate a training run with `python -m course_lib evaluate` and compare runs with
#   `python -m course_lib compare`.
#
# **Runtime.** Measured on the course's CPU machine (2 cores, shared with other jobs while
# measuring; the wall time of the whole command, so expect some spread): fast mode 29 s (46 s
# and 82 s while another job was using the cores), normal mode 54 s (both modes load the shipped judge; normal mode scores
# identity on more faces; with `runs/main` already evaluated, section 6 only reads its table),
# with `COURSE_FAST=1 .venv/bin/python -m pytest --nbval-lax --nbval-current-env notebooks/08_metrics.ipynb`
# (the same without `COURSE_FAST=1` for normal mode). On a Colab GPU: not measured.

# %%
import numpy as np
import torch
from IPython.display import Markdown, display

from course_lib import classifier, evaluate, facs, metrics, viz
from course_lib.exercises import check
from course_lib.exercises.lesson08 import exercise_features, exercise_translations
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
#
# A feature space retrained for every evaluation moves with its training: the same
# generator's in-domain FID can change by a factor from one judge to the next. So the course
# **ships** its judge for the embedded data at 64×64, trained once by the course's recipe
# (`course_lib.judge.RECIPE`) with `python -m course_lib judge train --size 64` and stored,
# versioned and checksummed, in `data/judges/`. `evaluate` and the main job use it whenever
# the data is the embedded set at that size (their tables name the judge), so two runs judged
# by it are compared in one feature space on every machine.
#
# This lesson does the same. It decodes the embedded set (`data/synthetic`, built on first
# use as the `train` command builds it) at 64×64: its training split, and its test split,
# whose identities the judge never saw (the split is by identity). It loads the shipped judge
# when the file's data record matches these very splits (`judge.shipped_judge`); otherwise
# (the file is missing, or the data differs) it trains one by the same recipe and says so.

# %%
from course_lib import judge as judge_lib
from course_lib import trainer
from course_lib.config import TrainConfig

SIZE = 64   # the cpu preset's image size, and the shipped judge's
embedded = TrainConfig(data="synthetic")    # data/synthetic, as the `train` command opens it
train = evaluate.collect(trainer.open_dataset(embedded, "train"), SIZE, desc="loading training faces")
test = evaluate.collect(trainer.open_dataset(embedded, "test"), SIZE, desc="loading test faces")
judge, why_not = judge_lib.shipped_judge(train, test)
if judge is not None:
    print("judge: the course's shipped judge,", judge_lib.describe(judge)["judge_name"])
else:
    epochs = pick(evaluate.JUDGE_EPOCHS, 3)
    print(f"judge: no shipped judge for these faces ({why_not}); training one here for {epochs} epochs"
          + (" (fast mode: not the course's judge)" if epochs < evaluate.JUDGE_EPOCHS else ""))
    judge = evaluate.train_judge(train, epochs=epochs, seed=0)
print(f"{len(train)} training and {len(test)} test faces; classifier accuracy on the real test faces "
      f"(protocol R): {classifier.accuracy(judge, test.images, test.labels):.1%}")

# %% [markdown]
# The next cell prints what the shipped judge file records about itself — its recipe, the
# data it was trained on and its measured accuracy R:

# %%
from course_lib import cli

cli.main(["judge", "info"])

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
# ## 5. The protocols: R / G / R+G, PSNR / SSIM against a copy, AU error, identity
#
# Every test face is translated to every **other** expression, 7 targets per face (Cascade
# EF-GAN Sec. 4.3 translates "the same, unseen testing set"; leaving out the face's own
# expression is our choice). On its own expression the unchanged input is the exact answer,
# so a model that does nothing would score there for free; G and the paired metrics below
# use the changed targets only.
#
# **Expression accuracy** (Cascade EF-GAN Sec. 4.3, **Table 1**): **R** trains a classifier
# on the real training images and tests it on the real test images; **G** applies the same
# classifier to the translations of the test images to every *other* expression, scored
# against the targets (also per target, with its confusion matrix); **R+G** trains a
# classifier on real plus generated images and tests it on the real test images. (Our
# choice: the generated training images of R+G are translations of the *training* images,
# one random other target each, so no test identity leaks into training.)
#
# **Paired metrics**: the synthetic data has what no real dataset has, the true face of the
# same identity with the target expression. PSNR (**Eq. 8**) and SSIM (**Eq. 9**) compare
# each translation with it (scikit-image), on the same changed pairs; the classifier's AU
# head measures the AU error against the true AU intensities. LPIPS (a learned perceptual
# distance) is reported only where the `lpips` package and its network weights are present
# (`pip install lpips`; in Colab this lesson lets it download the weights); otherwise the
# table says so instead of a number.
#
# **Identity**: dlib's face-recognition network maps a face to a 128-D descriptor; two
# photos of one person lie within 0.6 of each other. We report the mean input/output
# distance, the share under 0.6, and how often dlib found no face (it is not hidden).
#
# Every table carries two **reference rows**, scored on the same pairs with the same judge
# (`evaluate.reference_rows`): the **copy** returns each input unchanged, the **oracle**
# returns the ground truth. Between them we put a stand-in "model" that has learned the
# expressions and nothing else: it returns the **mean training face of the target
# expression**, whatever the input.

# %% [markdown]
# **Exercise 1.** Before the next cell evaluates it: the copy returns its input unchanged.
# Say the judge reads R = 90 % of the real test faces right. Under protocol G on changed
# targets (every test face translated to each of its 7 *other* expressions), what accuracy
# does the copy get? Give a number between 0 and 1.

# %%
answer = None
check("08.copy_g", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# The judge gives each unchanged face one label. Read right (share R), it is the face's own
# expression, none of its 7 targets; read wrong (share 1 - R), it is one of the 7: one match.
R = 0.9
assert check("08.copy_g", (1 - R) / (len(facs.EXPRESSIONS) - 1))

# %%
class MeanFaceTranslator:
    """Stand-in "model": the mean training face of the target expression, whatever the input."""
    model_name = "mean face of the target"

    def __init__(self, split):
        faces = classifier.as_float(split.images)
        self.means = torch.stack([faces[split.labels == k].mean(0) for k in range(len(facs.EXPRESSIONS))])

    def __call__(self, images, targets, landmarks=None):
        return self.means[torch.as_tensor(targets).long()]


# the LPIPS network when the package and its weights are here (downloaded in Colab), else None and why
lpips = evaluate.resolve_lpips("auto", download="google.colab" in sys.modules)
copy, oracle = evaluate.reference_rows(train, test, judge, identity_inputs=pick(16, 2), lpips=lpips)
mean_face = evaluate.evaluate_translator(MeanFaceTranslator(train), train, test, judge=judge, rg=False,
                                         identity_inputs=pick(16, 2), lpips=lpips, log=lambda *a: None)
rows = [copy, mean_face, oracle]
display(Markdown(evaluate.markdown_table(rows) + "\n" + evaluate.notes(rows)))

# %%
print(f"pairs: {copy['paired']} ({len(test)} test faces x their {len(facs.EXPRESSIONS) - 1} other expressions)")
print(f"copy:      PSNR {copy['psnr']:.2f} dB, SSIM {copy['ssim']:.3f} against the truth, without changing a pixel")
print(f"copy:      G = {copy['acc_g']:.2%};  (1 - R) / 7 = {(1 - copy['acc_r']) / 7:.2%}  (R = {copy['acc_r']:.1%})")
print(f"oracle:    G = {oracle['acc_g']:.2%};  R = {oracle['acc_r']:.1%}")
print(f"mean face: G = {mean_face['acc_g']:.1%}, PSNR gain over copy {mean_face['psnr_gain']:+.2f} dB, "
      f"SSIM gain {mean_face['ssim_gain']:+.3f}, changes outside the expression {mean_face['outside_change']:.1%}")

# %% [markdown]
# ### Why the copy baseline matters
#
# Read the copy row first. It changes no pixel, yet against the true faces it scores the
# PSNR and SSIM printed above: most of a face — skin, hair, background, the person — does
# not change with the expression; only the brows, eyes and mouth do. A model's PSNR or SSIM
# on its own therefore says little. What says whether it moved the face *toward the truth*
# is its **gain over copy** on the same pairs,
#
# $$\Delta\mathrm{PSNR} = \frac{1}{N}\sum_{k=1}^{N} \mathrm{PSNR}(y_k, t_k) - \frac{1}{N}\sum_{k=1}^{N} \mathrm{PSNR}(x_k, t_k)$$
#
# (input $x_k$, translation $y_k$, truth $t_k$; likewise $\Delta\mathrm{SSIM}$): 0 for doing
# nothing, positive when the model's changes bring the face closer to the truth, and
# **negative** when they cost more than they bring — a model can be worse than doing
# nothing. The mean-face "model" shows it: it replaces the person by an average face, and its
# gains fall far below zero, it changes nearly every pixel the truth leaves alone, and its
# identity distance is well above the oracle's. This is not only a stand-in's failing: when
# the course's issue 15 measured the main job of the README on its 160 synthetic test faces x
# their 7 other expressions, the trained model scored PSNR 27.25 dB / SSIM 0.870 against the
# truth and the copy of those faces 30.09 dB / 0.914 — a gain of −2.8 dB, worse than doing
# nothing. (The copy's PSNR depends on the faces. Those 160 faces are the embedded set's
# test split, the faces this lesson scores, so the copy row above is that copy; across data
# sets, compare the gains, not the PSNRs.) Section 6 shows the table of your own run.
#
# The two references also pin the ends of the other columns:
#
# - the copy's **G is (1 − R)/7**: the judge gives each unchanged face one label; read right,
#   that label is the face's own expression and matches none of its 7 targets, read wrong it
#   matches exactly one (the cell above prints both sides);
# - the **oracle's PSNR is "∞ (exact)"**: each of its outputs *is* the truth; its SSIM is 1,
#   its gains the most any model can reach, and its G is the judge's accuracy on the true
#   faces (here every test face is the truth of 7 pairs, so it is R, printed above).
#
# Two more columns name the *kind* of error that PSNR and SSIM only count.
#
# **Changes outside the expression.** With input $x$, translation $y$ and truth $t$ in grey
# levels 0..255, the pixels the truth leaves unchanged are
# $S = \{p : \max_c |t_{p,c} - x_{p,c}| \le \tau\}$, with $\tau = 8$ (our choice,
# `metrics.OUTSIDE_CHANGE_THRESHOLD`); over all pairs,
#
# $$\text{outside} = \frac{\big|\{p \in S : \max_c |y_{p,c} - x_{p,c}| > \tau\}\big|}{|S|},$$
#
# the share of those static pixels the model changes by more than 8/255. It is 0 for the
# copy and for the oracle; repainting the background, shifting the colours or striping the
# face raise it.
#
# **High-frequency ratio.** The 4-neighbour Laplacian of each colour channel,
# $L(z)_{i,j} = z_{i-1,j} + z_{i+1,j} + z_{i,j-1} + z_{i,j+1} - 4 z_{i,j}$ (interior pixels),
# is large where the image changes abruptly;
#
# $$\mathrm{HF} = \frac{\operatorname{mean} |L(y)|}{\operatorname{mean} |L(t)|},$$
#
# means over all pairs, pixels and channels. 1 means as much fine detail as the truth;
# stripes and checkerboards (the artefacts of transposed convolutions) add energy and push it
# above 1; blur removes detail and pulls it below 1. The next cell damages the oracle's
# outputs three ways and scores each with `evaluate.paired_metrics`.

# %%
truths = evaluate.translate(evaluate.OracleTranslator(test, train), test, changed_only=True, desc="ground truths")
t = classifier.as_float(truths.images)
grey = 2 / 255                                     # one grey level on the [-1, 1] scale
striped = t.clone()
striped[:, :, ::2] += 12 * grey                    # +12 grey levels on every other row
damaged = {"truth + stripes (+12 grey levels, every other row)": striped,
           "truth blurred (3 x 3 mean)": torch.nn.functional.avg_pool2d(t, 3, stride=1, padding=1,
                                                                        count_include_pad=False),
           "truth, every pixel +12 grey levels": t + 12 * grey}
for name, images in damaged.items():
    m = evaluate.paired_metrics(test, evaluate.Generated(metrics.UInt8Images(images.clamp(-1, 1)).images,
                                                         truths.source, truths.target))
    print(f"{name:52s} PSNR gain {m['psnr_gain']:+6.2f} dB   SSIM gain {m['ssim_gain']:+.3f}   "
          f"outside {m['outside_change']:6.1%}   HF ratio {m['hf_ratio']:.2f}")

# %% [markdown]
# Each damaged set carries the right expression in the truth's place, yet its gains fall
# from the oracle's, some below zero: worse than the copy by that metric. PSNR and SSIM need
# not even agree on the sign (SSIM forgives a uniform change of brightness, PSNR does not).
# The last two columns say what went wrong: stripes change the static pixels of every other
# row and push the HF ratio above 1; blur pulls it below 1 (far below for the mean face in
# the table above, an average of many faces) and touches the static pixels only near
# edges; a uniform brightening changes nearly every static pixel and leaves the HF ratio
# at 1.

# %% [markdown]
# ## 6. The table for the main job's model
#
# `python -m course_lib main` trains LGP-GAN with the `cpu` preset into `runs/main/` and
# evaluates it without R+G (its second classifier takes minutes);
# `python -m course_lib evaluate --run runs/main` writes the whole table to
# `runs/main/eval/metrics.md`, `metrics.csv` and `metrics.json` — the model's row between
# the copy and oracle rows, computed on the same pairs with the same judge, then G per
# target — and the judge's confusion matrix on the model's translations to
# `runs/main/eval/confusion_g.png`. `python -m course_lib compare runs/A runs/B ...` puts
# several runs in one table — our counterpart of LGP-GAN Table IV and Cascade EF-GAN
# Tables 1-2. This cell shows the run's table when it was evaluated with the reference rows,
# evaluates the run when only its checkpoint (or a table without them) exists, and otherwise
# shows the table recorded with the course's shipped checkpoint of the same preset
# (`data/checkpoints/lgp-gan.json`, written by `python -m course_lib checkpoints build`). Read the model's row against the copy's: its gain over copy, not
# its PSNR, says whether training moved the faces toward the truth.

# %%
from course_lib import shipped

RUN = repo_root() / "runs" / "main"
run_rows = evaluate.load_rows([RUN]) if (RUN / "eval" / "metrics.json").is_file() else []
if not any(r.get("reference") == "copy" for r in run_rows):      # not evaluated, or before the reference rows
    run_rows = []
    if (RUN / "checkpoints" / "last.pt").is_file() and not fast_mode():
        evaluate.evaluate_run(RUN)
        run_rows = evaluate.load_rows([RUN])
if not run_rows and shipped.path("lgp-gan").is_file():   # the course's shipped checkpoint of the same preset
    run_rows = shipped.rows("lgp-gan")
    print(shipped.describe("lgp-gan"))
if run_rows:
    display(Markdown(evaluate.markdown_table(run_rows) + "\n" + evaluate.notes(run_rows)))
    model = next(r for r in run_rows if not r.get("reference"))
    print(f"{model['method']}: PSNR gain over copy {model['psnr_gain']:+.2f} dB, SSIM gain {model['ssim_gain']:+.3f}, "
          f"changes outside the expression {model['outside_change']:.1%}, HF ratio {model['hf_ratio']:.2f}")
else:
    print(f"No evaluated run at {RUN}. Produce it with `python -m course_lib main`, then "
          f"`python -m course_lib evaluate --run runs/main`. The two cells below show the stand-ins of section 5.")
    run_rows, model = rows, mean_face

# %% [markdown]
# G is a mean over the 8 targets and can hide one target the model rarely reaches. The
# per-target table (`evaluate.per_target_table`) splits it: the share of the translations
# to each target that the judge reads as that target.

# %%
display(Markdown(evaluate.per_target_table(run_rows)))

# %% [markdown]
# The confusion matrix (`viz.confusion_matrix_plot`, the figure `evaluate` saves as
# `confusion_g.png`) says what the judge reads instead: row = target expression, column =
# the judge's label, each row in percent of its translations. A perfect translator fills the
# diagonal; a dark cell off it names the expression the translations of that row's target
# look like.

# %%
viz.confusion_matrix_plot(model["confusion_g"], title=f"G: {model['method']}");

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
# **Exercise 4.** `exercise_translations()` returns three uint8 arrays of 4 small images
# (16 x 16 x 3 each): `inputs`, `outputs` (a translation of each input) and their `truths`.
# Compute the PSNR gain over copy in dB (section 5): the mean over the images of
# PSNR(output, truth) minus the mean of PSNR(input, truth), each PSNR by Eq. 8 with the MSE
# over one image's pixels and channels. NumPy only (no `course_lib.metrics`).

# %%
inputs, outputs, truths = exercise_translations()
answer = None  # your code here
check("08.psnr_gain", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def psnr_per_image(a, b):
    mse = ((a.astype(np.float64) - b.astype(np.float64)) ** 2).mean(axis=(1, 2, 3))
    return 10 * np.log10(255 ** 2 / mse)


assert check("08.psnr_gain", float(psnr_per_image(outputs, truths).mean() - psnr_per_image(inputs, truths).mean()))

# %% [markdown]
# **Exercise 5.** With the same arrays and the Laplacian of section 5 (given below),
# compute the high-frequency ratio of the `outputs` against their `truths`. Then read
# `help(exercise_translations)`: why does the ratio land on the side of 1 it does?

# %%
def laplacian(z):
    """4-neighbour Laplacian of each channel of images (N, H, W, C), on the interior pixels, as floats."""
    z = z.astype(np.float64)
    return z[:, :-2, 1:-1] + z[:, 2:, 1:-1] + z[:, 1:-1, :-2] + z[:, 1:-1, 2:] - 4 * z[:, 1:-1, 1:-1]


answer = None  # your code here
check("08.hf_ratio", answer)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
# the outputs carry stripes (+6 grey levels on every other row) that the truths do not: above 1
assert check("08.hf_ratio", float(np.abs(laplacian(outputs)).mean() / np.abs(laplacian(truths)).mean()))

# %% [markdown]
# **Exercise 6 (code).** Write the Fréchet distance of two Gaussians from their statistics,
# `frechet(mu1, sigma1, mu2, sigma2)` (Eq. 10; means of shape (D,), covariances (D, D)),
# returning a real `float`. The checker compares it with `metrics.frechet_distance` on random
# Gaussians and on edge cases: the same Gaussian twice (0), one dimension, and a singular
# covariance, where `sqrtm` comes back with a small imaginary part.

# %%
def frechet(mu1, sigma1, mu2, sigma2):
    ...  # your code here


check("08.frechet_function", frechet)

# %% tags=["hide-cell"]
# @title Solution {display-mode: "form"}
def frechet(mu1, sigma1, mu2, sigma2):
    diff = mu1 - mu2
    covmean = linalg.sqrtm(sigma1 @ sigma2)      # a matrix square root, not np.sqrt of the entries
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean).real)


assert check("08.frechet_function", frechet)

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
# - G and the paired metrics use every *other* expression as target: on its own
#   expression the unchanged input is the exact answer. G per target and the confusion
#   matrix show which expressions a model misses and what the judge reads instead.
# - With ground truth, **PSNR / SSIM** (Eq. 8, 9) and the **AU error** score each
#   translation; **identity** is the dlib descriptor distance, with the faces dlib missed
#   counted.
# - Every table carries the **copy** (input unchanged) and the **oracle** (ground truth)
#   rows, on the same pairs with the same judge. Most of a face does not change with its
#   expression, so the copy already scores a high PSNR/SSIM; only a model's **gain over
#   copy** says whether it moved the face toward the truth, and it can be negative. The
#   copy's G is (1 − R)/7, the oracle's PSNR is infinite.
# - **Changes outside the expression** (the share of the pixels the truth leaves alone that
#   the model changes) and the **HF ratio** (mean |Laplacian| of the translations over the
#   truths': above 1 for stripes and checkerboards, below 1 for blur) name the kind of error
#   that PSNR and SSIM only count.
# - `python -m course_lib evaluate --run runs/NAME` writes the table as Markdown and CSV;
#   `python -m course_lib compare` puts runs side by side.
#
# To put the baselines of Lesson 5 into this very table, train
# them (`python -m course_lib train --model stargan --out runs/stargan`, likewise
# `--model ganimation`), evaluate each run with `python -m course_lib evaluate --run RUN`
# and compare them with `python -m course_lib compare runs/main runs/stargan runs/ganimation`.

# %% [markdown]
# ## Questions
#
# 1. FID compares two *Gaussians* fitted to features. What differences between two image
#    sets can it not see, and why do the papers still report it?
# 2. Why is an in-domain FID (features of an expression classifier) never comparable with
#    the papers' Inception FID, even on the same images?
# 3. The copy baseline scores a high PSNR and SSIM. Why, and what does a model's *gain over
#    copy* tell you that its PSNR alone does not?
# 4. G measures whether translations are read as their targets. How can a model score a high
#    G with faces a person would not accept (think of the high-frequency ratio)?
# 5. Why is every face asked only for the *other* seven expressions when G is computed?
# 6. Which metric of this lesson would reveal a model that changes the identity of the face,
#    and which would not notice?
