"""LGP-GAN (Xia et al. 2021): local (eye, mouth) and global generators and critics, Eq. 1-9.

Networks: :class:`course_lib.lgp_gan.LGPGenerator` (Table II) and the critics D_global,
D_eye, D_mouth (Table III).  The real local images are the eye and mouth crops of the
input (``I_input = {I_x, I_eye, I_mouth}``), the fake ones Stage I's outputs; every sum
over ``D_i`` is over the three.  The region boxes come from the input's landmarks and are
reused for the reconstruction passes (our choice: a generated face has no detected
landmarks; the aligned face keeps its regions).  An iteration updates the critics
(Eq. 8); every ``n_critic``-th also G (Eq. 9), after them.

**Overlapping regions** (issue 14, item 11).  Eq. 1's boxes are 48x96 (eyes) and 48x64
(mouth) at 128x128, centred on their landmarks; on the course's synthetic faces they overlap
by 3-9 rows at 64x64 (6-18 at 128x128; measured on 160 faces, ``tests/test_data_and_schedule.py``),
and the paper does not say what happens there.  Our choice, ``region_overlap="paste"`` (the default):
Stage II pastes the eye region first and the mouth region over it
(:class:`course_lib.lgp_gan.LGPGenerator`), so in the overlap the aggregated image - and
hence G_global's input - carries G_mouth's output (across the mouth box's feathered top
border, a ramp from G_eye's output to G_mouth's), while D_eye, as the paper defines it,
judges G_eye's whole Stage I output, overlap rows included.  The mouth wins because the
rows between eyes and mouth (nose tip, upper lip) move with the mouth's AUs (10, 12, 25,
26), not with the eyes'; the cost is that G_eye is trained on rows the final image does not
show.  This default keeps every result measured so far (:mod:`course_lib.config`).  The
alternative, ``region_overlap="separate"`` (``--set region_overlap=separate``), shifts the
boxes apart until they only touch, so no row has two generators and two local critics;
it changes the regions each local network sees, and its effect on the measured quality
has not been measured yet.
"""
from __future__ import annotations

from dataclasses import dataclass

from course_lib.methods import Method, non_negative, register
from course_lib.methods._wgan import loss_weights

CRITICS = ("global", "eye", "mouth")
REGION_OVERLAP = ("paste", "separate")


@dataclass
class Hyper:
    """LGP-GAN's loss weights (Section III.B, IV.B)."""

    lambda_cls: float = 1.0
    """lambda_1 of Eq. 9 (and of Eq. 8 unless ``lambda_cls_d`` is set): 1 (IV.B)."""
    lambda_cls_d: float | None = None
    """lambda_1 of the critics' Eq. 8 when it differs (None: ``lambda_cls``, as in the paper).
    Not in the paper: the ``cpu`` training preset sets 6 (our choice, :mod:`course_lib.config`)."""
    lambda_cycle: float = 10.0
    """lambda_2, cycle reconstruction (Eq. 5, 9): 10 (IV.B)."""
    lambda_self: float = 10.0
    """lambda_3, self reconstruction (Eq. 6, 9): 10 (IV.B)."""
    lambda_att: float = 0.1
    """lambda_4, attention (Eq. 7, 9): 0.1 (IV.B)."""
    lambda_gp: float = 10.0
    """lambda_gp, gradient penalty (Eq. 2, WGAN-GP [26]): 10 (IV.B)."""
    attention_variant: str = "l2"
    """"l2" (Eq. 7) or "ganimation" (mean + total variation, :func:`course_lib.losses.attention_loss`)."""
    tv_weight: float = 1e-4
    """TV weight of the "ganimation" attention variant (:data:`course_lib.losses.GANIMATION_TV_WEIGHT`)."""
    region_overlap: str = "paste"
    """Where the eye and mouth boxes overlap (the paper does not say; on the synthetic faces
    3-9 rows at 64x64, 6-18 at 128x128): "paste" - Stage II pastes the eye region, then the
    mouth region over it, so the final image shows G_mouth there while D_eye judges G_eye's
    Stage I output (the course's choice, module docstring); "separate" - the two boxes are
    shifted apart, keeping their sizes, until they only touch (:func:`course_lib.regions.separate_boxes`)."""

    def validate(self):
        from course_lib.losses import ATTENTION_VARIANTS

        if self.region_overlap not in REGION_OVERLAP:
            raise ValueError(f"hyper-parameter 'region_overlap' = {self.region_overlap!r}: expected one of "
                             f"{', '.join(REGION_OVERLAP)}")

        non_negative(self, "lambda_cls", "lambda_cls_d", "lambda_cycle", "lambda_self", "lambda_att",
                     "lambda_gp", "tv_weight")
        if self.attention_variant not in ATTENTION_VARIANTS:
            raise ValueError(f"hyper-parameter 'attention_variant' = {self.attention_variant!r}: "
                             f"expected one of {', '.join(ATTENTION_VARIANTS)}")


@register
class LGPGAN(Method):
    name = "lgp-gan"
    paper = "Xia et al., Local and Global Perception GAN for Facial Expression Synthesis, IEEE TCSVT 2021"
    equations = "Eq. 1-9, Tables II-III, Section IV.B"
    conditioning = "label"
    needs_landmarks = True
    batch_keys = ("image", "label", "landmarks")
    Hyper = Hyper

    #: Where a training preset of :mod:`course_lib.config` differs for this method (applied by
    #: :func:`course_lib.config.preset` before the caller's overrides); the reasons in ``presets_doc``.
    presets = {"cpu": dict(net_size="cpu-wide"), "colab-t4": dict(steps=20_000, decay_start=10_000)}
    presets_doc = {"colab-t4": (
        "The preset's paper networks, 128x128, batch 16 and Adam 1e-4, with 20,000 iterations (lr constant for "
        "10,000, then linear to 0) instead of its 40,000, so that the run fits a Colab session: one iteration "
        "costs 1,535 GFLOP, expected 7.0 h for 40,000 and 3.5 h for 20,000 on a T4 (estimates of python -m course_lib "
        "gpu-time, data/results/gpu_time.md, not T4 measurements)."),
        "cpu": (
        "Network size 'cpu-wide' (course_lib.presets) instead of the baselines' 'cpu': 16 base channels in the "
        "three generators instead of 8, and resize-convolution (nearest x2 + 3x3 conv) instead of Table II's "
        "transposed 4x4 convs, a documented departure against checkerboard artefacts (Odena et al. 2016). "
        "Measured (4000 iterations, seed 0, 1 thread, 160 synthetic test faces x 7 changed targets): PSNR gain "
        "over copy -2.21 dB vs -3.02 dB, SSIM gain -0.021 vs -0.045, high-frequency ratio 0.92 vs 1.11, G accuracy "
        "87.1 % (every target >= 77 %) vs 86.5 % (angry 62 %), 890 s vs 672 s of training (the table in "
        "course_lib.presets). The schedule and loss weights are the preset's own (course_lib.config).")}

    @staticmethod
    def networks(size, n_classes: int = 8, cond_dim=None, mask_convention: str = "lgp") -> dict:
        """``{"G": LGPGenerator (G(x, c, boxes) -> dict), "D": LGPDiscriminator}`` at size preset ``size``."""
        from course_lib import presets
        from course_lib.lgp_gan import LGPDiscriminator, LGPGenerator

        p = presets.get_preset(size)
        return {"G": LGPGenerator(n_classes, p.g_conv_dim, p.g_repeat_global, p.g_repeat_local,
                                  mask_convention=mask_convention, upsample=p.upsample),
                "D": LGPDiscriminator(p.image_size, p.region_sizes, n_classes, p.d_conv_dim,
                                      p.d_layers_global, p.d_layers_local)}

    def build(self, size) -> dict:
        from torch import nn

        built = self.networks(size)
        return {"G": built["G"], "D": nn.ModuleDict(dict(built["D"].nets))}

    # -- regions ----------------------------------------------------------------------
    def boxes(self, landmarks):
        import torch

        from course_lib import regions

        if landmarks is None:
            raise ValueError("LGP-GAN needs landmarks (B, 68, 2) for its eye and mouth regions; detect them "
                             "with course_lib.landmarks (or pass an aligned dataset's landmarks)")
        if torch.isnan(landmarks).any():
            raise ValueError("LGP-GAN needs facial landmarks for its eye and mouth regions, but some "
                             "images have none (NaN); detect them first (Lesson 3, "
                             "`python -m course_lib preprocess`) or train a method without landmarks "
                             "(python -m course_lib methods)")
        boxes = regions.region_boxes(landmarks, "lgp", self.size.image_size)
        if self.hyper.region_overlap == "separate":
            boxes["eye"], boxes["mouth"] = regions.separate_boxes(boxes["eye"], boxes["mouth"], self.size.image_size)
        return boxes

    def _fakes(self, o) -> dict:
        return {"global": o["out"], "eye": o["eye_out"], "mouth": o["mouth_out"]}

    # -- one iteration ----------------------------------------------------------------
    def prepare(self, batch: dict) -> dict:
        from course_lib import regions

        b = super().prepare(batch)
        boxes = self.boxes(b["landmarks"])
        x = b["image"]
        return {**b, "boxes": boxes,
                "reals": {"global": x, "eye": regions.crop(x, boxes["eye"]), "mouth": regions.crop(x, boxes["mouth"])}}

    def loss(self, which: str, b: dict):
        import torch

        from course_lib import losses

        G, critics = self.nets["G"], {n: self.nets["D"][n] for n in CRITICS}
        x, boxes = b["image"], b["boxes"]
        if which == "D":   # Eq. 8 = Eq. 2 + lambda_1 Eq. 3, summed over D_i
            with torch.no_grad():
                fakes = self._fakes(G(x, b["c_trg"], boxes))
            return losses.discriminator_loss(critics, b["reals"], fakes, b["label"], loss_weights(self.hyper, True))
        if which == "G":   # Eq. 9
            o = G(x, b["c_trg"], boxes)
            rec = G(o["out"], b["c_org"], boxes)["out"]
            self_rec = G(x, b["c_org"], boxes)["out"]
            h = self.hyper
            return losses.generator_loss(critics, self._fakes(o), b["c_trg"], x=x, cycle=rec, self_rec=self_rec,
                                         masks=[o["eye_mask"], o["mouth_mask"], o["mask"]],
                                         weights=loss_weights(h), attention=h.attention_variant,
                                         tv_weight=h.tv_weight)
        raise ValueError(f"lgp-gan: no network {which!r}; have {self.network_names}")

    def translate(self, images, target, extra=None) -> dict:
        o = self.nets["G"](images, target, self.boxes((extra or {}).get("landmarks")))
        visuals = {"eye mask": o["eye_mask"], "mouth mask": o["mouth_mask"], "global mask": o["mask"],
                   "eye colour": o["eye_color"], "mouth colour": o["mouth_color"], "global colour": o["color"],
                   "aggregated": o["aggregated"]}
        return {"out": o["out"], "masks": [o["eye_mask"], o["mouth_mask"], o["mask"]], "visuals": visuals, "raw": o}
