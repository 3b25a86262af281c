"""course_lib.features: the frozen feature network of ECGAN's content loss (Eq. 3) and the landmark GAN's
perceptual loss — VGG19 when its weights load, else the in-domain judge with a logged message, never
random weights; frozen, gradients to the input only.  Nothing is downloaded."""
import logging

import pytest
import torch
import torch.nn.functional as F

from course_lib import classifier as C
from course_lib import features as FT

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No cached VGG19 and a download that fails (as on an offline machine), recording attempts."""
    tried = []

    def fail():
        tried.append(True)
        raise FT.FeatureWeightsUnavailable("offline (test)")

    monkeypatch.setattr(FT, "cached_vgg19", lambda: tmp_path / "hub" / FT.VGG19_FILE)
    monkeypatch.setattr(FT, "_download_vgg19", fail)
    return tried


def _vgg_state(path, upto=2, seed=0):
    """A VGG19 state dict file holding features.0 .. features.<upto> (enough for conv1_2), known values."""
    g = torch.Generator().manual_seed(seed)
    state = {}
    for i, (cin, cout) in {0: (3, 64), 2: (64, 64)}.items():
        if i <= upto:
            state[f"features.{i}.weight"] = torch.randn(cout, cin, 3, 3, generator=g) * 0.1
            state[f"features.{i}.bias"] = torch.randn(cout, generator=g) * 0.1
    torch.save(state, path)
    return state


def test_vgg_layer_names_index_torchvision_vgg19():
    # indices of the ReLU after each conv in torchvision's vgg19().features (printed structure)
    assert FT.VGG19_LAYERS["conv1_1"] == 1 and FT.VGG19_LAYERS["conv1_2"] == 3
    assert FT.VGG19_LAYERS["conv2_2"] == 8 and FT.VGG19_LAYERS["conv3_4"] == 17
    assert FT.VGG19_LAYERS["conv4_4"] == 26 and FT.VGG19_LAYERS["conv5_4"] == 35
    from torchvision.models.vgg import cfgs, make_layers
    with torch.device("meta"):                                # shapes only, no weights allocated
        feats = make_layers(cfgs["E"])                        # torchvision's vgg19().features
        mine = FT.vgg19_features(len(feats) - 1)
    assert [type(m) for m in mine] == [type(m) for m in feats]
    assert [tuple(p.shape) for p in mine.parameters()] == [tuple(p.shape) for p in feats.parameters()]
    for name, i in FT.VGG19_LAYERS.items():
        assert isinstance(feats[i], torch.nn.ReLU) and isinstance(feats[i - 1], torch.nn.Conv2d), name


def test_auto_falls_back_to_the_judge_with_a_logged_message(offline, caplog):
    with caplog.at_level(logging.WARNING, logger="course_lib.features"):
        net = FT.feature_network("auto", layers=("conv1_2", "conv3_4"))
    assert offline == [True]                                   # the download was tried (and failed)
    assert net.kind == "in-domain-judge" and "not VGG19" in net.label and "expression-judge-64px" in net.label
    msgs = [r.getMessage() for r in caplog.records]
    assert len(msgs) == 1 and "VGG19 ImageNet weights unavailable" in msgs[0] and "stand-in" in msgs[0]
    out = net(torch.zeros(2, 3, 64, 64))
    assert out["conv1_2"].shape == (2, 32, 32, 32) and out["conv3_4"].shape == (2, 128, 8, 8)


def test_imagenet_errors_clearly_when_unavailable(offline):
    with pytest.raises(FT.FeatureWeightsUnavailable, match="VGG19 ImageNet weights unavailable"):
        FT.feature_network("imagenet")


def test_standin_carries_the_shipped_judge_weights_not_random_ones():
    net = FT.feature_network("in-domain", layers=("conv1_2", "conv2_2", "conv3_4", "conv4_4"))
    judge = C.load_judge(FT.standin_judge_file())
    mine = [p for p in net.parameters()]
    theirs = [p for p in judge.body[:12].parameters()]
    assert len(mine) == len(theirs) == 16           # 4 x (conv weight, bias, BN weight, bias)
    for a, b in zip(mine, theirs):
        assert torch.equal(a, b)
    # same output as the judge's own body on the same input (BN in eval mode: running statistics)
    x = torch.rand(3, 3, 64, 64) * 2 - 1
    assert torch.allclose(net(x)["conv4_4"], judge.body[:12](x), atol=1e-6)
    # two builds agree (nothing initialised at random)
    assert torch.equal(FT.feature_network("in-domain")(x)["conv1_2"], net(x)["conv1_2"])


def test_auto_uses_cached_vgg19_and_computes_phi_ij(monkeypatch, tmp_path):
    state = _vgg_state(tmp_path / FT.VGG19_FILE)
    monkeypatch.setattr(FT, "cached_vgg19", lambda: tmp_path / FT.VGG19_FILE)
    monkeypatch.setattr(FT, "_download_vgg19", lambda: pytest.fail("no download when cached"))
    net = FT.feature_network("auto", layers=("conv1_1", "conv1_2"))
    assert net.kind == "vgg19-imagenet" and net.label == "VGG19 (ImageNet weights)"
    x = torch.rand(2, 3, 16, 16) * 2 - 1
    # independent computation: ImageNet normalisation, conv, ReLU, conv, ReLU
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    h1 = F.relu(F.conv2d(((x + 1) / 2 - mean) / std, state["features.0.weight"], state["features.0.bias"], padding=1))
    h2 = F.relu(F.conv2d(h1, state["features.2.weight"], state["features.2.bias"], padding=1))
    out = net(x)
    assert torch.allclose(out["conv1_1"], h1, atol=1e-5) and torch.allclose(out["conv1_2"], h2, atol=1e-5)


def test_weights_path_errors_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        FT.feature_network(tmp_path / "nope.pth")
    _vgg_state(tmp_path / "short.pth", upto=0)                 # conv1_1 only: conv1_2 would be random
    with pytest.raises(ValueError, match=r"short.pth: not a VGG19 state dict \(missing features.2.bias, features.2.weight"):
        FT.feature_network(tmp_path / "short.pth", layers=("conv1_2",))
    (tmp_path / "junk.pth").write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="junk.pth: cannot read"):
        FT.feature_network(tmp_path / "junk.pth")
    with pytest.raises(ValueError, match="conv9_9"):
        FT.feature_network("in-domain", layers=("conv9_9",))


def test_frozen_gradients_reach_the_input_only(tmp_path):
    _vgg_state(tmp_path / "v.pth")
    for net in (FT.feature_network("in-domain"), FT.feature_network(tmp_path / "v.pth")):
        net.train()                                            # cannot leave eval mode
        assert not net.training and not any(m.training for m in net.modules())
        before = {k: v.clone() for k, v in net.state_dict().items()}
        x = (torch.rand(2, 3, 32, 32) * 2 - 1).requires_grad_()
        net(x)["conv1_2"].square().mean().backward()
        assert x.grad is not None and x.grad.abs().sum() > 0
        assert all(not p.requires_grad and p.grad is None for p in net.parameters())
        after = net.state_dict()
        assert all(torch.equal(before[k], after[k]) for k in before)   # BN statistics did not move
