"""The training loop of LGP-GAN, StarGAN and GANimation (LGP-GAN Sections III.B and IV.B).

One :class:`Trainer` for the three models; what differs is in a small adapter per model
(:class:`_Adapter`): which discriminators there are, what the generator returns, and which
terms of Eq. 9 apply.

* An **iteration** (``step``) is one discriminator update (Eq. 8); every ``n_critic``-th
  iteration (5, paper IV.B) also updates the generator (Eq. 9), as in StarGAN's solver [42].
* Adam(lr 1e-4, betas 0.5/0.999) for G and D (paper IV.B; the ``cpu`` preset uses 2e-4 / 8e-4
  and lambda_1 = 6 in the critics' Eq. 8, see :mod:`course_lib.config`); lr constant until
  ``decay_start`` then linear to 0 at ``steps``.
* Target labels: a random permutation of the batch's real labels (StarGAN's solver:
  ``label_trg = label_org[torch.randperm(B)]``); GANimation: the permuted batch's AU vectors.
* LGP-GAN (Eq. 2-9): D_global, D_eye, D_mouth; the real local images are the eye and mouth
  crops of the input (``I_input = {I_x, I_eye, I_mouth}``), the fake ones Stage I's outputs;
  every sum over ``D_i`` is over the three.  The region boxes come from the input's landmarks
  and are reused for the reconstruction passes (our choice: a generated face has no
  detected landmarks; the aligned face keeps its regions).
* StarGAN: adversarial + classification + cycle (lambda 10), no self-reconstruction and no
  attention (it has no mask).  GANimation: adversarial + AU regression (L2, in place of the
  CCE) + cycle + attention (mean + total variation); no self-reconstruction.

Run folder (``runs/NAME/``): ``config.yaml``, ``checkpoints/last.pt`` (+ ``step_XXXXXX.pt``),
``log.csv``, ``samples/step_XXXXXX.png`` (rows = inputs; columns = input then the 8 targets),
``masks/step_XXXXXX.png`` (attention masks, white = keep the input pixel by Eq. 1; per input
one row per mask - LGP-GAN: eye, mouth, global - and one column per target),
``loss_curves.png``, ``summary.json`` (+ ``tensorboard/`` when TensorBoard is importable).
"""
from __future__ import annotations

import csv
import dataclasses
import json
import math
import signal
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from course_lib import checkpoint, facs
from course_lib.config import ConfigError, TrainConfig

N_CLASSES = len(facs.EXPRESSIONS)


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the message names the loss and the step."""


# ----------------------------------------------------------------------------- conditions
def au_targets(labels: torch.Tensor) -> torch.Tensor:
    """Expression labels (B,) -> AU vectors (B, len(facs.AU_NUMBERS)) in [0, 1]: GANimation's
    condition when a target is given as a label.  Our choice: the synthetic renderer's prototype
    of the class (:func:`course_lib.render.expression_aus`, averaged over the two face sides as
    the dataset's ``aus`` are), so label targets match what the model saw in training."""
    import numpy as np

    from course_lib import render

    table = torch.from_numpy(np.stack([render.expression_aus(e).mean(0) for e in facs.EXPRESSIONS])).float()
    return table.to(labels.device)[labels.long()]


# ----------------------------------------------------------------------------- model adapters
class _Adapter:
    """How one model is built, run and scored; subclasses fill in the differences."""

    name = ""
    discriminators = ("global",)
    needs_landmarks = False
    uses_self = True
    uses_attention = True
    cond = "label"

    def __init__(self, config: TrainConfig):
        from course_lib import presets

        self.config = config
        built = presets.build_models(self.name, config.model_preset,
                                     **({"cond_dim": len(facs.AU_NUMBERS)} if self.cond == "au" else {}))
        D = built["D"]
        self.G = built["G"]
        self.D = nn.ModuleDict(dict(D.nets) if hasattr(D, "nets") else {"global": D})

    # conditions -------------------------------------------------------------
    def condition(self, batch: dict) -> torch.Tensor:
        return batch["label"] if self.cond == "label" else batch["aus"]

    def label_condition(self, labels: torch.Tensor) -> torch.Tensor:
        return labels if self.cond == "label" else au_targets(labels)

    # forward ----------------------------------------------------------------
    def boxes(self, batch: dict):
        return None

    def generate(self, x, c, boxes) -> dict:
        """``{"out": image, "fakes": {D name: image}, "masks": [masks]}``."""
        o = self.G(x, c)
        masks = [o.mask] if getattr(o, "mask", None) is not None else []
        return {"out": o.out, "fakes": {"global": o.out}, "masks": masks, "raw": o}

    def reals(self, x, boxes) -> dict:
        return {"global": x}


class _LGP(_Adapter):
    name = "lgp-gan"
    discriminators = ("global", "eye", "mouth")
    needs_landmarks = True

    def boxes(self, batch):
        from course_lib import regions

        lm = batch["landmarks"]
        if torch.isnan(lm).any():
            raise ValueError("LGP-GAN needs facial landmarks for its eye and mouth regions, but some "
                             "training images have none (NaN); detect them first (Lesson 3, "
                             "`python -m course_lib preprocess`) or train --model stargan")
        return regions.region_boxes(lm, "lgp", self.config.image_size)

    def generate(self, x, c, boxes):
        o = self.G(x, c, boxes)
        get = o.__getitem__ if isinstance(o, dict) else lambda k: getattr(o, k)
        return {"out": get("out"), "fakes": {"global": get("out"), "eye": get("eye_out"), "mouth": get("mouth_out")},
                "masks": [get("eye_mask"), get("mouth_mask"), get("mask")], "raw": o}

    def reals(self, x, boxes):
        from course_lib import regions

        return {"global": x, "eye": regions.crop(x, boxes["eye"]), "mouth": regions.crop(x, boxes["mouth"])}


class _StarGAN(_Adapter):
    name = "stargan"
    uses_self = False
    uses_attention = False


class _GANimation(_Adapter):
    name = "ganimation"
    uses_self = False
    cond = "au"


ADAPTERS = {a.name: a for a in (_LGP, _StarGAN, _GANimation)}


# ----------------------------------------------------------------------------- data
class BatchStream:
    """Shuffled batches over an in-memory dataset, resumable exactly.

    Epoch ``e`` visits the items in ``randperm(N)`` drawn from a generator seeded with
    ``seed + e``; incomplete last batches are dropped.  The position (epoch, index) is part
    of the checkpoint.
    """

    def __init__(self, tensors: dict, batch_size: int, seed: int):
        self.tensors, self.batch_size, self.seed = tensors, batch_size, seed
        self.n = len(tensors["image"])
        if self.n < batch_size:
            raise ValueError(f"the training set has {self.n} images, fewer than batch_size={batch_size}")
        self.epoch, self.pos = 0, 0
        self._perm = None

    def _order(self):
        if self._perm is None:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            self._perm = torch.randperm(self.n, generator=g)
        return self._perm

    def next(self) -> dict:
        if self.pos + self.batch_size > self.n:
            self.epoch, self.pos, self._perm = self.epoch + 1, 0, None
        idx = self._order()[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        batch = {k: v[idx] for k, v in self.tensors.items()}
        batch["image"] = batch["image"].float().div(127.5).sub(1.0)
        return batch

    def state_dict(self):
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, s):
        self.epoch, self.pos, self._perm = int(s["epoch"]), int(s["pos"]), None


def dataset_tensors(dataset, image_size: int, limit: int = 0, desc: str = "loading images",
                    progress: bool = True) -> dict:
    """Decode a course dataset once into uint8 images (N,3,S,S), labels, landmarks (rescaled), AUs."""
    from tqdm.auto import tqdm

    n = len(dataset) if not limit else min(limit, len(dataset))
    images, labels, lms, aus = [], [], [], []
    for i in tqdm(range(n), desc=desc, leave=False, mininterval=1.0, disable=not progress):
        item = dataset[i]
        img, lm = resize_item(item["image"], item.get("landmarks"), image_size)
        images.append(img.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8))
        labels.append(int(item["label"]))
        lms.append(lm)
        a = item.get("aus")
        aus.append(torch.as_tensor(a, dtype=torch.float32) if a is not None else au_targets(torch.tensor([item["label"]]))[0])
    return {"image": torch.stack(images), "label": torch.tensor(labels, dtype=torch.long),
            "landmarks": torch.stack(lms), "aus": torch.stack(aus)}


def resize_item(image: torch.Tensor, landmarks, size: int):
    """Resize a (3,H,W) image to size x size (antialiased) and scale its (68,2) landmarks alike."""
    h, w = image.shape[-2:]
    lm = torch.full((68, 2), float("nan")) if landmarks is None else torch.as_tensor(landmarks, dtype=torch.float32).clone()
    if (h, w) != (size, size):
        image = F.interpolate(image[None].float(), size=(size, size), mode="bilinear", antialias=True,
                              align_corners=False)[0].clamp(-1, 1)
        lm = lm * torch.tensor([size / w, size / h])
    return image, lm


def open_dataset(config: TrainConfig, split: str = "train"):
    """The dataset named by ``config.data``: ``synthetic`` -> ``data/synthetic`` (built with
    ``config.synthetic_identities`` identities at 128x128 if missing), else a folder: a synthetic
    build (has ``metadata.json``), a RaFD folder (``Rafd090_...`` files) or folder-per-expression."""
    from course_lib import datasets
    from course_lib.lesson import repo_root

    if config.data == "synthetic":
        root = repo_root() / datasets.DEFAULT_SYNTHETIC
        if not (root / datasets.METADATA).is_file():  # an existing build is used as it is
            print(f"building the embedded synthetic dataset in {root} ...", flush=True)
            datasets.build_synthetic(root, identities=config.synthetic_identities, size=128, seed=0)
        return datasets.SyntheticFolder(root, split=split)
    root = Path(config.data)
    if not root.is_dir():
        raise ConfigError(f"config field 'data' = {config.data!r}: expected 'synthetic' or an existing folder")
    if (root / datasets.METADATA).is_file():
        return datasets.SyntheticFolder(root, split=split)
    if any(p.name.startswith("Rafd") for p in root.iterdir()):
        return datasets.RaFDFolder(root, split=split, size=config.image_size)
    return datasets.ExpressionFolder(root, size=config.image_size)


def _au_discriminator_loss(critics, reals, fakes, au_real, w):
    """GANimation's critic loss: WGAN-GP (Eq. 2) + lambda_cls * L2 regression of the real AUs."""
    from course_lib import losses

    adv = gp = cond = 0
    for name, D in critics.items():
        src_r, au_r = D(reals[name])
        src_f, _ = D(fakes[name].detach())
        adv = adv + losses.critic_adv_loss(src_r, src_f)
        gp = gp + losses.gradient_penalty(D, reals[name], fakes[name])
        cond = cond + F.mse_loss(au_r.flatten(1), au_real)
    return adv + w.lambda_gp * gp + w.lambda_cls * cond, {"adv": adv.detach(), "gp": gp.detach(), "cls": cond.detach()}


def _au_generator_loss(critics, fakes, au_trg, x, rec, masks, w, tv_weight):
    """GANimation's generator loss: adversarial + L2 AU regression of the fakes + cycle + attention."""
    from course_lib import losses

    adv = cond = 0
    for name, D in critics.items():
        src_f, au_f = D(fakes[name])
        adv = adv + losses.generator_adv_loss(src_f)
        cond = cond + F.mse_loss(au_f.flatten(1), au_trg)
    parts = {"adv": adv, "cls": cond, "cycle": losses.cycle_loss(rec, x)}
    total = adv + w.lambda_cls * cond + w.lambda_cycle * parts["cycle"]
    if masks:
        parts["att"] = losses.attention_loss(masks, "ganimation", tv_weight)
        total = total + w.lambda_att * parts["att"]
    return total, {k: v.detach() for k, v in parts.items()}


# ----------------------------------------------------------------------------- the trainer
class Trainer:
    """Train ``config.model`` into ``run_dir``; ``train()`` runs until ``config.steps``.

    ``data`` may be a course dataset or a dict of tensors (as :func:`dataset_tensors`);
    by default ``config.data`` is opened.  ``resume=True`` continues from
    ``run_dir/checkpoints/last.pt`` exactly (same losses as an uninterrupted run on CPU),
    with the run's own saved config (``config`` is then ignored and may be None);
    ``steps`` overrides the total number of iterations.
    """

    def __init__(self, config: TrainConfig | None, run_dir, data=None, *, resume: bool = False,
                 steps: int | None = None, device=None, progress: bool = True, log=print):
        self.run_dir = Path(run_dir)
        self.log, self.progress = log, progress
        ck_path = self.run_dir / "checkpoints" / "last.pt"
        state = None
        if resume:
            if not ck_path.is_file():
                raise FileNotFoundError(f"--resume: no checkpoint at {ck_path}")
            state = checkpoint.load(ck_path)
            config = TrainConfig.from_dict(state["config"], source=str(ck_path))  # the run's own config
        elif ck_path.exists():
            raise FileExistsError(f"{self.run_dir} already holds a run (checkpoints/last.pt); "
                                  "pass resume=True (--resume) to continue it or choose another folder")
        if config is None:
            raise ValueError("Trainer: pass a TrainConfig (or resume=True to use the run's own)")
        if steps is not None:  # a longer (or shorter) run; the decay starts no later than the end
            config = config.replace(steps=steps, decay_start=min(config.decay_start, steps))
        self.config = config.validate()
        from course_lib.losses import LossWeights

        self.weights = LossWeights(config.lambda_cls, config.lambda_cycle, config.lambda_self,
                                   config.lambda_att, config.lambda_gp)
        self.d_weights = self.weights if config.lambda_cls_d is None else dataclasses.replace(
            self.weights, lambda_cls=config.lambda_cls_d)   # Eq. 8's lambda_1 (our cpu choice, config.py)
        self.device = _device(config.device) if device is None else torch.device(device)
        if config.threads:
            torch.set_num_threads(config.threads)
        checkpoint.seed_everything(config.seed)

        self.model = ADAPTERS[config.model](config)
        self.model.G.to(self.device)
        self.model.D.to(self.device)
        betas = (config.beta1, config.beta2)
        self.g_opt = torch.optim.Adam(self.model.G.parameters(), config.g_lr, betas)
        self.d_opt = torch.optim.Adam(self.model.D.parameters(), config.d_lr, betas)

        tensors = data if isinstance(data, dict) else dataset_tensors(
            data if data is not None else open_dataset(config), config.image_size, config.max_train_images,
            progress=progress)
        self.stream = BatchStream(tensors, config.batch_size, config.seed)
        self.fixed = _fixed_batch(tensors, config.n_samples)
        self.step = 0
        self.last = {}           # latest value of every logged loss
        self.elapsed = 0.0       # training seconds over all sessions of this run
        if state is not None:
            self.load_state_dict(state)
        self._writer = None

    # -- state ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"format": "course_lib.trainer/1", "config": self.config.to_dict(), "step": self.step,
                "G": self.model.G.state_dict(), "D": self.model.D.state_dict(),
                "g_opt": self.g_opt.state_dict(), "d_opt": self.d_opt.state_dict(),
                "stream": self.stream.state_dict(), "rng": checkpoint.rng_state(),
                "last": dict(self.last), "elapsed": self.elapsed}

    def load_state_dict(self, s: dict) -> None:
        self.model.G.load_state_dict(s["G"])
        self.model.D.load_state_dict(s["D"])
        self.g_opt.load_state_dict(s["g_opt"])
        self.d_opt.load_state_dict(s["d_opt"])
        self.stream.load_state_dict(s["stream"])
        checkpoint.set_rng_state(s["rng"])
        self.step, self.last, self.elapsed = int(s["step"]), dict(s.get("last", {})), float(s.get("elapsed", 0.0))

    def save_checkpoint(self) -> Path:
        state = self.state_dict()
        path = checkpoint.save(state, self.run_dir / "checkpoints" / "last.pt")
        if self.config.keep_every and self.step % self.config.keep_every == 0:
            checkpoint.save(state, self.run_dir / "checkpoints" / f"step_{self.step:06d}.pt")
        return path

    # -- one iteration ----------------------------------------------------------------
    def _set_lr(self):
        f = self.config.lr_factor(self.step)
        for opt, lr in ((self.g_opt, self.config.g_lr), (self.d_opt, self.config.d_lr)):
            for group in opt.param_groups:
                group["lr"] = lr * f
        return f

    def _autocast(self):
        if self.config.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def iteration(self, batch: dict) -> dict:
        """One D update (Eq. 8) and, every n_critic-th iteration, one G update (Eq. 9)."""
        from course_lib import losses

        m, cfg = self.model, self.config
        batch = {k: v.to(self.device) for k, v in batch.items()}
        x = batch["image"]
        c_org = m.condition(batch)
        c_trg = c_org[torch.randperm(x.shape[0]).to(self.device)]  # StarGAN's target sampling
        labels = batch["label"]
        boxes = m.boxes(batch)
        reals = m.reals(x, boxes)

        critics = {name: m.D[name] for name in m.discriminators}
        weights = self.weights

        # Discriminators: Eq. 8 = Eq. 2 + lambda_1 Eq. 3, summed over D_i
        with self._autocast():
            with torch.no_grad():
                fakes = m.generate(x, c_trg, boxes)["fakes"]
            fakes = {k: fakes[k] for k in m.discriminators}
            if m.cond == "label":
                d_total, d_parts = losses.discriminator_loss(critics, reals, fakes, labels, self.d_weights)
            else:
                d_total, d_parts = _au_discriminator_loss(critics, reals, fakes, c_org, self.d_weights)
        parts = {f"D/{k}": v for k, v in d_parts.items()}
        parts["D/total"] = d_total
        self._guard(parts)
        self.d_opt.zero_grad(set_to_none=True)
        d_total.backward()
        self.d_opt.step()

        # Generator: Eq. 9 (StarGAN: no self term, no masks; GANimation: no self term)
        if (self.step + 1) % cfg.n_critic == 0:
            with self._autocast():
                fake = m.generate(x, c_trg, boxes)
                rec = m.generate(fake["out"], c_org, boxes)["out"]
                self_rec = m.generate(x, c_org, boxes)["out"] if m.uses_self else None
                masks = fake["masks"] if m.uses_attention else []
                fakes = {k: fake["fakes"][k] for k in m.discriminators}
                variant = "ganimation" if m.name == "ganimation" else cfg.attention_variant
                if m.cond == "label":
                    g_total, g_parts = losses.generator_loss(critics, fakes, c_trg, x=x, cycle=rec, self_rec=self_rec,
                                                             masks=masks, weights=weights, attention=variant,
                                                             tv_weight=cfg.tv_weight)
                else:
                    g_total, g_parts = _au_generator_loss(critics, fakes, c_trg, x, rec, masks, weights,
                                                          cfg.tv_weight)
            g_parts = {f"G/{k}": v for k, v in g_parts.items()}
            g_parts["G/total"] = g_total
            self._guard(g_parts)
            self.g_opt.zero_grad(set_to_none=True)
            g_total.backward()
            self.g_opt.step()
            parts.update(g_parts)
        out = {k: float(v.detach()) for k, v in parts.items()}
        self.last.update(out)
        return out

    def _guard(self, parts: dict) -> None:
        for name, value in parts.items():
            v = float(value.detach()) if torch.is_tensor(value) else float(value)
            if not math.isfinite(v):
                raise TrainingDiverged(
                    f"loss {name} is {v} at step {self.step + 1}: training stopped. The last good checkpoint "
                    f"is {self.run_dir / 'checkpoints' / 'last.pt'}; lower the learning rates or check the data.")

    # -- the loop ---------------------------------------------------------------------
    def train(self, until: int | None = None) -> dict:
        """Run iterations until ``until`` (default ``config.steps``); returns the summary.

        Ctrl-C finishes the current iteration, saves a checkpoint and returns (summary
        ``"interrupted": True``); a second Ctrl-C aborts at once.
        """
        from tqdm.auto import tqdm

        cfg = self.config
        until = cfg.steps if until is None else min(until, cfg.steps)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        cfg.save(self.run_dir / "config.yaml")
        self._open_tensorboard()
        start_step, t0, interrupted = self.step, time.perf_counter(), False
        self.model.G.train()
        self.model.D.train()
        bar = tqdm(total=until, initial=self.step, desc=f"train {cfg.model}", disable=not self.progress,
                   dynamic_ncols=True, mininterval=1.0)
        try:
            with _deferred_sigint() as stop:
                while self.step < until and not stop():
                    lr = self._set_lr()
                    parts = self.iteration(self.stream.next())
                    self.step += 1
                    bar.update(1)
                    if self.step % cfg.log_every == 0 or self.step == until:
                        self._log_row(lr, time.perf_counter() - t0)
                        bar.set_postfix({k.replace("/total", ""): f"{v:.3g}" for k, v in self.last.items()
                                         if k.endswith("total")})
                    if self.step % cfg.sample_every == 0 or self.step == until:
                        self.write_samples()
                    if self.step % cfg.checkpoint_every == 0 or self.step == until:
                        self.elapsed_update(t0)
                        t0 = time.perf_counter()
                        self.save_checkpoint()
                interrupted = self.step < until
        finally:
            bar.close()
        self.elapsed_update(t0)
        if interrupted:
            path = self.save_checkpoint()
            self.log(f"interrupted: checkpoint of step {self.step} saved to {path}; continue with --resume")
        if self._writer is not None:
            self._writer.close()
        plot_loss_curves(self.run_dir / "log.csv", self.run_dir / "loss_curves.png")
        summary = self.summary(start_step, interrupted)
        checkpoint.atomic_write_bytes(self.run_dir / "summary.json", json.dumps(summary, indent=2).encode())
        return summary

    def elapsed_update(self, t0):
        """Add the seconds since ``t0`` to the run's and this session's training time."""
        dt = time.perf_counter() - t0
        self.elapsed += dt
        self._session_elapsed = getattr(self, "_session_elapsed", 0.0) + dt

    def summary(self, start_step: int, interrupted: bool) -> dict:
        secs = getattr(self, "_session_elapsed", 0.0)
        done = self.step - start_step
        return {"model": self.config.model, "model_preset": self.config.model_preset, "step": self.step,
                "steps": self.config.steps, "interrupted": interrupted,
                "wall_time_s": round(self.elapsed, 1), "this_session_s": round(secs, 1),
                "images_per_s": round(done * self.config.batch_size / secs, 2) if secs > 0 and done else None,
                "device": str(self.device), "torch_threads": torch.get_num_threads(),
                "last_losses": {k: round(v, 5) for k, v in sorted(self.last.items())},
                "sample_grid": _rel(self._last_sample, self.run_dir), "masks": _rel(self._last_mask, self.run_dir),
                "loss_curves": "loss_curves.png", "checkpoint": "checkpoints/last.pt"}

    _last_sample = _last_mask = None

    # -- logs and pictures ------------------------------------------------------------
    def _log_row(self, lr, secs):
        path = self.run_dir / "log.csv"
        row = {"step": self.step, "lr_factor": round(lr, 6), **{k: round(v, 6) for k, v in sorted(self.last.items())}}
        new = not path.exists()
        if not new:
            with open(path, newline="") as f:
                header = next(csv.reader(f), [])
            if set(row) - set(header):  # G losses appear after the first G update: rewrite the header
                _rewrite_csv(path, list(row))
        else:
            header = list(row)
        with open(path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=header if not new else list(row), extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow(row)
        if self._writer is not None:
            for k, v in self.last.items():
                self._writer.add_scalar(k, v, self.step)

    def _open_tensorboard(self):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception:  # tensorboard not installed: CSV only
            return
        self._writer = SummaryWriter(self.run_dir / "tensorboard")

    def translator(self) -> "Translator":
        return Translator(self.model, self.config, self.device)

    def write_samples(self):
        """``samples/step_XXXXXX.png`` (inputs x 8 targets) and ``masks/step_XXXXXX.png``."""
        from course_lib.images import save_rgb, to_uint8

        tr = self.translator()
        x, lm = self.fixed["image"], self.fixed["landmarks"]
        grid, masks = translation_grid(tr, x, lm, with_masks=True)
        self._last_sample = save_rgb(to_uint8(grid), self.run_dir / "samples" / f"step_{self.step:06d}.png")
        if masks is not None:
            self._last_mask = save_rgb(to_uint8(masks), self.run_dir / "masks" / f"step_{self.step:06d}.png")
        self.model.G.train()


def _rel(p, root):
    return None if p is None else str(Path(p).relative_to(root))


def _rewrite_csv(path: Path, header: list[str]):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _fixed_batch(tensors: dict, n: int) -> dict:
    """``n`` evenly spaced training images (for the sample grids), as float images."""
    idx = torch.linspace(0, len(tensors["image"]) - 1, n).round().long()
    return {"image": tensors["image"][idx].float().div(127.5).sub(1.0), "landmarks": tensors["landmarks"][idx],
            "label": tensors["label"][idx]}


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("config field 'device' = 'cuda': no CUDA GPU is available here; use 'auto' or 'cpu'")
    return torch.device(name)


@contextmanager
def _deferred_sigint():
    """Within the block, the first Ctrl-C only sets a flag (``stop()`` returns True)."""
    import threading

    flag = {"stop": False}
    if threading.current_thread() is not threading.main_thread():
        yield lambda: flag["stop"]
        return

    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if flag["stop"]:  # second Ctrl-C: give up at once
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        flag["stop"] = True
        print("\nCtrl-C: finishing this iteration and saving a checkpoint (Ctrl-C again to abort)", flush=True)

    signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: flag["stop"]
    finally:
        signal.signal(signal.SIGINT, previous)


# ----------------------------------------------------------------------------- translators
class Translator:
    """``translator(images (B,3,H,W) in [-1,1], target_labels (B,), landmarks (B,68,2) | None)``
    -> translated images (B,3,H,W) in [-1,1].

    Attributes: ``image_size``, ``model_name``, ``config``.  ``masks(...)`` returns the
    attention masks of the same call (LGP-GAN: global, eye, mouth; GANimation: global).
    LGP-GAN needs landmarks (its eye and mouth boxes); without them it uses the boxes of
    the mean landmarks of an aligned face (:func:`course_lib.regions` default) when available.
    """

    def __init__(self, adapter, config: TrainConfig | None, device="cpu", model_name=None, image_size=None):
        self.adapter, self.config = adapter, config
        self.device = torch.device(device)
        self.model_name = model_name or adapter.name
        self.image_size = image_size or config.image_size
        # StarGAN's InstanceNorm keeps running statistics that training never uses; the official
        # solver.test() runs G in training mode (per-image statistics), and so do we.
        self._eval = adapter.name != "stargan"

    def _prepare(self, images, target_labels, landmarks):
        x = torch.as_tensor(images, dtype=torch.float32).to(self.device)
        if x.dim() != 4 or x.shape[1] != 3 or tuple(x.shape[-2:]) != (self.image_size, self.image_size):
            raise ValueError(f"images: expected (B, 3, {self.image_size}, {self.image_size}) in [-1, 1] for this "
                             f"{self.model_name} model, got {tuple(x.shape)}")
        t = torch.as_tensor(target_labels).long().to(self.device).reshape(-1)
        if t.numel() != x.shape[0]:
            raise ValueError(f"target_labels: expected {x.shape[0]} labels, got {t.numel()}")
        if t.numel() and (t.min() < 0 or t.max() >= N_CLASSES):
            raise ValueError(f"target_labels must lie in [0, {N_CLASSES - 1}] (facs.EXPRESSIONS), got {t.tolist()}")
        batch = {"landmarks": None if landmarks is None else torch.as_tensor(landmarks, dtype=torch.float32).to(self.device)}
        boxes = None
        if self.adapter.needs_landmarks:
            if batch["landmarks"] is None:
                raise ValueError("LGP-GAN needs landmarks (B, 68, 2) for its eye and mouth regions; "
                                 "detect them with course_lib.landmarks (or pass an aligned dataset's landmarks)")
            boxes = self.adapter.boxes(batch)
        return x, self.adapter.label_condition(t), boxes

    @torch.no_grad()
    def run(self, images, target_labels, landmarks=None) -> dict:
        """Full generator output: ``{"out", "masks", "raw"}``."""
        G = self.adapter.G
        G.train(not self._eval)
        x, c, boxes = self._prepare(images, target_labels, landmarks)
        if self._eval:
            return self.adapter.generate(x, c, boxes)
        buffers = {k: b.clone() for k, b in G.named_buffers()}  # training mode would update running stats
        try:
            return self.adapter.generate(x, c, boxes)
        finally:
            for k, b in G.named_buffers():
                b.copy_(buffers[k])

    def __call__(self, images, target_labels, landmarks=None):
        return self.run(images, target_labels, landmarks)["out"].clamp(-1, 1)

    def masks(self, images, target_labels, landmarks=None) -> list:
        return self.run(images, target_labels, landmarks)["masks"]


def translation_grid(translator, x, landmarks=None, with_masks=False):
    """Images (B,3,H,W) -> one grid image (3, B*H, 9*W): each row the input, then its 8
    translations in facs.EXPRESSIONS order; with ``with_masks`` also the masks grid
    (one row per input and mask kind, 8 columns; local masks padded to H x W) or None."""
    from torchvision.utils import make_grid

    B = x.shape[0]
    cols, mask_rows = [x.cpu()], []
    for t in range(N_CLASSES):
        lm = None if landmarks is None else landmarks
        r = translator.run(x, torch.full((B,), t, dtype=torch.long), lm)
        cols.append(r["out"].clamp(-1, 1).float().cpu())
        if with_masks and r["masks"]:
            mask_rows.append([_pad_to(m.float().cpu(), x.shape[-2:]) for m in r["masks"]])
    tiles = torch.stack(cols, 1).reshape(B * (N_CLASSES + 1), *x.shape[1:])
    grid = make_grid(tiles, nrow=N_CLASSES + 1, padding=2, pad_value=1.0)
    if not with_masks:
        return grid
    if not mask_rows:
        return grid, None
    k = len(mask_rows[0])
    # (target, kind, B, 1, H, W) -> rows (B, kind), columns target
    m = torch.stack([torch.stack(kinds) for kinds in mask_rows])  # (8, k, B, 1, H, W)
    m = m.permute(2, 1, 0, 3, 4, 5).reshape(B * k * N_CLASSES, 1, *x.shape[-2:])
    mgrid = make_grid(m.mul(2).sub(1).expand(-1, 3, -1, -1), nrow=N_CLASSES, padding=2, pad_value=-1.0)
    return grid, mgrid


def _pad_to(m, size):
    """Centre a (B,1,h,w) mask on a mid-grey (B,1,H,W) canvas."""
    H, W = size
    h, w = m.shape[-2:]
    if (h, w) == (H, W):
        return m
    top, left = (H - h) // 2, (W - w) // 2
    return F.pad(m, (left, W - w - left, top, H - h - top), value=0.5)


def load_translator(path, device="cpu") -> Translator:
    """A :class:`Translator` from a run folder, a checkpoint of ours, or an official StarGAN
    generator checkpoint (``*-G.ckpt``, a state_dict of yunjey/stargan's Generator, c_dim=8).

    Official StarGAN generators run as the official ``solver.test()`` runs them: in training
    mode (InstanceNorm normalises with each image's own statistics).
    """
    path = Path(path)
    if path.is_dir():
        ck = path / "checkpoints" / "last.pt"
        if not ck.is_file():
            raise FileNotFoundError(f"{path}: no checkpoints/last.pt in this run folder")
        path = ck
    state = checkpoint.load(path, map_location="cpu")
    if isinstance(state, dict) and state.get("format", "").startswith("course_lib.trainer"):
        config = TrainConfig.from_dict(state["config"], source=str(path))
        adapter = ADAPTERS[config.model](config)
        adapter.G.load_state_dict(state["G"])
        adapter.G.to(device).eval()
        adapter.D = None
        return Translator(adapter, config, device)
    return _official_stargan(state, path, device)


def _official_stargan(state, path, device):
    from course_lib import stargan

    try:
        cfg = stargan.infer_generator_config(state)
    except Exception as err:
        raise ValueError(f"{path}: neither a course_lib training checkpoint nor an official StarGAN "
                         f"generator state_dict ({err})") from err
    if cfg["c_dim"] != N_CLASSES:
        raise ValueError(f"{path}: this StarGAN generator has c_dim={cfg['c_dim']}; the course needs the "
                         f"{N_CLASSES} RaFD expressions (c_dim={N_CLASSES}: a generator trained with the official solver on "
                         f"RaFD; the published CelebA generators have c_dim=5 attributes, not expressions)")
    G = stargan.load_official(stargan.Generator(**cfg), state).to(device)
    adapter = _StarGAN.__new__(_StarGAN)
    adapter.config, adapter.G, adapter.D = None, G, None
    image_size = 128  # the official solver's RaFD setting; fully convolutional, any multiple of 4 works
    return Translator(adapter, None, device, model_name="stargan (official)", image_size=image_size)


# ----------------------------------------------------------------------------- plots
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
    for a, prefix in zip(axes, ("D/", "G/")):
        for k, v in log.items():
            if k.startswith(prefix) and "_" not in k:  # the sums over discriminators, not per-D parts
                a.plot(steps, v, label=k, lw=1.6 if k.endswith("total") else 1.0)
        a.set_xlabel("iteration")
        a.set_title("discriminator, Eq. 8" if prefix == "D/" else "generator, Eq. 9")
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
    ax.set_title("constant, then linear decay to 0 (LGP-GAN IV.B)")
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
