"""Record the ``cpu`` preset's LGP-GAN losses of the first 50 iterations (issue 14, item 5).

    PYTHONPATH=. python scripts/record_baseline_losses.py tests/data/lgp_gan_cpu_50_iterations.json

Data: 16 rendered 64x64 faces (2 identities x 8 expressions, ``render`` seed 0), fed in the
order of the BatchStream of commit 60e742c (``randperm(16)`` seeded with ``seed + epoch``),
so that changing the trainer's data order (item 10) does not change this reference.
One torch thread, seed 0, the ``cpu`` training preset otherwise unchanged (batch 8, n_critic 5)
with the networks it had then: network size ``cpu`` (8 base channels, transposed convs),
given explicitly because LGP-GAN's ``cpu`` preset now uses ``cpu-wide`` (issue 15).
Run by ``tests/test_method_registry.py`` against the committed JSON.
"""
import json
import sys

import numpy as np
import torch

from course_lib import facs, render


def faces():
    rng = np.random.default_rng(0)
    ids = [render.sample_identity(rng) for _ in range(2)]
    A = np.stack([render.expression_aus(e) for _ in ids for e in facs.EXPRESSIONS])
    imgs, lms, aus = render.render_batch([i for i in ids for _ in facs.EXPRESSIONS], A, 64, supersample=1)
    return {"image": torch.from_numpy(imgs).permute(0, 3, 1, 2).contiguous(),
            "label": torch.arange(8).repeat(2), "landmarks": torch.from_numpy(lms), "aus": torch.from_numpy(aus)}


class OldOrder:
    """The data order of the trainer at commit 60e742c: epoch e visits randperm(N) seeded seed + e."""

    def __init__(self, tensors, batch_size, seed):
        self.t, self.b, self.seed = tensors, batch_size, seed
        self.n = len(tensors["image"])
        self.epoch, self.pos, self.perm = 0, 0, None

    def next(self):
        if self.pos + self.b > self.n:
            self.epoch, self.pos, self.perm = self.epoch + 1, 0, None
        if self.perm is None:
            self.perm = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed + self.epoch))
        idx = self.perm[self.pos:self.pos + self.b]
        self.pos += self.b
        batch = {k: v[idx] for k, v in self.t.items()}
        batch["image"] = batch["image"].float().div(127.5).sub(1.0)
        return batch


def run(tmp, iterations=50, net_size="cpu"):
    from course_lib import trainer
    from course_lib.config import preset

    torch.set_num_threads(1)
    data = faces()
    cfg = preset("cpu", net_size=net_size, log_every=1000, sample_every=1000, checkpoint_every=1000)
    tr = trainer.Trainer(cfg, tmp, data, progress=False)
    stream = OldOrder(data, cfg.batch_size, cfg.seed)
    out = []
    for _ in range(iterations):
        tr._set_lr()
        out.append(tr.iteration(stream.next()))
        tr.step += 1
    return out, tr


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        losses, _ = run(tmp)
    json.dump({"command": "PYTHONPATH=. python scripts/record_baseline_losses.py " + sys.argv[1],
               "code": "commit 60e742c (before issue 14)", "torch": torch.__version__,
               "losses": losses}, open(sys.argv[1], "w"), indent=1)
