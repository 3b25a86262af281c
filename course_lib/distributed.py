"""Multi-process training under ``torchrun`` (PyTorch's ``torch.distributed``), for every method.

    torchrun --standalone --nproc_per_node 2 -m course_lib train --model stargan --out runs/NAME

The trainer (:mod:`course_lib.trainer`) reads torchrun's environment (``WORLD_SIZE``, ``RANK``,
``LOCAL_RANK``) through :func:`context`; without it (or with one process) nothing here changes
a run.  Backend: NCCL on GPUs (one GPU per process, ``cuda:LOCAL_RANK``), gloo on the CPU.

**What a step does, and why not ``DistributedDataParallel``.**  Every process holds the whole
model.  ``config.batch_size`` stays the *global* batch: each of the N processes trains on its
1/N share of it, computes the loss of one update (a mean over its share), back-propagates, and
then the gradients of the network being updated - and only those - are averaged over the
processes with one ``all_reduce`` (:meth:`Context.average_gradients`) before that network's
optimiser steps.  The mean of N share-means is the mean over the global batch, so the update
equals one process's update on the whole batch (up to float rounding).  This is the per-phase
all-reduce of StyleGAN2-ADA's and StyleGAN3's ``training_loop.py`` (NVlabs): they do not wrap
the networks in ``DistributedDataParallel`` either.  Our reasons:

* the gradient penalty differentiates the critic's output with
  ``torch.autograd.grad(..., create_graph=True)`` and back-propagates through that gradient
  (double backward).  DDP does not support higher-order gradients: grads of grads are not
  synchronised and its reducer's state is not made for a second backward (pytorch/pytorch
  #47562 "Wrong gradients when using DistributedDataParallel and autograd.grad", #63812, and
  the maintainers' poll #63929 "Support higher-order gradient computation in DDP", open).
  The workaround they describe (``autograd.grad`` out of place, then one ordinary backward)
  is what we do, without DDP's hooks to worry about;
* a GAN update runs the *other* network too: the generator's loss goes through the critic
  (and the critic's loss through the generator's output).  With DDP-wrapped critics, the
  generator step would all-reduce the critic's gradients (wasted traffic, then thrown away)
  unless every such call sat inside ``no_sync()``; here only the updated network syncs;
* one update calls a network several times (the critic on real, fake and interpolated
  images; the generator twice for the cycle) before one backward, which DDP only supports
  with ``find_unused_parameters`` / ``static_graph`` and re-entrancy caveats.

**Buffers.**  StarGAN's generator keeps running InstanceNorm statistics
(``track_running_stats=True``); BatchNorm layers (landmark GAN) keep theirs too.  Each process
updates them from its share, so after every iteration :meth:`Context.average_buffers` averages
the running means and variances of every normalisation layer over the processes.  For
InstanceNorm this equals one process on the whole batch (the running statistics move by the
mean of per-image statistics, a linear update).  Other buffers (the image pool of
CycleGAN/ECGAN, counters) are per process; rank 0's are saved.

**Random numbers.**  Every process seeds torch with the run's seed and draws the *whole*
global batch (same order, :class:`~course_lib.trainer.BatchStream`), lets the method draw the
iteration's targets for it (:meth:`~course_lib.methods.Method.prepare`), and then keeps its
share (:func:`shard`).  Random numbers drawn inside a loss for each sample (the gradient
penalty's interpolation weights) come from :func:`rand`, which draws the global batch's numbers
and keeps the share.  So the processes draw different numbers for different images, and the
same ones one process would have drawn: a two-process run reproduces a one-process run
(tests/test_distributed.py).  Per-rank seeds, the usual recipe, would give each process
independent numbers too, but no run with another number of processes could be compared with it.

**Not exact** (said at launch): BatchNorm normalises over each process's share on the CPU
(on GPUs the trainer converts it to ``SyncBatchNorm``, which normalises over the global batch);
dropout masks come from the common generator, so the same positions of the processes' shares
share a mask; the image pools of CycleGAN/ECGAN hold each process's own fakes.  Methods name
these in ``distributed_note``.

**Files.**  Rank 0 alone writes the config, checkpoints, log, TensorBoard events, samples and the
summary; a checkpoint records the world size.  Resuming on the same number of processes continues
exactly; on another, the trainer says so (the global batch and every random draw are the same,
so the run continues the same training up to float rounding, but not bit for bit).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import torch


@dataclass
class Context:
    """This process's place in the job: ``world`` processes, this one ``rank`` (``local_rank`` on its machine)."""

    world: int = 1
    rank: int = 0
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world > 1

    @property
    def main(self) -> bool:
        """True in the process that writes files and prints (rank 0)."""
        return self.rank == 0

    def share(self, n_global: int) -> slice:
        """The items of a global batch of ``n_global`` this process trains on."""
        n = n_global // self.world
        return slice(self.rank * n, (self.rank + 1) * n)

    # -- collectives (no-ops with one process) --------------------------------------------
    def average(self, values: torch.Tensor) -> torch.Tensor:
        """The mean over the processes of a tensor of the same shape on each (in place)."""
        if self.enabled:
            torch.distributed.all_reduce(values)
            values /= self.world
        return values

    def average_gradients(self, params) -> None:
        """Average the gradients of ``params`` over the processes: one ``all_reduce`` of the
        flattened gradients, as StyleGAN2-ADA's training loop does.  A parameter without a
        gradient on this process (a sub-network no image of its share used, e.g. one of
        CycleGAN's pair models) takes part with zeros when another process has one, and keeps
        none when no process has (as one process on the whole batch would); a first, small
        ``all_reduce`` says which."""
        if not self.enabled:
            return
        params = [p for p in params if p.requires_grad]
        if not params:
            return
        dev = params[0].device
        has = torch.tensor([p.grad is not None for p in params], dtype=torch.float32, device=dev)
        torch.distributed.all_reduce(has, op=torch.distributed.ReduceOp.MAX)
        used = [p for p, h in zip(params, has.tolist()) if h > 0]
        if not used:
            return
        for p in used:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
        grads = [p.grad for p in used]
        flat = torch.cat([g.reshape(-1) for g in grads])
        self.average(flat)
        for g, part in zip(grads, flat.split([g.numel() for g in grads])):
            g.copy_(part.view_as(g))

    def average_buffers(self, modules) -> None:
        """Average the running statistics of every normalisation layer of ``modules``."""
        if not self.enabled:
            return
        from torch.nn.modules.batchnorm import _NormBase

        bufs = [b for m in modules for layer in m.modules() if isinstance(layer, _NormBase)
                for name in ("running_mean", "running_var")
                if (b := getattr(layer, name, None)) is not None and b.is_floating_point()]
        if bufs:
            flat = torch.cat([b.reshape(-1) for b in bufs])
            self.average(flat)
            for b, part in zip(bufs, flat.split([b.numel() for b in bufs])):
                b.copy_(part.view_as(b))

    def any(self, flag: bool, device) -> bool:
        """True on every process when ``flag`` is True on any (e.g. a Ctrl-C seen by one)."""
        if not self.enabled:
            return bool(flag)
        t = torch.tensor([1.0 if flag else 0.0], device=device)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t.item() > 0)

    def broadcast_parameters(self, modules) -> None:
        """Rank 0's parameters and buffers on every process (they start equal - same seed - but
        a process must never train a different model silently)."""
        if not self.enabled:
            return
        for m in modules:
            for t in list(m.parameters()) + list(m.buffers()):
                torch.distributed.broadcast(t.data, src=0)

    def check_in_sync(self, modules, device) -> float:
        """The largest difference, over the processes, of the sum of every network's parameters;
        raises when the processes' models have drifted apart (a bug, never expected)."""
        if not self.enabled:
            return 0.0
        sums = torch.stack([torch.stack([p.detach().double().sum() for p in m.parameters()]).sum()
                            for m in modules]).to(device)
        hi, lo = sums.clone(), sums.clone()
        torch.distributed.all_reduce(hi, op=torch.distributed.ReduceOp.MAX)
        torch.distributed.all_reduce(lo, op=torch.distributed.ReduceOp.MIN)
        gap = float((hi - lo).abs().max())
        scale = float(sums.abs().max()) + 1.0
        if gap > 1e-6 * scale:
            raise RuntimeError(f"distributed training: the processes' networks differ (parameter sums {gap:.3g} "
                               "apart); this is a bug, please report it")
        return gap

    def barrier(self) -> None:
        if self.enabled:
            torch.distributed.barrier()


_CURRENT = Context()


def current() -> Context:
    """The context set by :func:`context` (one process when not under torchrun)."""
    return _CURRENT


def context(device: torch.device | None = None) -> Context:
    """This process's :class:`Context` from torchrun's environment; initialises the process group
    (NCCL for a CUDA ``device``, gloo otherwise) the first time.  One process: ``Context()``."""
    global _CURRENT
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        _CURRENT = Context()
        return _CURRENT
    rank, local = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    dist = torch.distributed
    if not dist.is_available():
        raise RuntimeError("WORLD_SIZE > 1 but this torch build has no torch.distributed")
    if not dist.is_initialized():
        backend = "nccl" if device is not None and device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
    _CURRENT = Context(world=dist.get_world_size(), rank=dist.get_rank(), local_rank=local)
    return _CURRENT


def local_device(name: str) -> torch.device | None:
    """The device of this process for ``config.device`` ``name`` under torchrun: ``cuda:LOCAL_RANK``
    when CUDA is used; None when not under torchrun (the trainer's usual choice applies)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return None
    use_cuda = name == "cuda" or (name == "auto" and torch.cuda.is_available())
    if not use_cuda:
        return torch.device("cpu")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if local >= torch.cuda.device_count():
        raise RuntimeError(f"LOCAL_RANK={local} but only {torch.cuda.device_count()} GPU(s) here: "
                           "use --nproc_per_node <= the number of GPUs (or --device cpu)")
    torch.cuda.set_device(local)
    return torch.device("cuda", local)


def shutdown() -> None:
    """Leave the process group (at the end of a torchrun job)."""
    global _CURRENT
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()
    _CURRENT = Context()


def shard(batch, n_global: int, ctx: Context | None = None):
    """This process's share of a prepared global batch: every tensor whose first dimension is
    ``n_global`` is cut to :meth:`Context.share`; dicts, lists and tuples are walked; anything else
    (region boxes as Python ints, a method's constants) is kept whole."""
    ctx = ctx or _CURRENT
    if not ctx.enabled:
        return batch
    sl = ctx.share(n_global)

    def cut(v):
        if torch.is_tensor(v):
            return v[sl] if v.dim() > 0 and v.shape[0] == n_global else v
        if isinstance(v, dict):
            return {k: cut(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)) and not isinstance(v, str):
            return type(v)(cut(x) for x in v)
        return v

    return cut(batch)


def global_batch(n: int) -> int:
    """The size of the global batch when this process's share has ``n`` items (``n`` with one
    process): for a loss that divides by the batch size itself (GANimation's condition loss)."""
    return n * _CURRENT.world


def batch_sum(total: torch.Tensor) -> torch.Tensor:
    """A sum over this process's share, scaled by the number of processes, so that the average
    the trainer takes over the processes is the sum over the global batch (GANimation's
    ``_compute_loss_smooth`` sums over the batch).  Unchanged with one process."""
    return total * _CURRENT.world if _CURRENT.enabled else total


def rand(n: int, *, dtype=None, device=None, generator=None) -> torch.Tensor:
    """``torch.rand(n)`` for the ``n`` samples of this process's share: the global batch's
    ``n x world`` numbers are drawn (the same on every process) and the share is kept, so that
    the draw equals one process's ``torch.rand(n x world)`` on the whole batch."""
    ctx = _CURRENT
    if not ctx.enabled or generator is not None:
        return torch.rand(n, dtype=dtype, device=device, generator=generator)
    full = torch.rand(n * ctx.world, dtype=dtype, device=device)
    return full[ctx.rank * n:(ctx.rank + 1) * n]


def departures(nets: dict, device) -> list[str]:
    """Why a multi-process run of these networks is not bit for bit one process's run on the
    whole batch (empty when it is, up to float rounding): BatchNorm on the CPU (per-process
    statistics), dropout (the processes' shares draw the same masks), and modules whose
    ``distributed_note`` says why (an image pool: each process keeps its own fakes).  Other
    buffers (spectral norm's power-iteration vectors, landmark statistics bound from the
    training set) depend only on the weights and the data, the same on every process."""
    from torch import nn

    notes = []
    for name, net in nets.items():
        mods = list(net.modules())
        if device.type != "cuda" and any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                                         and not isinstance(m, nn.SyncBatchNorm) for m in mods):
            notes.append(f"{name}'s BatchNorm normalises over each process's share (SyncBatchNorm needs GPUs)")
        if any(isinstance(m, nn.modules.dropout._DropoutNd) and m.p > 0 for m in mods):
            notes.append(f"{name}'s dropout draws the same masks for the same positions of every share")
        for m in mods:  # a module whose buffers each process fills with its own data says so
            note = getattr(m, "distributed_note", None)
            if note:
                notes.append(f"{name}: {note}")
    return list(dict.fromkeys(notes))


# ----------------------------------------------------------------------------- for Lesson 13
def torchrun_command(train_args: list[str], nproc: int = 2) -> list[str]:
    """The command that trains with ``nproc`` processes on this machine:
    ``python -m torch.distributed.run --standalone --nproc_per_node N -m course_lib train ...``
    (``torchrun`` is the same program under a shorter name)."""
    import sys

    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
            "-m", "course_lib", "train", *train_args]


def launch(train_args: list[str], nproc: int = 2, threads_per_process: int = 1, timeout: float = 1800):
    """Run :func:`torchrun_command` from the repository root and return its ``CompletedProcess``
    (stdout and stderr as text); raises ``RuntimeError`` with the end of its output on failure."""
    import subprocess

    from course_lib.lesson import repo_root

    env = {**os.environ, "OMP_NUM_THREADS": str(threads_per_process),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(repo_root()), os.environ.get("PYTHONPATH")]))}
    r = subprocess.run(torchrun_command(train_args, nproc), cwd=repo_root(), env=env, capture_output=True,
                       text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"torchrun with {nproc} processes failed (exit {r.returncode}):\n"
                           + (r.stdout + r.stderr)[-3000:])
    return r


def initial_weights(run) -> dict:
    """``{net: {name: tensor}}``: the parameters a run folder's training started from (its
    ``config.yaml``'s method built after seeding with its seed, as the trainer does)."""
    from pathlib import Path

    from course_lib import checkpoint
    from course_lib.config import TrainConfig
    from course_lib.translator import build_method

    config = TrainConfig.load(Path(run) / "config.yaml")
    checkpoint.seed_everything(config.seed)
    method = build_method(config)
    return {n: {k: p.detach().clone() for k, p in net.named_parameters()} for n, net in method.nets.items()}


def compare_runs(run_a, run_b) -> dict:
    """How far two run folders of the same config are apart: ``loss_gap``, per iteration, the
    largest difference of a logged loss relative to max(1, |loss|); ``weight_gap``, the distance
    between their final parameters over the distance ``run_a``'s moved from where they started
    (:func:`initial_weights`)."""
    import csv
    from pathlib import Path

    def rows(run):
        with open(Path(run) / "log.csv", newline="") as f:
            return list(csv.DictReader(f))

    per_step = []
    for a, b in zip(rows(run_a), rows(run_b)):
        per_step.append(max((abs(float(a[k]) - float(b[k])) / max(1.0, abs(float(a[k])))
                             for k in a if k not in ("step", "lr_factor") and a[k] and b.get(k)), default=0.0))
    from course_lib import checkpoint

    sa = checkpoint.read_run_state(Path(run_a) / "checkpoints" / "last.pt")["nets"]
    sb = checkpoint.read_run_state(Path(run_b) / "checkpoints" / "last.pt")["nets"]
    init = initial_weights(run_a)
    diff = sum(float((sa[n][k].double() - sb[n][k].double()).pow(2).sum()) for n in init for k in init[n]) ** 0.5
    moved = sum(float((sa[n][k].double() - init[n][k].double()).pow(2).sum()) for n in init for k in init[n]) ** 0.5
    return {"loss_gap": per_step, "weight_gap": diff / moved if moved else float("nan")}
