"""The book's **Results** page (``results.md``): every method's evaluation and every reproduced paper table.

Nothing here is typed by hand: ``python -m course_lib docs`` rewrites the block between
``<!-- results:begin -->`` and ``<!-- results:end -->`` of ``results.md`` from

* the records of the shipped checkpoints (``data/checkpoints/<method>.json``, written by
  ``python -m course_lib checkpoints build``): one row per method beside the copy and oracle
  rows of the same evaluation — the course's counterpart of LGP-GAN Table IV and Cascade
  EF-GAN Tables 1-2;
* the published outputs of commands in ``data/results/``: ``bench_quality.md`` (written by
  ``python -m course_lib bench quality --publish``), ``gpu_time.md`` (each method's expected
  ``colab-t4`` time on a Colab T4, ``python -m course_lib gpu-time``) and one ``<table>.md`` per
  paper table (``python -m course_lib reproduce <table> --publish``), each already beside the
  paper's numbers;

and ``docs --check`` (run by the tests) fails when the page is out of step with them.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

BEGIN, END = "<!-- results:begin -->", "<!-- results:end -->"
RESULTS = "results.md"


def results_dir(root: Path) -> Path:
    return Path(root) / "data" / "results"


def _pct(v):
    return "n/a" if v is None else f"{100 * v:.1f} %"


def _num(v, fmt):
    return "n/a" if v is None else ("∞" if v == float("inf") else format(v, fmt))


def methods_table(root: Path) -> str:
    """One row per shipped checkpoint record, the copy and oracle rows of the first record around them."""
    records = [json.loads(p.read_text()) for p in sorted((Path(root) / "data" / "checkpoints").glob("*.json"))]
    if not records:
        return "No shipped checkpoints yet (`python -m course_lib checkpoints build`)."
    head = ("| method | iterations | training time | acc. G | PSNR (dB) | PSNR gain over copy (dB) | SSIM gain | "
            "HF ratio | changes outside the expression | in-domain FID |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    refs = records[0].get("references", {})

    def ref_row(name):
        r = refs.get(name)
        if r is None:
            return None
        return f"| {name} | | | {_pct(r.get('acc_g'))} | {_num(r.get('psnr'), '.2f')} | | | | | |"

    copy = ref_row("copy (input unchanged)")
    if copy:
        lines.append(copy)
    for rec in records:
        e = rec["evaluation"]
        lines.append(f"| {rec['method']} | {rec['config'].get('steps')} | {rec['wall_time_s'] / 60:.1f} min "
                     f"({rec.get('torch_threads')} threads) | {_pct(e.get('acc_g'))} | {_num(e.get('psnr'), '.2f')} | "
                     f"{_num(e.get('psnr_gain'), '+.2f')} | {_num(e.get('ssim_gain'), '+.3f')} | "
                     f"{_num(e.get('hf_ratio'), '.2f')} | {_pct(e.get('outside_change'))} | "
                     f"{_num(e.get('in_domain_fid'), '.2f')} |")
    oracle = ref_row("oracle (ground truth)")
    if oracle:
        lines.append(oracle)
    judge = records[0]["evaluation"].get("judge_name", "")
    lines += ["", f"Changed targets only (each test face to its 7 other expressions); judge: {judge}. "
                  "Each method: its shipped checkpoint (`data/checkpoints/<method>.json` records the command, "
                  "config and commit), trained with its `cpu` preset, seed 0, on the embedded synthetic set."]
    return "\n".join(lines)


def _demote(md: str, by: int = 3) -> str:
    """A published table's Markdown with its headings ``by`` levels down (3: under a ``###`` of this
    page; 2: directly under a ``##`` section), so that the page's headings never skip a level."""
    return re.sub(r"^(#+) ", lambda m: "#" * (len(m.group(1)) + by) + " ", md, flags=re.M)


def results_markdown(root: Path) -> str:
    rdir = results_dir(root)
    parts = ["## Every method on the embedded data", "", methods_table(root), ""]
    bench = rdir / "bench_quality.md"
    parts += ["## The main job's quality benchmark (`python -m course_lib bench quality`)", ""]
    parts += [_demote(bench.read_text(encoding="utf-8"), 2).strip() if bench.is_file() else "Not published yet.", ""]
    gpu = rdir / "gpu_time.md"  # python -m course_lib gpu-time (course_lib.gpu_time)
    if gpu.is_file():
        parts += ["## Expected GPU time of each method's colab-t4 run (`python -m course_lib gpu-time`)", "",
                  _demote(gpu.read_text(encoding="utf-8"), 2).strip(), ""]
    tables = sorted(p for p in rdir.glob("*.md") if p.name not in ("bench_quality.md", gpu.name)) if rdir.is_dir() else []
    parts += ["## Paper tables (`python -m course_lib reproduce <table>`)", ""]
    if not tables:
        parts += ["None published yet.", ""]
    for p in tables:
        parts += [f"### `{p.stem}`", "", _demote(p.read_text(encoding="utf-8")).strip(), ""]
    return "\n".join(parts).rstrip()


_BLOCK = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)


def with_results_block(text: str, root: Path, source: str = RESULTS) -> str:
    if len(_BLOCK.findall(text)) != 1:
        raise ValueError(f"{source}: expected one '{BEGIN}' ... '{END}' block")
    return _BLOCK.sub(lambda _: f"{BEGIN}\n{results_markdown(root)}\n{END}", text)
