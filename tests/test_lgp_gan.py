"""LGP-GAN cascade (course_lib.lgp_gan) and the model presets/factory (course_lib.presets)."""
import pytest
import torch

from course_lib import lgp_gan, presets, regions
from course_lib.lgp_gan import LGPDiscriminator, LGPGenerator
from test_discriminators import table_iii_params
from test_generators import table_ii_params


def n_params(m):
    return sum(p.numel() for p in m.parameters())


def boxes_for(batch, size, seed=0):
    """Region boxes of a synthetic face layout: eyes at 40% height, mouth at 75% (jittered)."""
    g = torch.Generator().manual_seed(seed)
    lm = torch.zeros(batch, 68, 2)
    lm[:, 36:48] = torch.tensor([0.5 * size, 0.40 * size])
    lm[:, 48:68] = torch.tensor([0.5 * size, 0.75 * size])
    lm += torch.randn(batch, 68, 2, generator=g) * 0.02 * size
    return regions.region_boxes(lm, "lgp", size)


def tiny(size=32, feather=2, convention="lgp"):
    torch.manual_seed(0)
    G = LGPGenerator(n_classes=8, conv_dim=4, repeat_global=2, repeat_local=1, feather=feather,
                     mask_convention=convention)
    sizes = regions.region_sizes("lgp", size)
    D = LGPDiscriminator(size, sizes, 8, conv_dim=4, layers_global=3, layers_local=2)
    return G, D


@pytest.mark.parametrize("size", [32, 64, 128])
def test_forward_returns_every_intermediate_with_region_shapes(size):
    G, _ = tiny(size)
    x = torch.rand(2, 3, size, size) * 2 - 1
    r = G(x, torch.tensor([4, 7]), boxes_for(2, size))
    for name, (h, w) in regions.region_sizes("lgp", size).items():
        assert r[f"{name}_in"].shape == r[f"{name}_color"].shape == r[f"{name}_out"].shape == (2, 3, h, w)
        assert r[f"{name}_mask"].shape == (2, 1, h, w)
    for key in ("background", "aggregated", "color", "out"):
        assert r[key].shape == (2, 3, size, size)
    assert r["mask"].shape == r["region_mask"].shape == (2, 1, size, size)
    if size == 128:
        assert r["eye_in"].shape[-2:] == (48, 96) and r["mouth_in"].shape[-2:] == (48, 64)   # paper IV.B


def test_stages_compose_as_in_the_paper():
    G, _ = tiny(32, feather=0)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    b = boxes_for(2, 32)
    r = G(x, torch.tensor([1, 2]), b)
    for name in ("eye", "mouth"):   # Stage I: crop, then Eq. 1 of the local generator
        t, l, h, w = b[name][0].tolist()
        assert torch.equal(r[f"{name}_in"][0], x[0, :, t:t + h, l:l + w])
        m, c = r[f"{name}_mask"], r[f"{name}_color"]
        assert torch.allclose(r[f"{name}_out"], (1 - m) * c + m * r[f"{name}_in"])
    # Stage II input: I_bg outside the regions, the generated regions inside (hard paste, mouth last)
    outside = r["region_mask"] == 0
    assert torch.equal(r["aggregated"].masked_select(outside), x.masked_select(outside))
    t, l, h, w = b["mouth"][1].tolist()
    assert torch.allclose(r["aggregated"][1, :, t:t + h, l:l + w], r["mouth_out"][1], atol=1e-6)
    m = r["mask"]
    assert torch.allclose(r["out"], (1 - m) * r["color"] + m * r["aggregated"])
    assert m.min() >= 0 and m.max() <= 1


def test_efgan_convention_propagates():
    G, _ = tiny(32, convention="efgan")
    x = torch.rand(1, 3, 32, 32)
    r = G(x, torch.tensor([0]), boxes_for(1, 32))
    m = r["eye_mask"]
    assert torch.allclose(r["eye_out"], m * r["eye_color"] + (1 - m) * r["eye_in"])


def test_gradients_reach_every_parameter():
    G, D = tiny(32)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    r = G(x, torch.tensor([3, 5]), boxes_for(2, 32))
    out = D({"eye": r["eye_out"], "mouth": r["mouth_out"], "global": r["out"]})
    sum(src.mean() + cls.pow(2).mean() for src, cls in out.values()).backward()
    for module in (G, D):
        dead = [n for n, p in module.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
        assert not dead, f"no gradient reached {dead}"


def test_discriminators_table_iii_sizes():
    with torch.device("meta"):
        D = LGPDiscriminator(128)   # paper: D_eye 48x96 and D_mouth 48x64 with 4 layers, D_global 6
    assert D["eye"].image_size == (48, 96) and D["mouth"].image_size == (48, 64)
    assert n_params(D) == (table_iii_params(4, 48, 96, 8) + table_iii_params(4, 48, 64, 8)
                           + table_iii_params(6, 128, 128, 8))


def test_paper_preset_parameter_counts_from_tables():
    with torch.device("meta"):
        m = presets.build_models("lgp-gan", "paper")
        s = presets.build_models("stargan", "paper")
    assert n_params(m["G"]) == 2 * table_ii_params(8, 64, 3) + table_ii_params(8, 64, 6)
    assert n_params(m["D"]) == (table_iii_params(4, 48, 96, 8) + table_iii_params(4, 48, 64, 8)
                                + table_iii_params(6, 128, 128, 8))
    # StarGAN: Table II trunk without the mask head; its D is Table III's global one
    assert n_params(s["G"]) == table_ii_params(8, 64, 6) - 7 * 7 * 64
    assert n_params(s["D"]) == table_iii_params(6, 128, 128, 8)


@pytest.mark.parametrize("name", [n for n in presets.MODELS if n in ("lgp-gan", "stargan", "ganimation")])
def test_cpu_preset_builds_and_runs(name):
    p = presets.get_preset("cpu")
    torch.manual_seed(0)
    m = presets.build_models(name, p, cond_dim=5)
    x = torch.rand(1, 3, p.image_size, p.image_size) * 2 - 1
    if name == "lgp-gan":
        r = m["G"](x, torch.tensor([2]), boxes_for(1, p.image_size))
        d = m["D"]({"eye": r["eye_out"], "mouth": r["mouth_out"], "global": r["out"]})
        assert all(cls.shape == (1, 8) for _, cls in d.values())
    else:
        c = torch.rand(1, 5) if name == "ganimation" else torch.tensor([2])
        out = m["G"](x, c).out
        src, cls = m["D"](out)
        assert out.shape == x.shape and cls.shape == (1, 5 if name == "ganimation" else 8)


def test_clear_errors():
    G, D = tiny(32)
    x = torch.rand(1, 3, 32, 32)
    with pytest.raises(ValueError, match="missing region"):
        G(x, torch.tensor([0]), {"eye": boxes_for(1, 32)["eye"]})
    with pytest.raises(ValueError, match=r"c: expected"):
        G(x, torch.zeros(1, 5), boxes_for(1, 32))
    with pytest.raises(ValueError, match=r"x: expected"):
        G(torch.rand(1, 1, 32, 32), torch.tensor([0]), boxes_for(1, 32))
    with pytest.raises(ValueError, match="unknown discriminator"):
        D({"nose": x})
    with pytest.raises(ValueError, match="preset='gpu'"):
        presets.build_models("lgp-gan", "gpu")
    with pytest.raises(ValueError, match="expected one of"):
        presets.build_models("no-such-gan")


def test_local_region_names():
    assert lgp_gan.LOCAL_REGIONS == tuple(regions.LGP_REGION_SIZES)
