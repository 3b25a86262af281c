"""EF-GAN (Wu et al., CVPR 2020, Section 3.1): one stage of Cascade EF-GAN, and what both methods share.

``ef-gan`` is one EF-GAN: an Expression Transformer with a global branch and three local focus
branches (eyes, nose, mouth), each output by Eq. 1, and a Refiner that fuses them
(:mod:`course_lib.ef_gan`).  ``cascade-ef-gan`` (:mod:`course_lib.methods.cascade_ef_gan`) chains
three of them with the AU Interpolator's intermediate targets.  Both are this class with different
hyper-parameters, and so are the four rows of the paper's ablation (Table 3, Section 4.4):

=========================  ===========================================================
Table 3 row                 method and hyper-parameters
=========================  ===========================================================
Baseline                    ``ef-gan`` with ``local_focuses=false`` (global branch with attention, as GANimation)
Baseline + Local Focuses    ``ef-gan`` (= EF-GAN)
Baseline + Cascade          ``cascade-ef-gan`` with ``local_focuses=false``
Cascade EF-GAN              ``cascade-ef-gan``
=========================  ===========================================================

**One iteration** (the trainer's): the critics' update (Eq. 3 + lambda_1 Eq. 4's real term, summed
over D_final and D_init, over the stages; D_interp's WGAN-GP of Eq. 7); every ``n_critic``-th
iteration also the generator's (Eq. 8 summed over the stages with equal weights, Section 6).
The paper gives no n_critic: 5, WGAN-GP's and GANimation's (our choice).

**Targets** (our choice, the paper is silent): the AU vector of another image of the batch
(GANimation's rule without its noise).  Stage k's target is the Interpolator's output at the
pseudo target k/K of the way (Section 3.2); the last stage's is the target itself.  The image
losses see the targets *detached*: the Interpolator learns from Eq. 7 alone.

**Stage k's loss** (Section 6, "the total loss is the sum of the loss of each EF-GAN"): its input
is stage k-1's output (the image for k = 1) with that stage's AUs; adversarial terms from every
critic on its outputs (D_final on the final image, D_face / D_eye / D_nose / D_mouth on the
initial ones), Eq. 4 on D_final's AU head against its target, Eq. 5 on the cycle
``stage_k(stage_k(I, y_k), y_{k-1})`` against its input, Eq. 6 on its four masks.  The critics
are shared by the stages (our choice).  Gradients flow through the whole cascade ("fine-tune all
network parameters end-to-end", 3.3).

**The Interpolator in a one-stage EF-GAN.**  Eq. 8 trains EF-GAN with L_interp, but one stage
needs no intermediate target.  Our reading: EF-GAN trains the Interpolator (and its critic) on the
``interp_stages - 1`` intermediate pseudo targets alongside, so that the cascade initialised from
it (3.3) starts with a trained one; it costs two small MLPs.  The AU reader (our OpenFace
stand-in, :mod:`course_lib.ef_gan`) is trained alike by a regression on the real AUs
(``lambda_reader``, not in the paper).

**Training scheme** (Sections 3.3, 8): train one EF-GAN; initialise every stage of the cascade
with it; fine-tune end to end with the learning rate starting at 1e-5 (a tenth of EF-GAN's
1e-4) and decaying linearly to 0.  Two ways, both inside the method (the trainer knows neither):

* two runs: ``train --model ef-gan``, then ``train --model cascade-ef-gan --set init_from=RUN``:
  at its first iteration the cascade copies the EF-GAN's generator into every stage (and its
  critics into the critics), and its learning rate is the run's times
  ``finetune_lr_ratio * (1 - step / steps)``; this is what ``reproduce efgan-table3`` does;
* one run (``init_from`` unset, ``pretrain_fraction`` > 0, the cascade's presets): the first
  ``pretrain_fraction`` of the iterations train stage 1 alone as an EF-GAN (its learning rate
  constant for the first half of them, then linear to 0), at that iteration stage 1 is copied
  into every stage, and the rest fine-tune the cascade as above.  Its presets keep the trainer's
  learning rate constant (``decay_start = steps``); a decay of the trainer multiplies.

In one run Adam's moments of stage 1 carry over into the fine-tuning; after ``init_from`` they
start at zero.
"""
from __future__ import annotations

from dataclasses import dataclass

from course_lib.methods import Method, non_negative, register


@dataclass
class Hyper:
    """Cascade EF-GAN's hyper-parameters (Sections 6-8), shared by ``ef-gan`` and ``cascade-ef-gan``."""

    local_focuses: bool = True
    """The eyes / nose / mouth branches and the Refiner (Section 3.1); false: Table 3's Baseline
    (the global branch alone, attention as GANimation)."""
    n_stages: int | None = None
    """EF-GANs in cascade (Section 3.2: "we empirically use 3"); None: the method's own (``ef-gan`` 1,
    ``cascade-ef-gan`` 3)."""
    interp_stages: int = 3
    """The cascade the Interpolator is trained for: pseudo targets at k / interp_stages (Section 3.2, 3 stages)."""
    lambda_cond: float = 3000.0
    """lambda_1 of Eq. 8, conditional expression loss Eq. 4 (Section 8: 3000), on the AU MSE."""
    lambda_cont: float = 10.0
    """lambda_2 of Eq. 8, content (cycle) loss Eq. 5 (Section 8: 10)."""
    lambda_attn: float = 0.1
    """lambda_3 of Eq. 8, attention loss Eq. 6 (Section 8: 0.1)."""
    lambda_interp: float = 1.0
    """lambda_4 of Eq. 8, interpolation loss Eq. 7 (Section 8: 1)."""
    lambda_int: float = 0.1
    """lambda_int of Eq. 7, the AU critic's term (Section 6: 0.1)."""
    lambda_gp: float = 10.0
    """lambda_gp of Eq. 3 (Section 6: 10), also for D_interp."""
    lambda_reader: float = 1.0
    """Weight of the AU reader's regression on the real AUs (our addition: the OpenFace stand-in that
    reads a test image's source AUs; it shares no weight with the rest, so it does not change them)."""
    sn_generator: bool = True
    """Spectral norm + orthogonal init in the generators' convs too (Section 8: "all convolutional
    layers except the output layer"); the critics always have them."""
    init_from: str | None = None
    """A run folder or checkpoint of a trained one-stage ``ef-gan`` (same ``local_focuses``): copied into
    every stage at the first iteration, then fine-tuned (Section 3.3)."""
    pretrain_fraction: float = 0.0
    """Without ``init_from``: the share of the run's iterations that trains stage 1 alone as an EF-GAN
    before it is copied into every stage (Section 3.3 in one run; paper preset 100 / 110 epochs)."""
    finetune_lr_ratio: float = 0.1
    """Learning rate of the cascade's fine-tuning over EF-GAN's (Section 8: 1e-5 / 1e-4), decaying linearly to 0."""

    def validate(self):
        non_negative(self, "lambda_cond", "lambda_cont", "lambda_attn", "lambda_interp", "lambda_int", "lambda_gp",
                     "lambda_reader", "finetune_lr_ratio")
        if self.n_stages is not None and self.n_stages < 1:
            raise ValueError(f"hyper-parameter 'n_stages' = {self.n_stages}: expected an integer >= 1 or null")
        if self.interp_stages < 2:
            raise ValueError(f"hyper-parameter 'interp_stages' = {self.interp_stages}: expected an integer >= 2")
        if self.n_stages not in (None, 1, self.interp_stages):
            raise ValueError(f"hyper-parameter 'n_stages' = {self.n_stages}: expected 1 or interp_stages "
                             f"({self.interp_stages})")
        if not 0 <= self.pretrain_fraction < 1:
            raise ValueError(f"hyper-parameter 'pretrain_fraction' = {self.pretrain_fraction}: expected a number in [0, 1)")
        if self.init_from is not None and self.pretrain_fraction > 0:
            raise ValueError("hyper-parameters 'init_from' and 'pretrain_fraction' exclude each other: the EF-GAN "
                             "of init_from is the pre-training")


def lr_scale(step: int, steps: int, n_stages: int, hyper) -> float:
    """The method's own learning-rate factor at iteration ``step`` of ``steps`` (module docstring)."""
    if n_stages == 1:
        return 1.0
    if hyper.init_from is not None:
        return hyper.finetune_lr_ratio * max(0.0, 1.0 - step / steps)
    if hyper.pretrain_fraction <= 0:
        return 1.0
    P = pretrain_steps(steps, hyper)
    if step < P:  # EF-GAN: constant for the first half, then linear to 0 (Section 8)
        return 1.0 if step < P / 2 else max(0.0, 1.0 - (step - P / 2) / (P / 2))
    return hyper.finetune_lr_ratio * max(0.0, 1.0 - (step - P) / max(1, steps - P))


def pretrain_steps(steps: int, hyper) -> int:
    """Iterations of the one-run scheme's EF-GAN phase: ``round(pretrain_fraction * steps)``."""
    return int(round(hyper.pretrain_fraction * steps))


@register
class EFGAN(Method):
    name = "ef-gan"
    paper = "Wu et al., Cascade EF-GAN: Progressive Facial Expression Editing with Local Focuses, CVPR 2020"
    equations = ("Eq. 1, 3-8, Sections 3.1, 4.1, 6-8 (one EF-GAN: Expression Transformer with local focuses, "
                 "Refiner); Table 3's Baseline with local_focuses=false")
    conditioning = "AUs"
    needs_landmarks = True   # the patches are centred on the training-set mean of the landmarks (4.1)
    batch_keys = ("image", "label", "landmarks", "aus")
    Hyper = Hyper
    default_stages = 1

    presets = {
        "cpu": dict(net_size="cpu", steps=600, decay_start=300, g_lr=2e-4, d_lr=8e-4, hyper={}),
        "paper": dict(batch_size=2, g_lr=1e-4, d_lr=1e-4, steps=72_000, decay_start=36_000, hyper={}),
        "colab-t4": dict(steps=12_000, decay_start=6_000),
    }
    presets_doc = {
        "colab-t4": (
            "The preset's paper networks, 128x128, batch 16 and Adam 1e-4 (Section 8's) with 12,000 iterations (lr "
            "constant for 6,000, then linear to 0: Section 8's shape) instead of its 40,000, so that the run fits a "
            "Colab session and the cascade's colab-t4 run can pre-train with the same schedule: one iteration costs "
            "1,992 GFLOP, expected 9.1 h for 40,000 and 2.7 h for 12,000 on a T4 "
            "(estimates of python -m course_lib gpu-time, data/results/gpu_time.md, not T4 measurements). 12,000 x 16 = "
            "192,000 images, more than Section 8's 72,000 x 2."),
        "cpu": (
            "Our choice, for 2 CPU cores: the thin 'cpu' networks at 64x64 (patches 20x46, 20x24, 20x30), batch 8, "
            "600 iterations with the learning rate constant for the first half then linear to 0 (Section 8's shape; "
            "600 so that reproduce efgan-table3, four models, fits about 15 minutes), "
            "n_critic 5, the paper's loss weights (Hyper). Adam 2e-4 for G and 8e-4 for D instead of Section 8's "
            "1e-4, the two-time-scale rule GANimation's cpu preset measured (with 1e-4 its critic's AU regression "
            "had not started after 1000 iterations)."),
        "paper": (
            "Section 8: Adam 1e-4, betas 0.5/0.999, batch 2, 100 epochs with the learning rate constant for 50 "
            "then linear to 0 (on the synthetic set's 1440 training images 720 iterations an epoch: 72,000 / "
            "36,000), the paper's loss weights; 128x128, the 'paper' network size (Fig. 9's layers are not in "
            "the text: StarGAN's trunk with 64 base channels); n_critic 5 (our choice, the paper gives none)."),
    }

    def __init__(self, hyper=None, size="cpu", build: bool = True):
        super().__init__(hyper, size, build)
        self._active = self.n_stages if self.hyper.pretrain_fraction <= 0 or self.hyper.init_from else 1
        self._lr_scale = 1.0
        self._bound = False

    @property
    def n_stages(self) -> int:
        return self.hyper.n_stages or self.default_stages

    # -- networks ---------------------------------------------------------------------
    @staticmethod
    def networks(size, n_classes: int = 8, cond_dim=None, mask_convention: str = "efgan", *, n_stages: int = 1,
                 local_focuses: bool = True, sn_generator: bool = True) -> dict:
        """``{"G": CascadeGenerator (stages, interpolator, AU reader), "D": {final, face, eyes, nose, mouth,
        interp}}`` at size preset ``size``, conditioned on ``cond_dim`` AUs (default: the course's 20)."""
        from course_lib import ef_gan, facs, presets

        p = presets.get_preset(size)
        n_aus = cond_dim or len(facs.AU_NUMBERS)
        G = ef_gan.CascadeGenerator(n_aus, p.image_size, p.g_conv_dim, p.g_repeat_global, p.g_repeat_local,
                                    n_stages=n_stages, local_focuses=local_focuses, upsample=p.upsample, sn=sn_generator)
        return {"G": G, "D": ef_gan.build_critics(p.image_size, p.d_conv_dim, n_aus, local_focuses)}

    def build(self, size) -> dict:
        h = self.hyper
        return self.networks(size, n_stages=self.n_stages, local_focuses=h.local_focuses, sn_generator=h.sn_generator)

    def optimizers(self, config) -> dict:
        """Adam (betas from the config; Section 8: 0.5 / 0.999) per network, whose steps take the
        method's own factor (:func:`lr_scale`: the cascade's fine-tuning) on top of the trainer's lr."""
        from course_lib.ef_gan import ScaledAdam

        return {n: ScaledAdam(self.nets[n].parameters(), getattr(config, self.lr_fields[n]),
                              (config.beta1, config.beta2), lambda: self._lr_scale) for n in self.network_names}

    # -- the schedule -----------------------------------------------------------------
    def updates(self, step: int, config) -> tuple[str, ...]:
        """Section 3.3's scheme keyed on ``step`` (module docstring): initialise the stages (from
        ``init_from`` at the first iteration, or from stage 1 after the pre-training), set the
        active stages and the learning-rate factor; then the critics every iteration, G every
        ``n_critic``-th after them."""
        G, h, K = self.nets["G"], self.hyper, self.n_stages
        if K > 1 and not int(G.assembled):
            if h.init_from is not None:
                self.load_init(h.init_from)
            elif h.pretrain_fraction > 0 and step >= pretrain_steps(config.steps, h):
                G.copy_stage_one()
        self._active = K if (K == 1 or int(G.assembled) or h.pretrain_fraction <= 0) else 1
        self._lr_scale = lr_scale(step, config.steps, K, h)
        return ("D", "G") if (step + 1) % config.n_critic == 0 else ("D",)

    def load_init(self, path) -> None:
        """Section 3.3: every stage (and the interpolator, the AU reader, the centres and the critics)
        from the trained one-stage EF-GAN of run folder / checkpoint ``path``."""
        from pathlib import Path

        from course_lib import checkpoint

        p = Path(path)
        ck = p / "checkpoints" / "last.pt" if p.is_dir() else p
        if not ck.is_file():
            raise FileNotFoundError(f"hyper-parameter init_from = {path!r}: no checkpoint there (expected a run folder "
                                    "of `train --model ef-gan` or its checkpoints/last.pt)")
        state = checkpoint.read_run_state(ck)
        hyper = (state.get("config") or {}).get("hyper", {})
        if state.get("config", {}).get("model") != "ef-gan" or bool(hyper.get("local_focuses", True)) != self.hyper.local_focuses:
            raise ValueError(f"init_from = {path!r}: expected a one-stage ef-gan run with local_focuses="
                             f"{str(self.hyper.local_focuses).lower()}, got model {state.get('config', {}).get('model')!r} "
                             f"with local_focuses={hyper.get('local_focuses')}")
        self.nets["G"].load_ef_gan(state["nets"]["G"])
        self.nets["D"].load_state_dict(state["nets"]["D"])

    # -- conditions and targets ---------------------------------------------------------
    def condition(self, batch):
        return batch["aus"]

    def label_condition(self, labels):
        from course_lib.datasets import prototype_aus

        return prototype_aus(labels)

    def bind_data(self, tensors: dict) -> None:
        """Section 4.1: centre the patches on the mean landmarks of the whole training set (called by
        the trainer with the training tensors before the first iteration)."""
        import warnings

        G = self.nets["G"]
        G.centre_sum.zero_()
        G.centre_count.zero_()
        G.observe_landmarks(tensors["landmarks"].to(G.centre_sum.device))
        self._bound = True
        known = tensors.get("aus_known")
        if known is not None and not bool(known.all()):   # say which AUs condition the model (Section 3.1)
            warnings.warn(f"{self.name}: {int((~known).sum())} of {len(known)} training images have no AU "
                          "intensities; their condition is their expression's prototype "
                          "(course_lib.datasets.prototype_aus), not measured AUs", stacklevel=2)

    def prepare(self, batch: dict) -> dict:
        """The targets (the AUs of another image of the batch).  Without :meth:`bind_data` (a trainer
        that does not offer the training set), the batch's landmarks join a running mean that centres
        the patches (Section 4.1), while G is in training mode."""
        import torch

        self.check_batch(batch)
        G = self.nets["G"]
        if G.training and not self._bound:
            G.observe_landmarks(batch["landmarks"])
        c_org = self.condition(batch).float()
        B = c_org.shape[0]
        pick = (torch.arange(B) + torch.randint(1, B, (B,))) % B
        return {**batch, "c_org": c_org, "c_trg": c_org[pick.to(c_org.device)], "boxes": G.boxes()}

    # -- losses -----------------------------------------------------------------------
    @staticmethod
    def reals(x, boxes, critics) -> dict:
        """The real images of each image critic: the face for D_final / D_face, its patches for D_eye..."""
        from course_lib import ef_gan

        out = {"final": x}
        if "face" in critics:
            out["face"] = x
            out.update({k: ef_gan.crop(x, boxes[k]) for k in ef_gan.LOCAL})
        return out

    @staticmethod
    def fakes(stage_out: dict, critics) -> dict:
        """The generated images each critic judges: the final output (D_final) and the initial ones (D_init)."""
        out = {"final": stage_out["out"]}
        if "face" in critics:
            out.update(stage_out["init"])
        return out

    def _targets(self, b):
        G = self.nets["G"]
        targets, pseudo = G.stage_targets(b["c_org"], b["c_trg"], self.hyper.interp_stages)
        return targets, pseudo

    def loss(self, which: str, b: dict):
        import torch

        from course_lib import ef_gan as E

        G, D, h, K = self.nets["G"], self.nets["D"], self.hyper, self._active
        x, c_org, c_trg, boxes = b["image"], b["c_org"], b["c_trg"], b["boxes"]
        image_critics = {k: D[k] for k in D if k != "interp"}
        reals = self.reals(x, boxes, image_critics)
        interp_targets, pseudo = self._targets(b)
        stage_targets = [t.detach() for t in interp_targets] if K > 1 else [c_trg]
        if which == "D":
            with torch.no_grad():
                r = G(x, c_trg, n_stages=K, targets=stage_targets, boxes=boxes)
            total, adv, gp = 0, 0, 0
            for o in r["stages"]:
                t, p = E.adversarial_critic_loss(image_critics, reals, self.fakes(o, image_critics), h.lambda_gp)
                total, adv, gp = total + t, adv + p["adv"], gp + p["gp"]
            cond = E.conditional_loss(D["final"](x)[1], c_org)
            interp_d, interp_gp = 0, 0
            for y_hat in interp_targets[:-1]:
                t, p = E.interpolation_critic_loss(D["interp"], c_org, y_hat, h.lambda_gp)
                interp_d, interp_gp = interp_d + t, interp_gp + p["gp"]
            total = total + K * h.lambda_cond * cond + interp_d
            return total, {"adv": adv, "gp": gp, "cond": cond.detach(), "interp": interp_d.detach(),
                           "interp_gp": interp_gp.detach()}
        if which == "G":
            r = G(x, c_trg, n_stages=K, targets=stage_targets, boxes=boxes)
            sources = [c_org] + stage_targets[:-1]
            adv, cond, cont, attn = 0, 0, 0, 0
            for k, o in enumerate(r["stages"]):
                adv = adv + E.adversarial_generator_loss(image_critics, self.fakes(o, image_critics))
                cond = cond + E.conditional_loss(D["final"](o["out"])[1], stage_targets[k])
                rec = G.stages[k](o["out"], sources[k], boxes)["out"]
                cont = cont + E.content_loss(rec, r["inputs"][k])
                attn = attn + E.attention_loss(o["masks"])
            interp = sum(E.interpolation_loss(y, p, D["interp"](y), h.lambda_int)
                         for y, p in zip(interp_targets[:-1], pseudo[:-1]))
            reader = E.conditional_loss(G.reader(x), c_org)
            parts = {"adv": adv, "cond": cond, "cont": cont, "attn": attn, "interp": interp}
            total = E.total_loss(parts, h.lambda_cond, h.lambda_cont, h.lambda_attn, h.lambda_interp) \
                + h.lambda_reader * reader
            return total, {**{k: v.detach() for k, v in parts.items()}, "reader": reader.detach()}
        raise ValueError(f"{self.name}: no update {which!r}; have D, G")

    def interpolate_condition(self, c_src, c_trg, t: float):
        """The AUs a fraction ``t`` of the way from ``c_src`` to ``c_trg`` by the AU Interpolator
        (Section 3.2: ``Interp(y_x, r)`` with the linear residual ``r = t (c_trg - c_src)``); the ends exact."""
        import torch

        if t <= 0 or t >= 1:
            return c_src if t <= 0 else c_trg
        with torch.no_grad():
            return self.nets["G"].interp(c_src.float(), t * (c_trg.float() - c_src.float()))

    # -- translation --------------------------------------------------------------------
    def translate(self, images, target, extra=None) -> dict:
        """The cascade's (or EF-GAN's) output; ``extra["aus"]``: the inputs' AUs if known (else the AU
        reader's), ``extra["n_stages"]``: run only the first stages.  ``visuals``: every stage's
        output, the last stage's masks, colour maps, initial outputs and stitched patches."""
        from course_lib import ef_gan as E
        from course_lib import regions

        G = self.nets["G"]
        extra = extra or {}
        K = extra.get("n_stages") or (self.n_stages if (self.n_stages == 1 or int(G.assembled)
                                                        or self.hyper.pretrain_fraction <= 0) else 1)
        boxes = None
        if G.stages[0].local_focuses and float(G.centre_count) == 0:
            lm = extra.get("landmarks")
            if lm is None:
                raise ValueError(f"{self.name}: an untrained model has no patch centres yet; pass landmarks")
            centres = regions.region_centres(lm.double(), "efgan")
            boxes = E.boxes_from_centres({k: v.mean(0).cpu().numpy() for k, v in centres.items()}, G.image_size)
        r = G(images, target, y_src=extra.get("aus"), n_stages=K, boxes=boxes)
        last = r["stages"][-1]
        visuals = {f"stage {k + 1}": o["out"] for k, o in enumerate(r["stages"])}
        for k, m in last["masks"].items():
            visuals[f"{k} mask"] = m
            visuals[f"{k} colour"] = last["colours"][k]
            visuals[f"{k} initial"] = last["init"][k]
        if last["stitched"] is not None:
            visuals["stitched"] = last["stitched"]
        return {"out": r["out"], "masks": list(last["masks"].values()), "visuals": visuals, "raw": r}
