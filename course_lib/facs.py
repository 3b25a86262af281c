"""FACS Action Units and the expression -> AU prototypes used throughout the course.

Implements LGP-GAN (Xia et al., TCSVT 2021) Section III.A.1 and **Table I** ("List of
AUs involved in six basic facial expressions"), extended with the two RaFD classes the
paper trains on but Table I does not list:

* ``contemptuous`` = AU12 + AU14, *unilateral* (one side of the face only).  Table I is
  silent on contempt; this is the usual FACS/EMFACS prototype (R12A+R14A).
* ``neutral`` = no AU.

The canonical label order is RaFD's alphabetical order of its 8 classes (the paper's
Section IV.A); every one-hot label, classifier output and grid in the course uses it.

Muscle names follow Ekman, Friesen & Hager, *FACS* (2002), the paper's refs. [7], [8].
The face-region column is our choice (the paper only argues "eye and mouth"): each AU is
placed where its visible movement happens, and :data:`LGP_CROP_OF_REGION` says which
LGP-GAN local crop (48x96 eyes, 48x64 mouth) contains that region.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

__all__ = [
    "ActionUnit", "AU_TABLE", "AU_NUMBERS", "REGIONS", "EXPRESSIONS", "BASIC_EXPRESSIONS",
    "EXPRESSION_AUS", "UNILATERAL_EXPRESSIONS", "LGP_CROP_OF_REGION", "NUM_CLASSES",
    "parse_au", "expression_index", "expression_name", "one_hot", "one_hot_to_name",
    "au_vector", "au_region", "region_counts", "crop_counts", "closest_expressions",
    "format_expression_table", "format_au_table",
]


@dataclass(frozen=True)
class ActionUnit:
    """One row of the AU table: FACS number, name, muscle(s) and the face region it moves."""

    number: int
    name: str
    muscles: str
    region: str

    @property
    def code(self) -> str:
        return f"AU{self.number}"


REGIONS: tuple[str, ...] = ("brows", "eyes", "nose", "cheeks", "mouth", "jaw")

_ROWS = [
    (1, "Inner Brow Raiser", "Frontalis, pars medialis", "brows"),
    (2, "Outer Brow Raiser", "Frontalis, pars lateralis", "brows"),
    (4, "Brow Lowerer", "Corrugator supercilii, depressor supercilii, procerus", "brows"),
    (5, "Upper Lid Raiser", "Levator palpebrae superioris", "eyes"),
    (6, "Cheek Raiser", "Orbicularis oculi, pars orbitalis", "cheeks"),
    (7, "Lid Tightener", "Orbicularis oculi, pars palpebralis", "eyes"),
    (9, "Nose Wrinkler", "Levator labii superioris alaeque nasi", "nose"),
    (10, "Upper Lip Raiser", "Levator labii superioris", "mouth"),
    (12, "Lip Corner Puller", "Zygomaticus major", "mouth"),
    (14, "Dimpler", "Buccinator", "mouth"),
    (15, "Lip Corner Depressor", "Depressor anguli oris (triangularis)", "mouth"),
    (16, "Lower Lip Depressor", "Depressor labii inferioris", "mouth"),
    (17, "Chin Raiser", "Mentalis", "jaw"),
    (20, "Lip Stretcher", "Risorius, with platysma", "mouth"),
    (23, "Lip Tightener", "Orbicularis oris", "mouth"),
    (24, "Lip Pressor", "Orbicularis oris", "mouth"),
    (25, "Lips Part", "Depressor labii inferioris; relaxation of mentalis or orbicularis oris", "mouth"),
    (26, "Jaw Drop", "Masseter relaxed; temporalis and internal pterygoid relaxed", "jaw"),
    (27, "Mouth Stretch", "Pterygoids, digastric", "jaw"),
    (43, "Eyes Closed", "Relaxation of levator palpebrae superioris", "eyes"),
]
AU_TABLE: dict[int, ActionUnit] = {n: ActionUnit(n, name, m, r) for n, name, m, r in _ROWS}
AU_NUMBERS: tuple[int, ...] = tuple(sorted(AU_TABLE))

#: Canonical label order: RaFD's 8 classes, alphabetical.
EXPRESSIONS: tuple[str, ...] = (
    "angry", "contemptuous", "disgusted", "fearful", "happy", "neutral", "sad", "surprised",
)
NUM_CLASSES = len(EXPRESSIONS)
#: The six basic expressions of LGP-GAN Table I, in the table's row order.
BASIC_EXPRESSIONS: tuple[str, ...] = ("happy", "sad", "surprised", "disgusted", "angry", "fearful")

#: Expression -> AU numbers.  The six basic rows are LGP-GAN Table I verbatim.
EXPRESSION_AUS: dict[str, tuple[int, ...]] = {
    "angry": (4, 5, 7, 23),                  # Table I: Anger
    "contemptuous": (12, 14),                # not in Table I: unilateral R12A+R14A
    "disgusted": (9, 15, 16),                # Table I: Disgust
    "fearful": (1, 2, 4, 5, 7, 20, 26),      # Table I: Fear
    "happy": (6, 12),                        # Table I: Happy
    "neutral": (),                           # not in Table I: no AU
    "sad": (1, 4, 15),                       # Table I: Sad
    "surprised": (1, 2, 5, 26),              # Table I: Surprise
}
#: Expressions whose AUs act on one side of the face only.
UNILATERAL_EXPRESSIONS: frozenset[str] = frozenset({"contemptuous"})

#: Which LGP-GAN local crop (Section IV.B: eyes 48x96, mouth 48x64) contains each region.
#: The eye crop spans brows, eyes and upper cheeks; the mouth crop the lips and the jaw
#: opening; the nose lies between the two crops (our reading of the paper's Fig. 3).
LGP_CROP_OF_REGION: dict[str, str | None] = {
    "brows": "eye", "eyes": "eye", "cheeks": "eye", "nose": None, "mouth": "mouth", "jaw": "mouth",
}

_ALIASES = {
    "anger": "angry", "contempt": "contemptuous", "disgust": "disgusted", "fear": "fearful",
    "happiness": "happy", "sadness": "sad", "surprise": "surprised", "neutrality": "neutral",
}


def _valid_expressions() -> str:
    return ", ".join(EXPRESSIONS)


def _canonical(name: str) -> str:
    if not isinstance(name, str):
        raise ValueError(f"expression must be a name (one of: {_valid_expressions()}), got {name!r}")
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in EXPRESSION_AUS:
        raise ValueError(f"unknown expression {name!r}; valid expressions: {_valid_expressions()}")
    return key


def parse_au(au: int | str) -> int:
    """Return the AU number for ``12``, ``"12"``, ``"AU12"`` or ``"Lip Corner Puller"``.

    Raises ``ValueError`` listing the valid AUs when the AU is not in :data:`AU_TABLE`.
    """
    number = None
    if isinstance(au, (int, np.integer)) and not isinstance(au, bool):
        number = int(au)
    elif isinstance(au, str):
        text = au.strip()
        digits = text[2:] if text.upper().startswith("AU") else text
        if digits.isdigit():
            number = int(digits)
        else:
            by_name = {a.name.lower(): a.number for a in AU_TABLE.values()}
            number = by_name.get(text.lower())
    if number not in AU_TABLE:
        valid = ", ".join(f"AU{n} ({AU_TABLE[n].name})" for n in AU_NUMBERS)
        raise ValueError(f"unknown action unit {au!r}; valid AUs: {valid}")
    return number


def expression_index(name: str) -> int:
    """Index of an expression in the canonical RaFD order (``"happy"`` -> 4)."""
    return EXPRESSIONS.index(_canonical(name))


def expression_name(index: int) -> str:
    """Expression name of a label index (``4`` -> ``"happy"``)."""
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < NUM_CLASSES:
        raise ValueError(f"label index must be an integer in [0, {NUM_CLASSES - 1}] "
                         f"({_valid_expressions()}), got {index!r}")
    return EXPRESSIONS[int(index)]


def one_hot(labels: str | int | Sequence[str | int]) -> np.ndarray:
    """One-hot label vector(s) f (LGP Section III: f in {0,1}^n, n = 8).

    A single name or index gives shape ``(8,)``; a sequence gives ``(len, 8)``.
    """
    def idx(x):
        return expression_index(x) if isinstance(x, str) else EXPRESSIONS.index(expression_name(x))

    if isinstance(labels, (str, int, np.integer)):
        out = np.zeros(NUM_CLASSES, np.float32)
        out[idx(labels)] = 1.0
        return out
    out = np.zeros((len(labels), NUM_CLASSES), np.float32)
    out[np.arange(len(labels)), [idx(x) for x in labels]] = 1.0
    return out


def one_hot_to_name(vector: Sequence[float]) -> str:
    """Expression name of a one-hot (or score) vector: the arg-max class."""
    v = np.asarray(vector, dtype=np.float64)
    if v.shape != (NUM_CLASSES,):
        raise ValueError(f"expected a vector of {NUM_CLASSES} class scores, got shape {v.shape}")
    return EXPRESSIONS[int(v.argmax())]


def au_vector(expression: str, intensity: float | Mapping[int | str, float] = 1.0,
              aus: Sequence[int] = AU_NUMBERS) -> np.ndarray:
    """AU vector of an expression over ``aus`` (default: all of :data:`AU_NUMBERS`).

    ``intensity=1`` gives the binary vector; a float in [0, 1] scales every active AU
    (the continuous conditioning GANimation uses); a mapping ``{AU: intensity}`` sets
    active AUs individually (AUs not in the mapping get 1).
    """
    active = EXPRESSION_AUS[_canonical(expression)]
    aus = [parse_au(a) for a in aus]
    if isinstance(intensity, Mapping):
        per_au = {parse_au(k): float(v) for k, v in intensity.items()}
        values = [per_au.get(a, 1.0) for a in aus]
    else:
        values = [float(intensity)] * len(aus)
    if not all(0.0 <= v <= 1.0 for v in values):
        raise ValueError(f"AU intensities must lie in [0, 1], got {intensity!r}")
    return np.array([v if a in active else 0.0 for a, v in zip(aus, values)], np.float32)


def au_region(au: int | str) -> str:
    """Face region (one of :data:`REGIONS`) moved by an AU."""
    return AU_TABLE[parse_au(au)].region


def region_counts(expressions: Iterable[str] = BASIC_EXPRESSIONS) -> dict[str, int]:
    """How many AU occurrences fall in each face region, summed over ``expressions``.

    Over Table I's six expressions this is the paper's argument (Section III.A.1) that
    "most AUs appear in the eye and mouth region".
    """
    counts = Counter({r: 0 for r in REGIONS})
    for e in expressions:
        counts.update(au_region(a) for a in EXPRESSION_AUS[_canonical(e)])
    return {r: counts[r] for r in REGIONS}


def crop_counts(expressions: Iterable[str] = BASIC_EXPRESSIONS) -> dict[str, int]:
    """AU occurrences per LGP-GAN local crop ("eye", "mouth", or "outside")."""
    out = {"eye": 0, "mouth": 0, "outside": 0}
    for region, n in region_counts(expressions).items():
        out[LGP_CROP_OF_REGION[region] or "outside"] += n
    return out


def closest_expressions(aus: Iterable[int | str]) -> list[tuple[str, float]]:
    """Rank the 8 prototypes by Jaccard similarity |A & P| / |A | P| to the AU set ``aus``.

    Our choice of score (the papers define none): 1 means the ticked AUs are exactly a
    prototype; an empty set matches ``neutral`` with score 1.  Ties keep label order.
    """
    chosen = {parse_au(a) for a in aus}
    scores = []
    for name in EXPRESSIONS:
        proto = set(EXPRESSION_AUS[name])
        union = chosen | proto
        scores.append((name, 1.0 if not union else len(chosen & proto) / len(union)))
    return sorted(scores, key=lambda kv: -kv[1])


def format_expression_table() -> str:
    """The expression -> AU table as aligned text (what ``python -m course_lib facs`` prints)."""
    lines = [f"{'#':>2}  {'expression':<13} {'action units':<34} source", "-" * 64]
    for i, name in enumerate(EXPRESSIONS):
        aus = "+".join(f"AU{a}" for a in EXPRESSION_AUS[name]) or "(none)"
        if name in UNILATERAL_EXPRESSIONS:
            aus += " (unilateral)"
        src = "LGP-GAN Table I" if name in BASIC_EXPRESSIONS else "FACS prototype (not in Table I)"
        lines.append(f"{i:>2}  {name:<13} {aus:<34} {src}")
    return "\n".join(lines)


def format_au_table() -> str:
    """The AU table (number, name, region, muscles) as aligned text."""
    lines = [f"{'AU':<5} {'name':<21} {'region':<7} muscles", "-" * 72]
    lines += [f"{a.code:<5} {a.name:<21} {a.region:<7} {a.muscles}" for a in AU_TABLE.values()]
    return "\n".join(lines)
