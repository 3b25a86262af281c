"""``python -m course_lib reproduce efgan-table3``: Cascade EF-GAN's ablation, Table 3 (Section 4.4).

Wu et al. 2020, Table 3 (RaFD): expression accuracy G (the R classifier on the generated images)
and R+G (a classifier trained on real + generated images, tested on the real test images) of
four models: Baseline, Baseline + Local Focuses (= EF-GAN), Baseline + Cascade, Cascade EF-GAN.

Ours, on the embedded synthetic set, with one budget for every variant and the course's own
trainer and evaluation (:func:`course_lib.evaluate.evaluate_run`, the shipped judge at 64x64):

1. ``ef-gan`` with ``local_focuses=false`` (Baseline) and ``ef-gan`` (EF-GAN), each trained for
   the preset's ``ef-gan`` iterations;
2. ``cascade-ef-gan`` initialised from each of them (``init_from``, Section 3.3) and fine-tuned
   end to end for the iterations the preset's cascade fine-tunes (``cpu``: 1/5 of EF-GAN's,
   ``paper``: 10 of 100 epochs), at a tenth of the learning rate decaying to 0 (Section 8);
3. every model evaluated on the synthetic test faces translated to the 7 other expressions: G,
   R+G (``--no-rg`` skips it), the PSNR gain over copy and the in-domain FID (the kind is in the
   table; no Inception weights are shipped).

Writes ``<out>/efgan-table3.{md,csv}`` and ``<out>/efgan-table3_stages.png`` (the cascade's
stages and the interpolator's AUs for an angry -> happy edit, Section 4.5 / Fig. 7).  A run that
already finished in ``<out>`` is reused, not trained again.
"""
from __future__ import annotations

NAME = "efgan-table3"
HELP = ("Cascade EF-GAN (Wu et al. 2020) Table 3, the ablation: Baseline, + Local Focuses, + Cascade, Cascade "
        "EF-GAN trained with one budget on the synthetic set; G, R+G, PSNR gain over copy, FID")

#: Table 3 of the paper (RaFD): G and R + G accuracy (%).
PAPER = {"Baseline": (84.61, 92.37), "Baseline + Local Focuses": (86.59, 92.50),
         "Baseline + Cascade": (87.94, 92.77), "Cascade EF-GAN": (89.38, 93.67)}
#: (Table 3 row, run folder, method, local focuses, run it is initialised from)
VARIANTS = [("Baseline", "baseline", "ef-gan", False, None),
            ("Baseline + Local Focuses", "ef-gan", "ef-gan", True, None),
            ("Baseline + Cascade", "baseline-cascade", "cascade-ef-gan", False, "baseline"),
            ("Cascade EF-GAN", "cascade-ef-gan", "cascade-ef-gan", True, "ef-gan")]
DATA_NOTE = ("The data differ: the paper trains and tests on RaFD photographs (1,608 frontal images, 90 % / 10 % "
             "split), we on the course's synthetic faces (rendered, 64x64 under the cpu preset), with a shipped "
             "judge instead of the paper's classifier; compare the order of the rows, not the numbers.")


def add_arguments(parser) -> None:
    parser.add_argument("--steps", type=int, default=None,
                        help="iterations of the Baseline and EF-GAN runs (default: the preset's ef-gan steps)")
    parser.add_argument("--finetune-steps", type=int, default=None,
                        help="iterations of the cascades' fine-tuning (default: what the preset's cascade fine-tunes)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--no-rg", action="store_true", help="skip R+G (it trains a second classifier per model)")
    parser.add_argument("--seed", type=int, default=0)


def published() -> str:
    """The published table (``reproduce efgan-table3 --publish`` copies it to ``data/results/``) as
    Markdown, or a sentence saying how to produce it."""
    from course_lib.lesson import repo_root
    from course_lib.results import results_dir

    path = results_dir(repo_root()) / f"{NAME}.md"
    if not path.is_file():
        return (f"*Not published yet: run `python -m course_lib reproduce {NAME} --preset cpu --publish` "
                f"(it writes {path.relative_to(repo_root())}).*")
    return path.read_text()


def budgets(preset: str) -> tuple[int, int]:
    """(EF-GAN iterations, fine-tuning iterations) of training preset ``preset``: ``ef-gan``'s steps, and
    the share of ``cascade-ef-gan``'s one-run steps after its pre-training."""
    from course_lib import methods
    from course_lib.config import preset as make

    steps = make(preset, model="ef-gan").steps
    c = make(preset, model="cascade-ef-gan")
    fraction = methods.make_hyper("cascade-ef-gan", c.hyper).pretrain_fraction
    return steps, max(1, c.steps - int(round(fraction * c.steps)))


def configs(preset: str, out, steps: int, finetune: int, threads: int = 2, seed: int = 0) -> dict:
    """``{run folder: TrainConfig}`` of the four variants (the cascades' ``init_from`` inside ``out``)."""
    from pathlib import Path

    from course_lib.config import preset as make

    out = Path(out)
    cfgs = {}
    for _, run, model, local, init in VARIANTS:
        if init is None:
            cfgs[run] = make(preset, model=model, steps=steps, threads=threads, seed=seed,
                             hyper={"local_focuses": local})
        else:   # the method shapes the fine-tuning's lr (a tenth, decaying to 0): the trainer's stays constant
            cfgs[run] = make(preset, model=model, steps=finetune, decay_start=finetune, threads=threads, seed=seed,
                             hyper={"local_focuses": local, "init_from": str(out / init), "pretrain_fraction": 0.0})
    return cfgs


def finished(run) -> dict | None:
    """The summary of a run in ``run`` that reached its last iteration, else None."""
    import json
    from pathlib import Path

    p = Path(run) / "summary.json"
    if not p.is_file():
        return None
    s = json.loads(p.read_text())
    return s if not s.get("interrupted") and s.get("step") == s.get("steps") else None


def stages_figure(run, data, path):
    """Section 4.5 / Fig. 7: an angry test face edited to happy by the cascade of ``run``: its stages and
    the interpolator's intermediate AUs (:func:`course_lib.ef_gan.plot_continuous_editing`), saved to ``path``."""
    import torch

    from course_lib import ef_gan, evaluate, facs, trainer
    from course_lib.classifier import as_float
    from course_lib.datasets import prototype_aus

    tr = trainer.load_translator(run)
    test = evaluate.collect(trainer.open_dataset(tr.config.replace(data=data) if data else tr.config, "test"),
                            tr.image_size, 0, desc="loading test images")
    i = int((test.labels == facs.expression_index("angry")).nonzero()[0])
    x = as_float(test.images[i:i + 1])
    src = test.aus[i:i + 1] if test.aus is not None else prototype_aus(test.labels[i:i + 1])
    trg = prototype_aus(torch.tensor([facs.expression_index("happy")]))
    with torch.no_grad():
        r = tr.method.translate(x, trg, {"aus": src})["raw"]
    fig = ef_gan.plot_continuous_editing(x, r, src[0], trg[0], [f"AU{n}" for n in facs.AU_NUMBERS],
                                         title=f"{tr.model_name}: angry -> happy ({run})")
    fig.savefig(path, dpi=110)
    return path


def run(args) -> int:
    import time

    from course_lib import evaluate, trainer
    from course_lib.tables import write_table

    t0 = time.perf_counter()
    steps, finetune = budgets(args.preset)
    steps, finetune = args.steps or steps, args.finetune_steps or finetune
    cfgs = configs(args.preset, args.out, steps, finetune, args.threads, args.seed)
    seconds = {}
    for label, run_name, _, _, _ in VARIANTS:
        folder = args.out / run_name
        done = finished(folder)
        if done is None:
            print(f"== {label}: training {cfgs[run_name].model} ({cfgs[run_name].steps} iterations) into {folder}",
                  flush=True)
            done = trainer.Trainer(cfgs[run_name], folder, resume=(folder / "checkpoints" / "last.pt").is_file(),
                                   progress=False).train()
        else:
            print(f"== {label}: reusing the finished run {folder}", flush=True)
        seconds[run_name] = done["wall_time_s"]
    rows, judge = [], ""
    for label, run_name, model, local, init in VARIANTS:
        print(f"== {label}: evaluating", flush=True)
        row = evaluate.evaluate_run(args.out / run_name, rg=not args.no_rg, identity=False, references=False,
                                    progress=False, log=lambda *a: None)
        judge = row.get("judge_name", judge)
        pct = lambda v: None if v is None else 100 * v  # noqa: E731
        rows.append([label, f"{model}, local_focuses={str(local).lower()}" + (f", init_from={init}" if init else ""),
                     pct(row.get("acc_g")), pct(row.get("acc_rg")) if not args.no_rg else "not run (--no-rg)",
                     row.get("psnr_gain"), row.get("fid"), row.get("fid_kind"), *PAPER[label]])
    png = args.out / f"{NAME}_stages.png"
    stages_figure(args.out / "cascade-ef-gan", None, png)
    secs = time.perf_counter() - t0
    train_note = ", ".join(f"{r} {seconds[r]:.0f} s" for _, r, _, _, _ in VARIANTS)
    notes = [DATA_NOTE,
             f"Budget: Baseline and EF-GAN {steps} iterations each (training preset {args.preset!r}); each cascade "
             f"initialised from them (Section 3.3) and fine-tuned end to end for {finetune} more iterations at a "
             "tenth of the learning rate, decaying to 0 (Section 8).",
             f"G: the judge ({judge}) on the translations of the test faces to the 7 other expressions; R+G: a "
             "classifier trained by the judge's recipe on the real training images plus one translation of each, "
             "tested on the real test images (the paper's protocol, Section 4.3). PSNR gain: over returning the "
             "input unchanged, against the same identity's true image. FID: the kind named in its column.",
             f"Training seconds: {train_note}; wall time of this command: {secs:.0f} s "
             f"({args.threads} torch threads; the runs found finished were not retrained).",
             f"Figure: {png.name}, the Cascade EF-GAN's three stages and the interpolator's AUs (angry -> happy)."]
    header = ["Table 3 row", "our model", "G (ours, %)", "R+G (ours, %)", "PSNR gain over copy (ours, dB)", "FID (ours)",
              "FID kind", "G (paper, RaFD, %)", "R+G (paper, RaFD, %)"]
    md, cs = write_table(args.out, NAME, header, rows, title="Cascade EF-GAN, Table 3: ablation (ours beside the paper)",
                         notes=notes, force=args.force)
    print(md.read_text())
    print(f"wrote {md}, {cs} and {png}")
    return 0
