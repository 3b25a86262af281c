"""``generate``: an official-layout StarGAN checkpoint and our LGP-GAN runs applied to a real photo."""
import numpy as np
import pytest
import torch
import torch.nn as nn
from skimage import data

from course_lib import align, cli, facs, trainer
from course_lib.config import preset
from course_lib.images import load_rgb, save_rgb, to_tensor


from official_model import Generator  # the official model.py (vendored, tests/official_stargan)


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    """A small official-layout RaFD generator (c_dim=8) with random weights and running stats."""
    torch.manual_seed(0)
    G = Generator(conv_dim=8, c_dim=8, repeat_num=2)
    with torch.no_grad():
        for m in G.modules():
            if isinstance(m, nn.InstanceNorm2d):  # non-trivial affine parameters and running stats
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.uniform_(-1, 1)
    path = tmp_path_factory.mktemp("stargan") / "200000-G.ckpt"
    torch.save(G.state_dict(), path)
    return G, path


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory):
    path = tmp_path_factory.mktemp("photo") / "astronaut.png"
    save_rgb(data.astronaut(), path)
    return path


def test_official_checkpoint_equals_reference_forward(official):
    G, path = official
    tr = trainer.load_translator(path)
    assert tr.image_size == 128 and "stargan" in tr.model_name
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    labels = torch.tensor([facs.expression_index("happy"), facs.expression_index("sad")])
    with torch.no_grad():
        ref = G.train()(x, torch.eye(8)[labels])  # the official solver.test() runs G in train mode
    assert torch.allclose(tr(x, labels), ref, atol=1e-6)


@pytest.mark.slow
def test_generate_all_targets_on_a_real_photo(official, astronaut, tmp_path):
    out = tmp_path / "grid.png"
    assert cli.main(["generate", "--checkpoint", str(official[1]), "--image", str(astronaut),
                     "--target", "all", "--out", str(out)]) == 0
    grid = load_rgb(out)
    assert grid.shape == (128, 9 * 128, 3)
    aligned = align.align_face(data.astronaut(), size=128)  # dlib detection + alignment
    assert np.array_equal(grid[:, :128], aligned.image)
    # each tile is the reference generator applied to the aligned face
    x = to_tensor(aligned.image)[None]
    with torch.no_grad():
        ref = official[0].train()(x, torch.eye(8)[[facs.expression_index("surprised")]])
    tile = torch.from_numpy(grid[:, 128 * (1 + facs.expression_index("surprised")):][:, :128]).float()
    expected = ref[0].permute(1, 2, 0).add(1).mul(127.5)
    assert (tile - expected).abs().max() <= 1.0  # uint8 rounding
    assert cli.main(["generate", "--checkpoint", str(official[1]), "--image", str(astronaut),
                     "--target", "all", "--out", str(out)]) == 2, "an existing output must not be overwritten"


@pytest.mark.slow
def test_generate_lgp_run_on_a_real_photo(astronaut, tmp_path, capsys):
    cfg = preset("cpu", batch_size=2, steps=1)
    faces = {"image": torch.zeros(2, 3, 64, 64, dtype=torch.uint8), "label": torch.tensor([0, 1]),
             "landmarks": torch.tensor(align.canonical_eyes(64)).float().repeat(34, 1)[None].repeat(2, 1, 1),
             "aus": torch.zeros(2, len(facs.AU_NUMBERS))}
    run = trainer.Trainer(cfg, tmp_path / "run", faces, progress=False)
    run.save_checkpoint()
    out = tmp_path / "happy.png"
    assert cli.main(["generate", "--checkpoint", str(tmp_path / "run"), "--image", str(astronaut),
                     "--target", "happy", "--out", str(out)]) == 0
    assert load_rgb(out).shape == (64, 64, 3)
    assert cli.main(["generate", "--checkpoint", str(tmp_path / "run"), "--image", str(astronaut),
                     "--target", "joy", "--out", str(tmp_path / "x.png")]) == 2
    assert "joy" in capsys.readouterr().err
    # --aligned: a square crop is used as it is (dlib still finds LGP's landmarks on it) ...
    crop = align.align_face(data.astronaut(), size=256).image
    save_rgb(crop, tmp_path / "crop.png")
    assert cli.main(["generate", "--checkpoint", str(tmp_path / "run"), "--image", str(tmp_path / "crop.png"),
                     "--aligned", "--target", "sad", "--out", str(tmp_path / "y.png")]) == 0
    # ... a non-square one is an error that says what was expected
    save_rgb(data.astronaut()[:, :400], tmp_path / "wide.png")
    assert cli.main(["generate", "--checkpoint", str(tmp_path / "run"), "--image", str(tmp_path / "wide.png"),
                     "--aligned", "--target", "sad", "--out", str(tmp_path / "z.png")]) == 2
    assert "square" in capsys.readouterr().err


def test_not_a_checkpoint_is_a_clear_error(tmp_path):
    bad = tmp_path / "weights.pt"
    torch.save({"conv.weight": torch.zeros(3)}, bad)
    with pytest.raises(ValueError, match="weights.pt"):
        trainer.load_translator(bad)
