"""StarGAN baseline (course_lib.stargan) against a literal copy of the official yunjey/stargan model.py."""
import numpy as np
import pytest
import torch
import torch.nn as nn

from course_lib import stargan


from official_model import Discriminator, Generator, ResidualBlock  # noqa: F401  (the vendored official model.py)



def shapes(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


def test_rafd_layout_keys_and_shapes_equal_official():
    """The official solver's RaFD 128x128 setting: G(64, c_dim=8, 6), D(128, 64, 8, 6)."""
    with torch.device("meta"):
        assert shapes(stargan.Generator(64, 8, 6)) == shapes(Generator(64, 8, 6))
        assert shapes(stargan.Discriminator(128, 64, 8, 6)) == shapes(Discriminator(128, 64, 8, 6))
        pairs = [(stargan.Generator(64, 8, 6), Generator(64, 8, 6)),
                 (stargan.Discriminator(128, 64, 8, 6), Discriminator(128, 64, 8, 6))]
    for ours, ref in pairs:   # same leaf layers (type and hyper-parameters) under the same names
        assert leaves(ours) == leaves(ref)


def leaves(module):
    return [(name, repr(m)) for name, m in module.named_modules() if not list(m.children())]


def _randomised(module, seed):
    """The reference with non-trivial IN affine parameters and running statistics (as after training)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in module.state_dict().items():
            if "running_var" in name:
                t.copy_(torch.rand(t.shape, generator=g) + 0.5)
            elif t.is_floating_point() and ("running_mean" in name or t.dim() == 1):
                t.copy_(torch.randn(t.shape, generator=g) * 0.3 + (1.0 if name.endswith("weight") else 0.0))
    return module


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_loaded_generator_gives_official_outputs(mode, tmp_path):
    torch.manual_seed(0)
    ref = _randomised(Generator(conv_dim=8, c_dim=8, repeat_num=2), 1)
    path = tmp_path / "200000-G.ckpt"
    torch.save(ref.state_dict(), path)
    ours, _ = stargan.from_official_checkpoint(path)
    assert (ours.main[0].in_channels, ours.main[0].out_channels, ours.c_dim) == (11, 8, 8)
    getattr(ref, mode)(), getattr(ours, mode)()
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    c = torch.eye(8)[[3, 6]]
    with torch.no_grad():
        assert torch.allclose(ours(x, c).out, ref(x, c), atol=1e-6)
        assert torch.allclose(ours(x, torch.tensor([3, 6])).out, ref(x, c), atol=1e-6)


def test_loaded_discriminator_gives_official_outputs(tmp_path):
    torch.manual_seed(0)
    ref = Discriminator(image_size=32, conv_dim=4, c_dim=8, repeat_num=4)
    torch.save(ref.state_dict(), tmp_path / "200000-D.ckpt")
    torch.save(_randomised(Generator(4, 8, 1), 2).state_dict(), tmp_path / "200000-G.ckpt")
    _, ours = stargan.from_official_checkpoint(tmp_path / "200000-G.ckpt", tmp_path / "200000-D.ckpt")
    assert ours.image_size == (32, 32)
    x = torch.randn(2, 3, 32, 32)
    for a, b in zip(ours(x), ref(x)):
        assert a.shape == b.shape and torch.allclose(a, b, atol=1e-6)


def test_converter_handles_dataparallel_prefix_and_old_checkpoints():
    ref = _randomised(Generator(4, 3, 1), 3)
    old = {"module." + k: v for k, v in ref.state_dict().items() if not k.endswith("num_batches_tracked")}
    ours = stargan.load_official(stargan.Generator(4, 3, 1), old)
    x, c = torch.rand(1, 3, 8, 8), torch.eye(3)[[1]]
    ref.eval(), ours.eval()
    assert torch.allclose(ours(x, c).out, ref(x, c), atol=1e-6)


def test_wrong_checkpoint_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.ckpt"):
        stargan.from_official_checkpoint(tmp_path / "missing.ckpt")
    bad = tmp_path / "bad.ckpt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="bad.ckpt"):
        stargan.from_official_checkpoint(bad)
    with pytest.raises(ValueError, match="does not match"):
        stargan.load_official(stargan.Generator(4, 5, 1), Generator(4, 8, 1).state_dict())


def test_published_celeba_generator_loads_but_generate_refuses_it(tmp_path):
    """The official repository publishes CelebA generators (c_dim=5 attributes), no RaFD one:
    the layout loads it, but a translator for the course's 8 expressions refuses it by name."""
    from course_lib import trainer

    path = tmp_path / "200000-G.ckpt"
    torch.save(_randomised(Generator(conv_dim=8, c_dim=5, repeat_num=2), 3).state_dict(), path)
    G, _ = stargan.from_official_checkpoint(path)
    assert G.c_dim == 5
    with pytest.raises(ValueError, match=r"200000-G\.ckpt.*c_dim=5.*CelebA"):
        trainer.load_translator(path)
