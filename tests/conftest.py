"""Fixtures shared by several test modules."""
import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """One intra-op thread for a module: on a shared 2-core machine this is several times faster.
    A module opts in with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def faces():
    """16 rendered 64x64 faces (2 identities x 8 expressions, in facs.EXPRESSIONS order) as a training
    batch: image (uint8), label, landmarks (float32 pixels), AU intensities, identity.  Module scope:
    a module may change the tensors it gets without touching another's (test_landmarks.py defines
    its own ``faces``, detected photos)."""
    from course_lib import facs, render

    rng = np.random.default_rng(0)
    ids = [render.sample_identity(rng) for _ in range(2)]
    A = np.stack([render.expression_aus(e) for _ in ids for e in facs.EXPRESSIONS])
    imgs, lms, aus = render.render_batch([i for i in ids for _ in facs.EXPRESSIONS], A, 64, supersample=1)
    return {"image": torch.from_numpy(imgs).permute(0, 3, 1, 2).contiguous(),
            "label": torch.arange(8).repeat(2), "landmarks": torch.from_numpy(lms).float(),
            "aus": torch.from_numpy(aus), "identity": torch.arange(2).repeat_interleave(8)}
