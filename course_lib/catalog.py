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
           "planned", "its region crops (Lesson 3), mask convention (Lesson 4) and R/G/R+G "
           "accuracy protocol (Lesson 8) are in; the networks, refiner and cascade are not"),
    Method("ECGAN", "Tang et al., ICASSP 2019", "seed method", "none published",
           "planned", "expression-conditional CycleGAN with the face-mask loss"),
    Method("Landmark+label guided GAN", "Li et al., IEEE Access 2021", "seed method", "none published",
           "planned", "landmark heatmaps + expression label guidance"),
    Method("CycleGAN", "Zhu et al., ICCV 2017", "baseline (ECGAN's)",
           "official: junyanz/pytorch-CycleGAN-and-pix2pix", "planned", "with ECGAN"),
    Method("Pix2pix", "Isola et al., CVPR 2017", "baseline (ECGAN's)",
           "official: junyanz/pytorch-CycleGAN-and-pix2pix", "planned", "with ECGAN"),
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
