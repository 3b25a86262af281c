"""Figures and widgets of Lesson 1 (FACS) and Lesson 8 (metrics): one call each.

``expression_au_heatmap`` draws LGP-GAN Table I (plus contempt and neutral) as an
AU x expression matrix; ``region_count_bars`` the per-region AU count behind the paper's
eye and mouth local networks; ``au_explorer`` is the tick-the-AUs widget;
``confusion_matrix_plot`` the expression judge's confusion matrix on translations.
"""
from __future__ import annotations

import numpy as np

from course_lib import facs


def expression_au_matrix(expressions=facs.EXPRESSIONS, aus=None) -> tuple[np.ndarray, list[int]]:
    """Binary matrix (len(aus), len(expressions)): 1 where the prototype uses the AU.

    ``aus`` defaults to the AUs used by at least one of ``expressions``.
    """
    if aus is None:
        aus = sorted({a for e in expressions for a in facs.EXPRESSION_AUS[e]})
    m = np.stack([facs.au_vector(e, aus=aus) for e in expressions], axis=1)
    return m, list(aus)


def expression_au_heatmap(expressions=facs.EXPRESSIONS, ax=None):
    """Heat map of the expression -> AU table (LGP-GAN Table I + contempt, neutral)."""
    import matplotlib.pyplot as plt

    m, aus = expression_au_matrix(expressions)
    if ax is None:
        _, ax = plt.subplots(figsize=(1.0 + 0.7 * len(expressions), 0.5 + 0.38 * len(aus)))
    ax.imshow(m, cmap="Blues", vmin=0, vmax=1.3, aspect="auto")
    ax.set_xticks(range(len(expressions)), expressions, rotation=40, ha="right")
    ax.set_yticks(range(len(aus)), [f"AU{a} {facs.AU_TABLE[a].name} ({facs.au_region(a)})" for a in aus])
    for i, j in zip(*np.nonzero(m)):
        uni = expressions[j] in facs.UNILATERAL_EXPRESSIONS
        ax.text(j, i, "U" if uni else "\u25cf", ha="center", va="center", color="navy", fontsize=9)
    ax.set_title("Action Units of each expression (LGP-GAN Table I; U = unilateral)")
    ax.figure.tight_layout()
    return ax


def region_count_bars(expressions=facs.BASIC_EXPRESSIONS, ax=None):
    """Bar chart: AU occurrences per face region over ``expressions``, coloured by LGP crop."""
    import matplotlib.pyplot as plt

    counts = facs.region_counts(expressions)
    colours = {"eye": "tab:blue", "mouth": "tab:orange", None: "tab:gray"}
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3))
    regions = list(counts)
    ax.bar(regions, [counts[r] for r in regions],
           color=[colours[facs.LGP_CROP_OF_REGION[r]] for r in regions])
    crops = facs.crop_counts(expressions)
    total = sum(crops.values())
    ax.set_ylabel("AU occurrences")
    ax.set_title(f"{crops['eye'] + crops['mouth']} of {total} AU occurrences fall in the eye (blue) "
                 f"or mouth (orange) crop", fontsize=10)
    ax.figure.tight_layout()
    return ax


def au_explorer(aus=None):
    """ipywidgets panel: tick AUs, see the closest expression prototypes and their scores.

    The score is :func:`course_lib.facs.closest_expressions` (Jaccard similarity).
    """
    import ipywidgets as w

    aus = list(aus or sorted({a for e in facs.EXPRESSIONS for a in facs.EXPRESSION_AUS[e]}))
    boxes = {a: w.Checkbox(value=False, description=f"AU{a} {facs.AU_TABLE[a].name}", indent=False,
                           layout=w.Layout(width="230px")) for a in aus}
    out = w.HTML()

    def update(_=None):
        ticked = [a for a, b in boxes.items() if b.value]
        ranking = facs.closest_expressions(ticked)
        rows = "".join(f"<tr><td>{name}</td><td>{score:.2f}</td><td>{'+'.join(f'AU{a}' for a in facs.EXPRESSION_AUS[name]) or '-'}</td></tr>"
                       for name, score in ranking[:4])
        out.value = (f"<b>closest: {ranking[0][0]}</b> (score {ranking[0][1]:.2f})"
                     f"<table><tr><th>expression</th><th>score</th><th>prototype</th></tr>{rows}</table>")

    for b in boxes.values():
        b.observe(update, names="value")
    update()
    grid = w.GridBox(list(boxes.values()), layout=w.Layout(grid_template_columns="repeat(3, 240px)"))
    panel = w.VBox([grid, out])
    panel.boxes, panel.result = boxes, out  # handles for tests and exercises
    return panel


def confusion_matrix_plot(counts, labels=facs.EXPRESSIONS, ax=None, title: str = ""):
    """Confusion matrix (rows: target expression, columns: predicted), each row normalised to 1;
    cells show the row's percentage, the row labels its accuracy and count.

    ``counts``: (K, K) counts, e.g. ``row["confusion_g"]`` of :func:`course_lib.evaluate.per_target_g`.
    """
    m = np.asarray(counts, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(labels):
        raise ValueError(f"counts: expected a ({len(labels)}, {len(labels)}) matrix, got shape {m.shape}")
    n = m.sum(axis=1)
    share = np.divide(m, n[:, None], out=np.zeros_like(m), where=n[:, None] > 0)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(6.4, 5.4))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    k = len(labels)
    ax.set_xticks(range(k), labels, rotation=40, ha="right")
    ax.set_yticks(range(k), [f"{e} ({share[i, i]:.0%} of {int(n[i])})" for i, e in enumerate(labels)])
    ax.set_xlabel("predicted by the judge")
    ax.set_ylabel("target expression")
    for i in range(k):
        for j in range(k):
            if m[i, j]:
                ax.text(j, i, f"{100 * share[i, j]:.0f}", ha="center", va="center", fontsize=8,
                        color="white" if share[i, j] > 0.6 else "black")
    ax.set_title(title or "Expression judge on the translations (% of each target)", fontsize=10)
    return ax
