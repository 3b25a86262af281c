"""Attention generator of LGP-GAN Table II and Eq. 1 (course_lib.generators)."""
import pytest
import torch

from course_lib import ganimation
from course_lib.generators import AttentionGenerator, blend, flip_mask_convention


def table_ii_params(n, conv_dim=64, repeat=6):
    """Parameter count from LGP-GAN Table II: bias-free convs (k*k*cin*cout), IN affine (2*cout)."""
    d = conv_dim
    rows = [(7, 3 + n, d), (4, d, 2 * d), (4, 2 * d, 4 * d)]          # Conv+IN+ReLU
    rows += [(3, 4 * d, 4 * d)] * (2 * repeat)                        # residual blocks: 2 convs each
    rows += [(4, 4 * d, 2 * d), (4, 2 * d, d)]                        # DeConv+IN+ReLU
    count = sum(k * k * cin * cout + 2 * cout for k, cin, cout in rows)
    return count + 7 * 7 * d * 3 + 7 * 7 * d * 1                     # colour and mask heads (no IN)


def n_params(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("repeat", [6, 3])
def test_parameter_count_equals_table_ii(repeat):
    assert n_params(AttentionGenerator(cond_dim=8, conv_dim=64, repeat_num=repeat)) == table_ii_params(8, 64, repeat)


def test_parameter_count_small_config():
    assert n_params(AttentionGenerator(cond_dim=5, conv_dim=8, repeat_num=2)) == table_ii_params(5, 8, 2)


@pytest.mark.parametrize("size", [(48, 96), (48, 64), (24, 48), (24, 32), (32, 32), (40, 92)])
def test_output_shapes_for_region_sizes(size):
    torch.manual_seed(0)
    g = AttentionGenerator(cond_dim=8, conv_dim=4, repeat_num=1)
    x = torch.rand(2, 3, *size) * 2 - 1
    out, color, mask = g(x, torch.tensor([1, 5]))
    assert out.shape == color.shape == (2, 3, *size) and mask.shape == (2, 1, *size)
    assert mask.min() >= 0 and mask.max() <= 1 and color.abs().max() <= 1


def test_eq1_both_conventions_closed_form():
    x, c, m = torch.full((1, 3, 1, 2), 0.5), torch.full((1, 3, 1, 2), -1.0), torch.tensor([[[[0.0, 0.25]]]])
    # LGP Eq. 1: (1 - M) C + M x ; EF-GAN Eq. 1: M C + (1 - M) x
    assert torch.allclose(blend(x, c, m, "lgp")[0, 0, 0], torch.tensor([-1.0, 0.75 * -1 + 0.25 * 0.5]))
    assert torch.allclose(blend(x, c, m, "efgan")[0, 0, 0], torch.tensor([0.5, 0.25 * -1 + 0.75 * 0.5]))
    with pytest.raises(ValueError, match="mask_convention"):
        blend(x, c, m, "other")


def test_generator_output_is_eq1_of_its_heads():
    torch.manual_seed(1)
    for conv in ("lgp", "efgan"):
        g = AttentionGenerator(cond_dim=3, conv_dim=4, repeat_num=1, mask_convention=conv)
        x = torch.rand(1, 3, 8, 8) * 2 - 1
        out, color, mask = g(x, torch.tensor([[0.0, 1.0, 0.0]]))
        expected = (1 - mask) * color + mask * x if conv == "lgp" else mask * color + (1 - mask) * x
        assert torch.allclose(out, expected)


def test_flip_mask_convention_is_same_model():
    torch.manual_seed(2)
    g = AttentionGenerator(cond_dim=3, conv_dim=4, repeat_num=1)
    f = flip_mask_convention(g)
    x, c = torch.rand(2, 3, 8, 12) * 2 - 1, torch.tensor([0, 2])
    a, b = g(x, c), f(x, c)
    assert f.mask_convention == "efgan"
    assert torch.allclose(a.out, b.out, atol=1e-6) and torch.allclose(a.mask, 1 - b.mask, atol=1e-6)


def test_index_and_one_hot_labels_agree():
    torch.manual_seed(3)
    g = AttentionGenerator(cond_dim=4, conv_dim=4, repeat_num=1)
    x = torch.rand(2, 3, 8, 8)
    one_hot = torch.tensor([[0, 0, 1, 0], [1, 0, 0, 0]], dtype=torch.float32)
    assert torch.allclose(g(x, torch.tensor([2, 0])).out, g(x, one_hot).out)


def test_au_conditioning_is_continuous():
    torch.manual_seed(4)
    g = ganimation.Generator(conv_dim=4, c_dim=5, repeat_num=1)
    x = torch.rand(1, 3, 8, 8)
    a = g(x, torch.zeros(1, 5)).out
    b = g(x, torch.full((1, 5), 0.5)).out
    assert not torch.allclose(a, b)
    with pytest.raises(ValueError, match="c: expected"):
        g(x, torch.tensor([1]))            # indices are not AU intensities


def test_clear_errors():
    g = AttentionGenerator(cond_dim=8, conv_dim=4, repeat_num=1)
    with pytest.raises(ValueError, match=r"x: expected .*\(B, 3, H, W\)"):
        g(torch.rand(1, 4, 8, 8), torch.tensor([0]))
    with pytest.raises(ValueError, match=r"c: expected .*\(B=1, 8\)"):
        g(torch.rand(1, 3, 8, 8), torch.zeros(1, 7))
    with pytest.raises(ValueError, match=r"c: class indices"):
        g(torch.rand(1, 3, 8, 8), torch.tensor([8]))
    with pytest.raises(ValueError, match="divisible by 4"):
        g(torch.rand(1, 3, 10, 8), torch.tensor([0]))
    with pytest.raises(ValueError, match="mask_convention"):
        AttentionGenerator(mask_convention="ganimation")


def test_same_seed_same_model():
    torch.manual_seed(5)
    a = AttentionGenerator(cond_dim=2, conv_dim=4, repeat_num=1)
    torch.manual_seed(5)
    b = AttentionGenerator(cond_dim=2, conv_dim=4, repeat_num=1)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


class OfficialGANimationGenerator(torch.nn.Module):
    """Reference: albertpumarola/GANimation networks/generator_wasserstein_gan.py (layout copied literally)."""

    def __init__(self, conv_dim=64, c_dim=5, repeat_num=6):
        super().__init__()
        nn = torch.nn
        layers = [nn.Conv2d(3 + c_dim, conv_dim, kernel_size=7, stride=1, padding=3, bias=False),
                  nn.InstanceNorm2d(conv_dim, affine=True), nn.ReLU(inplace=True)]
        curr_dim = conv_dim
        for i in range(2):
            layers.append(nn.Conv2d(curr_dim, curr_dim * 2, kernel_size=4, stride=2, padding=1, bias=False))
            layers.append(nn.InstanceNorm2d(curr_dim * 2, affine=True))
            layers.append(nn.ReLU(inplace=True))
            curr_dim = curr_dim * 2
        for i in range(repeat_num):
            layers.append(OfficialResidualBlock(curr_dim, curr_dim))
        for i in range(2):
            layers.append(nn.ConvTranspose2d(curr_dim, curr_dim // 2, kernel_size=4, stride=2, padding=1, bias=False))
            layers.append(nn.InstanceNorm2d(curr_dim // 2, affine=True))
            layers.append(nn.ReLU(inplace=True))
            curr_dim = curr_dim // 2
        self.main = nn.Sequential(*layers)
        self.img_reg = nn.Sequential(nn.Conv2d(curr_dim, 3, kernel_size=7, stride=1, padding=3, bias=False), nn.Tanh())
        self.attetion_reg = nn.Sequential(nn.Conv2d(curr_dim, 1, kernel_size=7, stride=1, padding=3, bias=False),
                                          nn.Sigmoid())

    def forward(self, x, c):
        c = c.unsqueeze(2).unsqueeze(3).expand(c.size(0), c.size(1), x.size(2), x.size(3))
        x = torch.cat([x, c], dim=1)
        features = self.main(x)
        return self.img_reg(features), self.attetion_reg(features)


class OfficialResidualBlock(torch.nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        nn = torch.nn
        self.main = nn.Sequential(
            nn.Conv2d(dim_in, dim_out, kernel_size=3, stride=1, padding=1, bias=False),
            nn.InstanceNorm2d(dim_out, affine=True), nn.ReLU(inplace=True),
            nn.Conv2d(dim_out, dim_out, kernel_size=3, stride=1, padding=1, bias=False),
            nn.InstanceNorm2d(dim_out, affine=True))

    def forward(self, x):
        return x + self.main(x)


def test_official_ganimation_generator_loads_and_matches():
    torch.manual_seed(6)
    ref = OfficialGANimationGenerator(conv_dim=4, c_dim=5, repeat_num=1)
    with torch.no_grad():
        for name, p in ref.named_parameters():
            if p.dim() == 1:
                p.add_(torch.randn_like(p) * 0.3)   # non-trivial IN affine parameters
    ours = ganimation.Generator(conv_dim=4, c_dim=5, repeat_num=1)
    ours.load_state_dict(ganimation.convert_official_state_dict(ref.state_dict()), strict=True)
    x, au = torch.rand(2, 3, 8, 8) * 2 - 1, torch.rand(2, 5)
    color, mask = ref(x, au)
    out = ours(x, au)
    assert torch.allclose(out.color, color, atol=1e-6) and torch.allclose(out.mask, mask, atol=1e-6)
    # GANimation's own combination: mask * real + (1 - mask) * colour, LGP-GAN Eq. 1
    assert torch.allclose(out.out, mask * x + (1 - mask) * color, atol=1e-6)
