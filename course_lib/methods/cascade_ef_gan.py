"""Cascade EF-GAN (Wu et al., CVPR 2020, Section 3.2): three EF-GANs in cascade with the AU Interpolator.

The same code as ``ef-gan`` (:mod:`course_lib.methods.ef_gan`, where the losses, the stage loop
and the training scheme are described) with ``n_stages`` 3 by default (Section 3.2: "we
empirically use 3 EF-GANs"): stage k edits stage k-1's output towards the Interpolator's
intermediate AUs, all stages share one Interpolator, and the total loss is the sum of the
stages' losses with equal weights (Section 6).  Its own module because the registry keeps one
method per file.

Training (Section 3.3): from a trained EF-GAN (``--set init_from=RUN``, then the learning rate
is a tenth of the run's, decaying linearly to 0), or in one run (its presets: the first
``pretrain_fraction`` of the iterations train stage 1 alone, then it is copied into every stage).
"""
from __future__ import annotations

from course_lib.methods import register
from course_lib.methods.ef_gan import EFGAN, Hyper


@register
class CascadeEFGAN(EFGAN):
    name = "cascade-ef-gan"
    equations = ("Eq. 1-8, Sections 3.1-3.3, 4.1, 6-8 (three EF-GANs, AU Interpolator with its critic, "
                 "initialised from one trained EF-GAN and fine-tuned end to end); Table 3's Baseline + Cascade "
                 "with local_focuses=false")
    Hyper = Hyper
    default_stages = 3

    presets = {
        "cpu": dict(net_size="cpu", steps=720, decay_start=720, g_lr=2e-4, d_lr=8e-4,
                    hyper={"pretrain_fraction": 600 / 720}),
        "paper": dict(batch_size=2, g_lr=1e-4, d_lr=1e-4, steps=79_200, decay_start=79_200,
                      hyper={"pretrain_fraction": 72_000 / 79_200}),
        "colab-t4": dict(steps=13_200, decay_start=13_200, hyper={"pretrain_fraction": 12_000 / 13_200}),
    }
    presets_doc = {
        "colab-t4": (
            "Section 3.3's scheme in one run, as the paper preset, on the colab-t4 preset's paper networks, 128x128, "
            "batch 16 and Adam 1e-4: ef-gan's colab-t4 run for the first 12,000 iterations (stage 1 alone, "
            "pretrain_fraction 12,000 / 13,200), then 1,200 iterations (the paper's ratio 10:1) of end-to-end "
            "fine-tuning of the three stages at a tenth of the lr, decaying to 0; decay_start = steps because the "
            "method shapes the lr. Not the shared 40,000 iterations of all three stages from scratch "
            "(pretrain_fraction 0): that costs 5,893 GFLOP an iteration, expected 26.9 h on a T4, while this "
            "schedule is expected to take 3.5 h "
            "(estimates of python -m course_lib gpu-time, data/results/gpu_time.md, not T4 measurements)."),
        "cpu": (
            "One run of Section 3.3's scheme on 2 CPU cores: ef-gan's cpu preset for the first 600 iterations "
            "(pretrain_fraction 5/6: stage 1 alone, lr 2e-4 / 8e-4 constant for 300 then linear to 0), then stage 1 "
            "copied into the three stages and 120 iterations of end-to-end fine-tuning at a tenth of that lr "
            "decaying to 0 (Section 8: 1e-5 after 1e-4). decay_start = steps: the method shapes the lr itself. "
            "With --set init_from=RUN (an ef-gan run) set pretrain_fraction=0 and --steps to the fine-tuning alone."),
        "paper": (
            "Section 8 in one run: EF-GAN's paper preset (batch 2, Adam 1e-4, 100 epochs = 72,000 iterations on "
            "the synthetic set, constant for half then linear to 0), then 10 epochs (7,200 iterations) of "
            "end-to-end fine-tuning starting at 1e-5 and decaying linearly to 0; the trainer's lr stays "
            "constant (decay_start = steps) because the method shapes it (Hyper.pretrain_fraction)."),
    }
