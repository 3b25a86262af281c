"""What the course implements today and what is planned: the one list the README and the book show.

:data:`METHODS` is the single source.  ``python -m course_lib docs`` writes its table
(:func:`methods_markdown`) between the ``<!-- methods:begin -->`` / ``<!-- methods:end -->``
markers of ``README.md`` and ``intro.md`` (the book's first page); ``docs --check`` (run by
the tests) fails when either file is out of step.  Change a method's status here, never in
the two files by hand.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

BEGIN, END = "<!-- methods:begin -->", "<!-- methods:end -->"


@dataclass(frozen=True)
class Method:
    name: str          #: as the course writes it
    paper: str         #: authors, venue, year
    role: str          #: "seed method" (one of the four papers the course is built on) or "baseline"
    code: str          #: public code by the authors, or "none published"
    status: str        #: "implemented" or "planned"
    where: str         #: what exists today (modules, lessons) or what is planned


METHODS: tuple[Method, ...] = (
    Method("LGP-GAN", "Xia et al., IEEE TCSVT 2021", "seed method (primary)", "none published",
           "implemented", "`course_lib/methods/lgp_gan.py` (`train --model lgp-gan`), networks in "
           "`course_lib/lgp_gan.py`; trained by the main job; Lessons 1-8"),
    Method("StarGAN", "Choi et al., CVPR 2018", "baseline", "official: yunjey/stargan",
           "implemented", "`course_lib/methods/stargan.py` (`train --model stargan`); "
           "`course_lib/stargan.py` (the official generator/discriminator layout; "
           "`generate` loads generators trained by the official solver with 8 labels); the solver's "
           "losses and options, the `cpu` preset's departures in `StarGAN.presets_doc`; Lesson 5"),
    Method("GANimation", "Pumarola et al., ECCV 2018", "baseline", "official: albertpumarola/GANimation",
           "implemented", "`course_lib/methods/ganimation.py` (`train --model ganimation`); "
           "`course_lib/ganimation.py` (AU-conditioned attention generator); trained as its official "
           "code trains it (loss weights, cycle-mask penalty, noisy AU targets, separate gradient-penalty "
           "step), the `cpu` preset's one departure in `GANimation.presets_doc`; Lesson 5"),
    Method("Cascade EF-GAN", "Wu et al., CVPR 2020", "seed method", "none published",
           "implemented", "`course_lib/methods/ef_gan.py` (`train --model ef-gan`) and "
           "`course_lib/methods/cascade_ef_gan.py` (`train --model cascade-ef-gan`); networks and losses in "
           "`course_lib/ef_gan.py` (local focuses, refiner, AU interpolator, three-stage cascade, Eq. 1-8); "
           "ablation `reproduce efgan-table3`; Lesson 9"),
    Method("ECGAN", "Tang et al., 2019 (arXiv 1905.05416)", "seed method", "none published",
           "implemented", "`course_lib/methods/ecgan.py` (`train --model ecgan`); networks, face mask and "
           "Eq. 1-6 in `course_lib/ecgan.py`; the Eq. 3 feature network `course_lib/features.py` (VGG19 "
           "with ImageNet weights, or the labelled in-domain stand-in); Table 2: `reproduce ecgan-table2`; Lesson 10"),
    Method("Landmark+label guided GAN", "Li et al., IEEE Access 2021", "seed method", "none published",
           "implemented", "`course_lib/methods/landmark_gan.py` (`train --model landmark-gan`); networks, inputs and "
           "losses in `course_lib/landmark_gan.py` (68 Gaussian heatmaps, label maps, E_ini, migration unit blocks, "
           "Table 2 decoder, two Table 3 critics, Eq. 4-7); paired training (same identity); "
           "`reproduce landmark-table4|5|6|7` (`course_lib/landmark_gan_runs.py`); Lesson 11"),
    Method("CycleGAN", "Zhu et al., ICCV 2017", "baseline (ECGAN's)",
           "official: junyanz/pytorch-CycleGAN-and-pix2pix", "implemented",
           "`course_lib/methods/cyclegan.py` (`train --model cyclegan`): one ResNet generator / PatchGAN pair per "
           "neutral<->expression pair (seven), CycleGAN's defaults; Lesson 10"),
    Method("Pix2pix", "Isola et al., CVPR 2017", "baseline (ECGAN's)",
           "official: junyanz/pytorch-CycleGAN-and-pix2pix", "implemented",
           "`course_lib/methods/pix2pix.py` (`train --model pix2pix`): U-Net + conditional PatchGAN + L1 (100) on "
           "same-identity synthetic pairs, the target label as input planes; Lesson 10"),
)


def implemented() -> list[str]:
    return [m.name for m in METHODS if m.status == "implemented"]


def planned() -> list[str]:
    return [m.name for m in METHODS if m.status == "planned"]


def methods_markdown() -> str:
    """The table of :data:`METHODS` (implemented first), as README.md and intro.md show it."""
    rows = ["| method | paper | role | authors' code | status | what exists / what is planned |",
            "| --- | --- | --- | --- | --- | --- |"]
    for m in sorted(METHODS, key=lambda m: m.status != "implemented"):
        status = "**implemented**" if m.status == "implemented" else "planned"
        rows.append(f"| {m.name} | {m.paper} | {m.role} | {m.code} | {status} | {m.where} |")
    return "\n".join(rows)


_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)


def with_methods_block(text: str, source: str = "text") -> str:
    """``text`` with its methods block rewritten from :data:`METHODS`; ``ValueError`` naming
    ``source`` when the markers are missing."""
    if len(_BLOCK.findall(text)) != 1:
        raise ValueError(f"{source}: expected one '{BEGIN}' ... '{END}' block for the methods table")
    return _BLOCK.sub(lambda _: f"{BEGIN}\n{methods_markdown()}\n{END}", text)
