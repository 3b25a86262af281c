"""The training loop: one :class:`Trainer` for every method of :mod:`course_lib.methods`.

The trainer knows the schedule and the loop, never a method: the method (found by
``config.model`` in the registry) builds its networks, names the update(s) of iteration k
(:meth:`~course_lib.methods.Method.updates`), computes each update's loss and translates.
The trainer owns everything a long run needs:

* one optimiser per network (the method's), the learning rate: constant until ``decay_start``
  then linear to 0 at ``steps`` (the paper's Section IV.B); an *iteration* (``step``) is one
  critic update, and the method says which other updates it brings (by default every
  ``n_critic``-th also updates G, as in the solver of the paper's baseline [42]);
* the data stream, checkpoints with exact resume, the NaN guard, the progress bar, the
  CSV/TensorBoard log and the sample grids.

Run folder (``runs/NAME/``): ``config.yaml``, ``checkpoints/last.pt`` (+ ``step_XXXXXX.pt``),
``log.csv``, ``samples/step_XXXXXX.png`` (rows = inputs; columns = input then the 8 targets),
``masks/step_XXXXXX.png`` (attention masks, white = keep the input pixel by Eq. 1; per input
one row per mask - the method's ``masks``, e.g. eye, mouth, global - and one column per target),
``loss_curves.png``, ``summary.json`` (+ ``tensorboard/`` when TensorBoard is importable).

Under ``torchrun --nproc_per_node N -m course_lib train ...`` the same loop runs in N processes,
each on its share of the global batch, with the updated network's gradients averaged before
each step (:mod:`course_lib.distributed` says how and why); rank 0 alone writes the run folder.

Translating with a run: :mod:`course_lib.translator`; its pictures: :mod:`course_lib.runplots`
(both importable from here as before: ``trainer.load_translator``, ``trainer.plot_loss_curves``...).
"""
from __future__ import annotations

import csv
import json
import math
import signal
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch

from course_lib import checkpoint, distributed
from course_lib.config import ConfigError, TrainConfig
from course_lib.images import unit_from_uint8
from course_lib.runplots import plot_loss_curves, plot_lr_schedule, read_log, show_image  # noqa: F401 (lessons)
from course_lib.translator import Translator, build_method, load_translator, translation_grid  # noqa: F401

#: The checkpoint format this trainer writes (:data:`course_lib.checkpoint.RUN_FORMAT`).
FORMAT = checkpoint.RUN_FORMAT


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the message names the loss and the step."""


# ----------------------------------------------------------------------------- data
class BatchStream:
    """Shuffled batches over an in-memory dataset, resumable exactly.

    Epoch ``e`` visits the items in ``randperm(N)`` drawn from a generator seeded from the pair
    ``(seed, e)`` (:func:`epoch_seed`: independent orders for every seed and epoch); incomplete
    last batches are dropped.  The position (epoch, index) is part of the checkpoint.
    """

    def __init__(self, tensors: dict, batch_size: int, seed: int):
        self.tensors, self.batch_size, self.seed = tensors, batch_size, seed
        self.n = len(tensors["image"])
        if self.n < batch_size:
            raise ValueError(f"the training set has {self.n} images, fewer than batch_size={batch_size}")
        self.epoch, self.pos = 0, 0
        self._perm = None

    def _order(self):
        if self._perm is None:
            g = torch.Generator().manual_seed(epoch_seed(self.seed, self.epoch))
            self._perm = torch.randperm(self.n, generator=g)
        return self._perm

    def next(self) -> dict:
        if self.pos + self.batch_size > self.n:
            self.epoch, self.pos, self._perm = self.epoch + 1, 0, None
        idx = self._order()[self.pos:self.pos + self.batch_size]
        self.pos += self.batch_size
        batch = {k: v[idx] for k, v in self.tensors.items()}
        batch["image"] = unit_from_uint8(batch["image"])
        return batch

    def state_dict(self):
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, s):
        self.epoch, self.pos, self._perm = int(s["epoch"]), int(s["pos"]), None


def epoch_seed(seed: int, epoch: int) -> int:
    """A 64-bit seed for the data order of ``epoch`` of a run seeded ``seed``, from NumPy's
    ``SeedSequence((seed, epoch))``: unlike ``seed + epoch``, seed s + 1 does not replay seed s
    one epoch later."""
    import numpy as np

    return int(np.random.SeedSequence([int(seed), int(epoch)]).generate_state(1, np.uint64)[0])


def open_dataset(config: TrainConfig, split: str = "train"):
    """The ``split`` ("train", "test", "all") of the dataset named by ``config.data``, split by
    identity whatever its kind: ``synthetic`` -> ``data/synthetic`` (built with
    ``config.synthetic_identities`` identities at 128x128 if missing), else a folder: a synthetic
    build (has ``metadata.json``), the output of ``python -m course_lib preprocess`` (its
    ``aligned/`` crops with their landmarks), a RaFD folder (``Rafd090_...`` files; by subject)
    or folder-per-expression (by :func:`course_lib.datasets.folder_identity` or ``split.csv``)."""
    from course_lib import datasets
    from course_lib.lesson import repo_root

    if config.data == "synthetic":
        root = repo_root() / datasets.DEFAULT_SYNTHETIC
        if not (root / datasets.METADATA).is_file():  # an existing build is used as it is
            print(f"building the embedded synthetic dataset in {root} ...", flush=True)
            datasets.build_synthetic(root, identities=config.synthetic_identities, size=128, seed=0)
        return datasets.SyntheticFolder(root, split=split)
    root = Path(config.data)
    if not root.is_dir():
        raise ConfigError(f"config field 'data' = {config.data!r}: expected 'synthetic' or an existing folder")
    if (root / datasets.METADATA).is_file():
        return datasets.SyntheticFolder(root, split=split)
    if (root / "aligned").is_dir() and (root / "landmarks.npz").is_file():  # preprocess --out root
        root = root / "aligned"
    if any(p.name.startswith("Rafd") for p in root.iterdir()):
        return datasets.RaFDFolder(root, split=split, size=config.image_size)
    return datasets.ExpressionFolder(root, size=config.image_size, split=split)


# ----------------------------------------------------------------------------- the trainer
class Trainer:
    """Train ``config.model`` into ``run_dir``; ``train()`` runs until ``config.steps``.

    ``data`` may be a course dataset or a dict of tensors (as :func:`course_lib.datasets.decode`);
    by default ``config.data`` is opened.  ``resume=True`` continues from
    ``run_dir/checkpoints/last.pt`` exactly (same losses as an uninterrupted run on CPU),
    with the run's own saved config (``config`` is then ignored and may be None);
    ``steps`` overrides the total number of iterations (see :meth:`TrainConfig.extended`).

    ``method`` is the :class:`~course_lib.methods.Method` (``method.nets``: the networks,
    ``optimizers``: one per network).
    """

    def __init__(self, config: TrainConfig | None, run_dir, data=None, *, resume: bool = False,
                 steps: int | None = None, device=None, progress: bool = True, log=print):
        self.run_dir = Path(run_dir)
        self.log, self.progress = log, progress
        ck_path = self.run_dir / "checkpoints" / "last.pt"
        state = None
        if resume:
            if not ck_path.is_file():
                raise FileNotFoundError(f"--resume: no checkpoint at {ck_path}")
            state = checkpoint.read_run_state(ck_path)
            config = TrainConfig.from_dict(state["config"], source=str(ck_path))  # the run's own config
        elif ck_path.exists():
            raise FileExistsError(f"{self.run_dir} already holds a run (checkpoints/last.pt); "
                                  "pass resume=True (--resume) to continue it or choose another folder")
        if config is None:
            raise ValueError("Trainer: pass a TrainConfig (or resume=True to use the run's own)")
        if steps is not None:
            config = config.extended(steps, at=int(state["step"]) if state is not None else 0)
        self.config = config.validate()
        if device is None:
            device = distributed.local_device(config.device) or _device(config.device)
        self.device = torch.device(device)
        self.dist = distributed.context(self.device)  # one process unless under torchrun
        if self.dist.enabled and config.batch_size % self.dist.world:
            raise ConfigError(f"config field 'batch_size' = {config.batch_size}: under torchrun it is the global "
                              f"batch, shared by {self.dist.world} processes; expected a multiple of {self.dist.world}")
        if not self.dist.main:
            self.log = lambda *a, **k: None
            self.progress = progress = False
        if config.threads:
            torch.set_num_threads(config.threads)
        checkpoint.seed_everything(config.seed)

        self.method = build_method(config).to(self.device)
        if self.dist.enabled:
            if self.device.type == "cuda":  # BatchNorm over the global batch (CPU: per process, said below)
                for n, net in list(self.method.nets.items()):
                    self.method.nets[n] = torch.nn.SyncBatchNorm.convert_sync_batchnorm(net)
            self.dist.broadcast_parameters(self.nets.values())
            notes = distributed.departures(self.nets, self.device)
            self.log(f"torchrun: {self.dist.world} processes ({'NCCL' if self.device.type == 'cuda' else 'gloo'}), "
                     f"global batch {config.batch_size} = {self.dist.world} x {config.batch_size // self.dist.world}; "
                     + ("the same updates as one process on the whole batch (up to float rounding)" if not notes
                        else "not bit-for-bit one process's run: " + "; ".join(notes)))
        self.optimizers = self.method.optimizers(config)
        self._base_lr = {n: [g["lr"] for g in opt.param_groups] for n, opt in self.optimizers.items()}

        from course_lib import datasets

        if not self.dist.main:
            self.dist.barrier()  # rank 0 first: it builds data/synthetic when missing
        tensors = data if isinstance(data, dict) else datasets.decode(
            data if data is not None else open_dataset(config), config.image_size, config.max_train_images,
            progress=progress)
        if self.dist.main:
            self.dist.barrier()
        bind = getattr(self.method, "bind_data", None)  # a method that needs the whole training set (e.g. to pair images)
        if bind is not None:
            bind(tensors)
        self.stream = BatchStream(tensors, config.batch_size, config.seed)
        self.fixed = _fixed_batch(tensors, config.n_samples)
        self.step = 0
        self.last = {}           # latest value of every logged loss
        self.elapsed = 0.0       # training seconds over all sessions of this run
        self.samples = {}        # paths of the latest sample grid and masks (write_samples)
        if state is not None:
            self.load_state_dict(state)
        self._writer = None

    @property
    def nets(self) -> dict:
        """The method's networks, ``{name: module}``."""
        return self.method.nets

    # -- state ------------------------------------------------------------------------
    def state_dict(self) -> dict:
        return {"format": FORMAT, "config": self.config.to_dict(), "step": self.step, "world_size": self.dist.world,
                "nets": {n: net.state_dict() for n, net in self.nets.items()},
                "optimizers": {n: opt.state_dict() for n, opt in self.optimizers.items()},
                "stream": self.stream.state_dict(), "rng": checkpoint.rng_state(),
                "last": dict(self.last), "elapsed": self.elapsed}

    def load_state_dict(self, s: dict) -> None:
        for n, net in self.nets.items():
            net.load_state_dict(s["nets"][n])
        for n, opt in self.optimizers.items():
            opt.load_state_dict(s["optimizers"][n])
        self.stream.load_state_dict(s["stream"])
        checkpoint.set_rng_state(s["rng"])
        self.step, self.last, self.elapsed = int(s["step"]), dict(s.get("last", {})), float(s.get("elapsed", 0.0))
        saved = int(s.get("world_size", 1))
        if saved != self.dist.world:
            self.log(f"resuming a run trained by {saved} process(es) with {self.dist.world}: the global batch and "
                     "every random draw are the same, so it continues the same training up to float rounding, "
                     f"but not bit for bit (resume with {saved} process(es) for that)")

    def save_checkpoint(self) -> Path:
        """Write ``checkpoints/last.pt`` (rank 0 only under torchrun, after checking that every
        process holds the same networks)."""
        path = self.run_dir / "checkpoints" / "last.pt"
        self.dist.check_in_sync(self.nets.values(), self.device)
        if not self.dist.main:
            return path
        state = self.state_dict()
        path = checkpoint.save(state, path)
        if self.config.keep_every and self.step % self.config.keep_every == 0:
            checkpoint.save(state, self.run_dir / "checkpoints" / f"step_{self.step:06d}.pt")
        return path

    # -- one iteration ----------------------------------------------------------------
    def _set_lr(self):
        f = self.config.lr_factor(self.step)
        for n, opt in self.optimizers.items():
            for group, lr in zip(opt.param_groups, self._base_lr[n]):
                group["lr"] = lr * f
        return f

    def _autocast(self):
        if self.config.amp and self.device.type == "cuda":
            return torch.autocast("cuda", dtype=torch.bfloat16)
        return nullcontext()

    def iteration(self, batch: dict) -> dict:
        """One iteration: the updates the method schedules at this step, each
        ``loss(which) -> backward -> step`` of that network's optimiser, in order.

        ``batch`` is the global batch; under torchrun every process prepares it (the same
        targets) and trains on its share, and the updated network's gradients are averaged
        before its step (:mod:`course_lib.distributed`)."""
        batch = {k: v.to(self.device) for k, v in batch.items()}
        n_global = len(batch["image"])
        batch = distributed.shard(self.method.prepare(batch), n_global, self.dist)
        out = {}
        for which in self.method.updates(self.step, self.config):
            with self._autocast():
                total, p = self.method.loss(which, batch)
            p = {f"{which}/{k}": v for k, v in p.items()}
            p[f"{which}/total"] = total
            out.update(self._guard(p))
            opt = self.optimizers[which]
            opt.zero_grad(set_to_none=True)
            total.backward()
            self.dist.average_gradients([q for g in opt.param_groups for q in g["params"]])
            opt.step()
        self.dist.average_buffers(self.nets.values())
        self.last.update(out)
        return out

    def _guard(self, parts: dict) -> dict:
        """The values of ``parts`` as floats (averaged over the processes under torchrun: the losses
        of the global batch), read with one host sync; stops on a non-finite loss (on every process)."""
        if not parts:
            return {}
        names = list(parts)
        values = torch.stack([v.detach().reshape(()).to(self.device, torch.float64) if torch.is_tensor(v)
                              else torch.tensor(float(v), dtype=torch.float64, device=self.device)
                              for v in parts.values()])
        numbers = self.dist.average(values).tolist()
        for name, v in zip(names, numbers):
            if not math.isfinite(v):
                raise TrainingDiverged(
                    f"loss {name} is {v} at step {self.step + 1}: training stopped. The last good checkpoint "
                    f"is {self.run_dir / 'checkpoints' / 'last.pt'}; lower the learning rates or check the data.")
        return dict(zip(names, numbers))

    # -- the loop ---------------------------------------------------------------------
    def train(self, until: int | None = None) -> dict:
        """Run iterations until ``until`` (default ``config.steps``); returns the summary.

        Ctrl-C finishes the current iteration, saves a checkpoint and returns (summary
        ``"interrupted": True``); a second Ctrl-C aborts at once.
        """
        from tqdm.auto import tqdm

        cfg = self.config
        until = cfg.steps if until is None else min(until, cfg.steps)
        main = self.dist.main  # only rank 0 writes files under torchrun
        if main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            cfg.save(self.run_dir / "config.yaml")
            self._open_tensorboard()
        start_step, t0, interrupted = self.step, time.perf_counter(), False
        self.method.train()
        bar = tqdm(total=until, initial=self.step, desc=f"train {cfg.model}", disable=not self.progress,
                   dynamic_ncols=True, mininterval=1.0)
        try:
            with _deferred_sigint() as stop:
                while self.step < until and not self.dist.any(stop(), self.device):
                    lr = self._set_lr()
                    self.iteration(self.stream.next())
                    self.step += 1
                    bar.update(1)
                    if main and (self.step % cfg.log_every == 0 or self.step == until):
                        self._log_row(lr, time.perf_counter() - t0)
                        bar.set_postfix({k.replace("/total", ""): f"{v:.3g}" for k, v in self.last.items()
                                         if k.endswith("total")})
                    if self.step % cfg.sample_every == 0 or self.step == until:
                        self.write_samples()
                    if self.step % cfg.checkpoint_every == 0 or self.step == until:
                        self.elapsed_update(t0)
                        t0 = time.perf_counter()
                        self.save_checkpoint()
                interrupted = self.step < until
        finally:
            bar.close()
        self.elapsed_update(t0)
        if interrupted:
            path = self.save_checkpoint()
            self.log(f"interrupted: checkpoint of step {self.step} saved to {path}; continue with --resume")
        if self._writer is not None:
            self._writer.close()
        summary = self.summary(start_step, interrupted)
        if main:
            plot_loss_curves(self.run_dir / "log.csv", self.run_dir / "loss_curves.png")
            checkpoint.atomic_write_bytes(self.run_dir / "summary.json", json.dumps(summary, indent=2).encode())
        self.dist.barrier()  # under torchrun: the run folder is complete when train() returns on any process
        return summary

    def elapsed_update(self, t0):
        """Add the seconds since ``t0`` to the run's and this session's training time."""
        dt = time.perf_counter() - t0
        self.elapsed += dt
        self._session_elapsed = getattr(self, "_session_elapsed", 0.0) + dt

    def summary(self, start_step: int, interrupted: bool) -> dict:
        secs = getattr(self, "_session_elapsed", 0.0)
        done = self.step - start_step
        return {"model": self.config.model, "net_size": self.config.net_size, "step": self.step,
                "steps": self.config.steps, "interrupted": interrupted,
                "wall_time_s": round(self.elapsed, 1), "this_session_s": round(secs, 1),
                "images_per_s": round(done * self.config.batch_size / secs, 2) if secs > 0 and done else None,
                "device": str(self.device), "torch_threads": torch.get_num_threads(), "processes": self.dist.world,
                "last_losses": {k: round(v, 5) for k, v in sorted(self.last.items())},
                "sample_grid": _rel(self.samples.get("sample_grid"), self.run_dir),
                "masks": _rel(self.samples.get("masks"), self.run_dir),
                "loss_curves": "loss_curves.png", "checkpoint": "checkpoints/last.pt"}

    # -- logs and pictures ------------------------------------------------------------
    def _log_row(self, lr, secs):
        path = self.run_dir / "log.csv"
        row = {"step": self.step, "lr_factor": round(lr, 6), **{k: round(v, 6) for k, v in sorted(self.last.items())}}
        new = not path.exists()
        if not new:
            with open(path, newline="") as f:
                header = next(csv.reader(f), [])
            if set(row) - set(header):  # G losses appear after the first G update: rewrite the header
                _rewrite_csv(path, list(row))
        else:
            header = list(row)
        with open(path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=header if not new else list(row), extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow(row)
        if self._writer is not None:
            for k, v in self.last.items():
                self._writer.add_scalar(k, v, self.step)

    def _open_tensorboard(self):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except Exception:  # tensorboard not installed: CSV only
            return
        self._writer = SummaryWriter(self.run_dir / "tensorboard")

    def translator(self) -> "Translator":
        return Translator(self.method, self.config, self.device)

    def write_samples(self) -> dict:
        """``samples/step_XXXXXX.png`` (inputs x 8 targets) and ``masks/step_XXXXXX.png``;
        returns (and keeps in ``samples``) ``{"sample_grid": path, "masks": path or None}``.

        Under torchrun every process translates (a generator kept in training mode updates its
        running statistics, which must stay equal on every process); rank 0 saves."""
        from course_lib.images import save_rgb, to_uint8

        tr = self.translator()
        x, lm = self.fixed["image"], self.fixed["landmarks"]
        grid, masks = translation_grid(tr, x, lm, with_masks=True)
        if not self.dist.main:
            self.method.train()
            return dict(self.samples)
        self.samples = {"sample_grid": save_rgb(to_uint8(grid), self.run_dir / "samples" / f"step_{self.step:06d}.png"),
                        "masks": self.samples.get("masks")}
        if masks is not None:
            self.samples["masks"] = save_rgb(to_uint8(masks), self.run_dir / "masks" / f"step_{self.step:06d}.png")
        self.method.train()
        return dict(self.samples)


def _rel(p, root):
    return None if p is None else str(Path(p).relative_to(root))


def _rewrite_csv(path: Path, header: list[str]):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)


def _fixed_batch(tensors: dict, n: int) -> dict:
    """``n`` evenly spaced training images (for the sample grids), as float images."""
    idx = torch.linspace(0, len(tensors["image"]) - 1, n).round().long()
    return {"image": unit_from_uint8(tensors["image"][idx]), "landmarks": tensors["landmarks"][idx],
            "label": tensors["label"][idx]}


def _device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise ConfigError("config field 'device' = 'cuda': no CUDA GPU is available here; use 'auto' or 'cpu'")
    return torch.device(name)


@contextmanager
def _deferred_sigint():
    """Within the block, the first Ctrl-C only sets a flag (``stop()`` returns True)."""
    import threading

    flag = {"stop": False}
    if threading.current_thread() is not threading.main_thread():
        yield lambda: flag["stop"]
        return

    previous = signal.getsignal(signal.SIGINT)

    def handler(signum, frame):
        if flag["stop"]:  # second Ctrl-C: give up at once
            signal.signal(signal.SIGINT, previous)
            raise KeyboardInterrupt
        flag["stop"] = True
        print("\nCtrl-C: finishing this iteration and saving a checkpoint (Ctrl-C again to abort)", flush=True)

    signal.signal(signal.SIGINT, handler)
    try:
        yield lambda: flag["stop"]
    finally:
        signal.signal(signal.SIGINT, previous)
