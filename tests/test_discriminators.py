"""PatchGAN + classifier of LGP-GAN Table III (course_lib.discriminators)."""
import pytest
import torch

from course_lib.discriminators import PatchDiscriminator, receptive_field


def table_iii_params(n_layers, h, w, n_classes, conv_dim=64, in_ch=3):
    """From Table III: 4x4 convs with bias, conv_dim*2^i channels; 3x3 head -> 1; (h/2^L x w/2^L) head -> n."""
    count, cin = 0, in_ch
    for i in range(n_layers):
        cout = conv_dim * 2 ** i
        count += 16 * cin * cout + cout
        cin = cout
    return count + 9 * cin + (h // 2 ** n_layers) * (w // 2 ** n_layers) * cin * n_classes


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def test_table_iii_global_and_local_parameter_counts():
    with torch.device("meta"):   # shapes only: skip the weight initialisation of 44M parameters
        assert n_params(PatchDiscriminator(128, 8, 64, 6)) == table_iii_params(6, 128, 128, 8)
        assert n_params(PatchDiscriminator((48, 96), 8, 64, 4)) == table_iii_params(4, 48, 96, 8)
        assert n_params(PatchDiscriminator((48, 64), 8, 64, 4)) == table_iii_params(4, 48, 64, 8)


def test_table_iii_channels_global_reaches_2048_local_512():
    with torch.device("meta"):
        assert PatchDiscriminator(128, 8, 64, 6).conv1.in_channels == 2048
    assert PatchDiscriminator((48, 96), 8, 64, 4).conv1.in_channels == 512


@pytest.mark.parametrize("size,layers", [((48, 96), 4), ((48, 64), 4), ((24, 48), 3), ((24, 32), 3),
                                         ((40, 92), 2), ((64, 64), 5)])
def test_non_square_shapes(size, layers):
    d = PatchDiscriminator(size, n_classes=8, conv_dim=4, n_layers=layers)
    src, cls = d(torch.randn(2, 3, *size))
    assert src.shape == (2, 1, size[0] // 2 ** layers, size[1] // 2 ** layers)
    assert cls.shape == (2, 8)


def test_classifier_kernel_is_h_w_over_2_to_l():
    assert tuple(PatchDiscriminator((48, 96), 8, 4, 4).conv2.kernel_size) == (3, 6)   # 48/16 x 96/16
    assert tuple(PatchDiscriminator(128, 8, 4, 6).conv2.kernel_size) == (2, 2)        # 128/64


def test_no_normalisation_and_leaky_slope():
    d = PatchDiscriminator(32, 8, 4, 3)
    names = {type(m).__name__ for m in d.modules()}
    assert not any("Norm" in n for n in names)
    assert all(m.negative_slope == 0.01 for m in d.modules() if isinstance(m, torch.nn.LeakyReLU))


def test_receptive_field_closed_form_and_empirical():
    # closed form: head 3x3, then each 4x4 stride-2 layer: r -> 2(r - 1) + 4
    assert [receptive_field(n) for n in (1, 2, 4, 6)] == [8, 18, 78, 318]
    # empirical: the input pixels that influence one central score
    torch.manual_seed(0)
    d = PatchDiscriminator(64, 2, 2, 2)
    x = torch.randn(1, 3, 64, 64, requires_grad=True)
    src, _ = d(x)
    src[0, 0, 8, 8].backward()
    rows = x.grad.abs().sum(dim=(0, 1, 3)).nonzero()
    assert int(rows.max() - rows.min() + 1) == d.receptive_field == 18


def test_clear_errors():
    with pytest.raises(ValueError, match="divisible by 2\\*\\*n_layers = 64"):
        PatchDiscriminator((48, 96), n_layers=6)
    d = PatchDiscriminator((48, 64), 8, 4, 4)
    with pytest.raises(ValueError, match=r"x: expected .*\(B, 3, H, W\)"):
        d(torch.randn(1, 1, 48, 64))
    with pytest.raises(ValueError, match="built for 48x64"):
        d(torch.randn(1, 3, 64, 64))
