"""The official StarGAN solver (yunjey/stargan), timed on the course's data and config: ``bench train``'s reference.

A helper of :mod:`course_lib.benchmarks.train`, not a benchmark of its own (the leading ``_`` keeps it
out of ``bench``'s module scan).

The official code is vendored, unchanged, under ``tests/official_stargan/`` (MIT licence; its
``README.md`` names the commit).  It is not a package of the course: its modules import each
other by their bare names (``from model import Generator``), so :func:`official_modules`
puts them in ``sys.modules`` as ``model``, ``solver``, ``data_loader`` only for the duration of a
call and restores whatever was there before.

:func:`run_main` runs the official entry point, ``main.py``, in this process exactly as
``python main.py ARGS`` would (its own argparse, so every option not given keeps the default
of ``main.py``: ``--num_workers 1``, ``--log_step 10``, ``--lr_update_step 1000``...), with two
interceptions and no edit of the vendored files:

* ``solver.Solver`` is replaced by a subclass that, after the official ``__init__``, moves G
  and D to the device we ask for (the official code picks ``cuda`` whenever one is present;
  the comparison must run both implementations on the same device), and whose ``train()``
  is the official one (or nothing, to only build the networks);
* ``data_loader.get_loader`` returns the official loader (ImageFolder, RandomHorizontalFlip,
  CenterCrop, Resize, ToTensor, Normalize, a DataLoader with ``num_workers`` processes)
  wrapped in :class:`TimedLoader`, which records the moment each batch is asked for.

:func:`official_argv` maps a course :class:`~course_lib.config.TrainConfig` of method
``stargan`` to ``main.py``'s options (sizes from the network-size preset, loss weights from
the method's hyper-parameters).  Two options have no counterpart and are chosen here:
``--rafd_crop_size`` = the image size (the course's faces are already aligned crops at the
training size, so the official CenterCrop keeps the whole face and Resize is the identity;
the default 256 is for RaFD's 681x1024 photographs) and ``lambda_cls`` = the method's
``lambda_cls`` (G's; the ``cpu`` preset's critic-only ``lambda_cls_d`` = 6 has no official
option; a loss weight changes no operation count, so it does not change the timing).

:func:`time_official` writes the faces as an ImageFolder tree (one folder per expression,
named ``<label>_<expression>`` so that ImageFolder's sorted classes are the course's label
indices), runs ``Solver.train()`` for one warm-up cycle of ``n_critic`` iterations plus the
timed cycles, and times from the fetch of the first timed iteration's batch to the return
of ``train()``; images/s = timed iterations x batch / seconds, as ``bench train`` counts ours.
"""
from __future__ import annotations

import contextlib
import io
import sys
import time
from pathlib import Path

#: The files of yunjey/stargan that must be present under ``tests/official_stargan/``.
FILES = ("LICENSE", "main.py", "solver.py", "model.py", "data_loader.py")
#: The bare module names the official files import each other by.
MODULES = ("model", "data_loader", "solver", "logger")
#: The commit of github.com/yunjey/stargan the vendored files come from.
COMMIT = "94dd002e93a2863d9b987a937b85925b80f7a19f"


def official_dir(root=None) -> Path:
    """``<repo>/tests/official_stargan`` (or ``root/tests/official_stargan``); a clear error when absent."""
    from course_lib.lesson import repo_root

    folder = Path(root if root is not None else repo_root()) / "tests" / "official_stargan"
    missing = [f for f in FILES if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{folder}: the vendored official StarGAN code is missing ({', '.join(missing)}); expected the files "
            f"{', '.join(FILES)} of github.com/yunjey/stargan (commit {COMMIT[:7]}) there, as in the course's "
            "repository (bench train --no-official skips the comparison)")
    return folder


@contextlib.contextmanager
def official_modules(folder=None):
    """The official modules ``{"model", "data_loader", "solver"}``, importable by their bare names
    inside the block (``sys.modules`` and ``sys.path`` restored afterwards)."""
    import importlib

    folder = official_dir() if folder is None else Path(folder)
    saved = {n: sys.modules.pop(n) for n in MODULES if n in sys.modules}
    sys.path.insert(0, str(folder))
    try:
        yield {n: importlib.import_module(n) for n in ("model", "data_loader", "solver")}
    finally:
        sys.path.remove(str(folder))
        for n in MODULES:
            sys.modules.pop(n, None)
        sys.modules.update(saved)


class TimedLoader:
    """The official DataLoader, recording ``time.perf_counter()`` when each batch is asked for
    (after a ``cuda.synchronize`` on a GPU, so that queued work is counted where it was queued).
    ``stamps[0]`` is ``train()``'s fixed batch, ``stamps[i + 1]`` iteration i's."""

    def __init__(self, loader, cuda: bool = False):
        self.loader, self.cuda, self.stamps = loader, cuda, []

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        import torch

        it = iter(self.loader)
        while True:
            if self.cuda:
                torch.cuda.synchronize()
            t = time.perf_counter()
            try:
                batch = next(it)
            except StopIteration:
                return
            self.stamps.append(t)
            yield batch


def official_argv(cfg, *, image_dir, work_dir, num_iters: int) -> list[str]:
    """``main.py`` options equal to course config ``cfg`` (method ``stargan``) for a run of ``num_iters``
    iterations on the ImageFolder tree ``image_dir``; options not listed keep ``main.py``'s defaults."""
    from course_lib import facs, presets

    if cfg.model != "stargan":
        raise ValueError(f"official StarGAN: config model is {cfg.model!r}, expected 'stargan'")
    size, h, work = presets.get_preset(cfg.net_size), cfg.hyper, Path(work_dir)
    if size.image_size != cfg.image_size:
        raise ValueError(f"official StarGAN: net_size {cfg.net_size!r} is for {size.image_size}px images, "
                         f"the config's image_size is {cfg.image_size}")
    opts = {"mode": "train", "dataset": "RaFD", "c_dim": facs.NUM_CLASSES,
            "image_size": cfg.image_size, "rafd_crop_size": cfg.image_size,
            "g_conv_dim": size.g_conv_dim, "d_conv_dim": size.d_conv_dim,
            "g_repeat_num": size.g_repeat_global, "d_repeat_num": size.d_layers_global,
            "lambda_cls": h.get("lambda_cls", 1.0), "lambda_rec": h.get("lambda_cycle", 10.0),
            "lambda_gp": h.get("lambda_gp", 10.0),
            "batch_size": cfg.batch_size, "num_iters": num_iters, "num_iters_decay": max(0, cfg.steps - cfg.decay_start),
            "g_lr": cfg.g_lr, "d_lr": cfg.d_lr, "n_critic": cfg.n_critic, "beta1": cfg.beta1, "beta2": cfg.beta2,
            "use_tensorboard": "False", "rafd_image_dir": image_dir,
            "log_dir": work / "logs", "model_save_dir": work / "models", "sample_dir": work / "samples",
            "result_dir": work / "results",
            "sample_step": num_iters + 1, "model_save_step": num_iters + 1}
    argv = []
    for k, v in opts.items():
        argv += [f"--{k}", str(v)]
    return argv


def run_main(argv: list[str], *, folder=None, device=None, train: bool = True, load_data: bool = True):
    """Run the vendored ``main.py ARGV`` here; returns ``(solver, loader, stdout)``.

    ``device``: move the official G and D there (default: the official choice, cuda when present);
    ``train=False``: build the Solver (networks, optimisers) without training; ``load_data=False``:
    no data loader (``get_loader`` returns None; only with ``train=False``).  ``loader`` is the
    :class:`TimedLoader` given to the Solver (None without data)."""
    import runpy

    import torch

    if train and not load_data:
        raise ValueError("run_main: training needs the data (load_data=True)")
    folder = official_dir() if folder is None else Path(folder)
    out, made = io.StringIO(), {}
    with official_modules(folder) as mods:
        official_get_loader, Official = mods["data_loader"].get_loader, mods["solver"].Solver
        dev = torch.device(device) if device is not None else None

        def get_loader(*args, **kwargs):
            if not load_data:
                return None
            made["loader"] = TimedLoader(official_get_loader(*args, **kwargs),
                                         cuda=(dev or torch.device("cuda" if torch.cuda.is_available() else "cpu")).type == "cuda")
            return made["loader"]

        class Solver(Official):
            def __init__(self, celeba_loader, rafd_loader, config):
                super().__init__(celeba_loader, rafd_loader, config)
                if dev is not None:
                    self.device = dev
                    self.G.to(dev)
                    self.D.to(dev)
                made["solver"] = self

            def train(self):
                if train:
                    super().train()
                    if self.device.type == "cuda":
                        torch.cuda.synchronize()
                self.train_end = time.perf_counter()

        mods["data_loader"].get_loader, mods["solver"].Solver = get_loader, Solver
        argv0, benchmark = sys.argv, torch.backends.cudnn.benchmark  # main() sets cudnn.benchmark = True
        sys.argv = [str(folder / "main.py"), *map(str, argv)]
        try:
            with contextlib.redirect_stdout(out):
                runpy.run_path(str(folder / "main.py"), run_name="__main__")
        finally:
            sys.argv = argv0
            torch.backends.cudnn.benchmark = benchmark
    return made["solver"], made.get("loader"), out.getvalue()


def write_image_folder(tensors: dict, root) -> Path:
    """``tensors`` (``datasets.decode``'s: uint8 images, labels) as PNGs in ``root/<label>_<expression>/``."""
    from PIL import Image

    from course_lib import facs

    root = Path(root)
    for i, (img, label) in enumerate(zip(tensors["image"], tensors["label"].tolist())):
        d = root / f"{label}_{facs.EXPRESSIONS[label]}"
        d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(img.permute(1, 2, 0).numpy()).save(d / f"{i:05d}.png")
    return root


def images_needed(cfg, cycles: int) -> int:
    """Images for one epoch of the official loader to cover ``train()``: its fixed batch, one warm-up
    cycle and ``cycles`` timed cycles (a new epoch would start a new loader worker inside the timing)."""
    return cfg.batch_size * (1 + (1 + cycles) * cfg.n_critic)


def time_official(cfg, tensors: dict, cycles: int = 2, device=None, folder=None) -> dict:
    """Images/s of the official ``Solver.train()`` under ``main.py`` options equal to ``cfg`` on ``tensors``.

    One warm-up cycle of ``n_critic`` iterations, then ``cycles`` timed cycles, timed from the fetch of
    the first timed batch to the return of ``train()``.  ``tensors`` must hold at least
    :func:`images_needed` images (one epoch, as ``bench train`` renders them)."""
    import tempfile

    import torch

    need = images_needed(cfg, cycles)
    if len(tensors["image"]) < need:
        raise ValueError(f"official StarGAN: {len(tensors['image'])} images, need {need} for one epoch of "
                         f"batch {cfg.batch_size} over {1 + cycles} cycles")
    dev = torch.device(device if device is not None else ("cuda" if torch.cuda.is_available() else "cpu"))
    warm, timed = cfg.n_critic, cycles * cfg.n_critic
    with tempfile.TemporaryDirectory() as tmp:
        image_dir = write_image_folder(tensors, Path(tmp) / "images")
        argv = official_argv(cfg, image_dir=image_dir, work_dir=Path(tmp) / "work", num_iters=warm + timed)
        solver, loader, log = run_main(argv, folder=folder, device=dev, train=True)
    stamps = loader.stamps
    if len(stamps) != 1 + warm + timed:
        raise RuntimeError(f"official StarGAN: {len(stamps)} batches fetched, expected {1 + warm + timed}")
    secs = solver.train_end - stamps[1 + warm]
    return {"images_per_s": timed * cfg.batch_size / secs, "s_per_iteration": secs / timed,
            "device": str(solver.device), "iterations": timed, "log": log}
