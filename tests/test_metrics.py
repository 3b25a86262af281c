"""course_lib.metrics: FID by hand and through torch-fidelity, PSNR/SSIM, AU error, identity."""
import math

import numpy as np
import pytest
import torch
from torch_fidelity.metric_fid import fid_features_to_statistics, fid_statistics_to_metric
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY

from course_lib import metrics
from course_lib.classifier import ExpressionClassifier, extract_features, save_classifier


def gaussian(n=400, d=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)) @ np.diag(np.arange(1, d + 1) / d)


def test_fid_of_a_set_with_itself_is_zero():
    f = gaussian()
    assert abs(metrics.fid_from_features(f, f)) < 1e-6


def test_fid_closed_forms():
    f = gaussian()
    shift = np.array([0.5, -1.0, 0.0, 2.0, 0.0, 0.25])
    # same covariance: the trace terms cancel, FID = |shift|^2
    assert metrics.fid_from_features(f, f + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
    # f2 = a f: S2 = a^2 S, (S S2)^1/2 = a S, so FID = |mu (1 - a)|^2 + (1 - a)^2 Tr(S)
    a = 3.0
    mu, cov = f.mean(0), np.cov(f, rowvar=False)
    expected = (1 - a) ** 2 * (mu @ mu + np.trace(cov))
    assert metrics.fid_from_features(f, a * f) == pytest.approx(expected, rel=1e-6)


def test_hand_fid_matches_torch_fidelity_statistics():
    f1, f2 = gaussian(seed=1), gaussian(seed=2) * 1.3 + 0.2
    tf = fid_statistics_to_metric(fid_features_to_statistics(torch.from_numpy(f1).float()),
                                  fid_features_to_statistics(torch.from_numpy(f2).float()), verbose=False)
    assert metrics.fid_from_features(f1, f2) == pytest.approx(tf["frechet_inception_distance"], abs=1e-3)


def test_registering_twice_does_not_raise():
    assert metrics.register_in_domain_extractor() == metrics.IN_DOMAIN_EXTRACTOR
    assert metrics.register_in_domain_extractor() == metrics.IN_DOMAIN_EXTRACTOR
    assert FEATURE_EXTRACTORS_REGISTRY[metrics.IN_DOMAIN_EXTRACTOR] is metrics.InDomainFeatureExtractor


@pytest.fixture(scope="module")
def images_and_classifier():
    torch.manual_seed(0)
    clf = ExpressionClassifier(image_size=16, conv_dim=8, feature_dim=8).eval()
    with torch.no_grad():
        clf.body[-1].weight.mul_(30.0)        # untrained features are tiny: spread them to O(1)
    # smooth random images: 96 of them, 16x16
    x = torch.nn.functional.interpolate(torch.rand(96, 3, 4, 4) * 2 - 1, size=16, mode="bilinear")
    return x, clf


def test_in_domain_fid_self_zero_shifted_positive(images_and_classifier):
    x, clf = images_and_classifier
    same = metrics.fidelity_metrics(x, x, classifier=clf)
    shifted = metrics.fidelity_metrics((x + 0.5).clamp(-1, 1), x, classifier=clf)
    assert same["kind"] == metrics.IN_DOMAIN_FID == "in-domain FID"
    assert abs(same["fid"]) < 1e-3
    assert shifted["fid"] > 0.1 and shifted["fid"] > 100 * abs(same["fid"])


def test_torch_fidelity_fid_equals_hand_fid_on_the_same_features(images_and_classifier, tmp_path):
    x, clf = images_and_classifier
    y = (x * 0.7 + 0.1)
    u8 = metrics.UInt8Images
    to_float = lambda ds: ds.images.float().div(127.5).sub(1)   # what the extractor sees
    hand = metrics.fid_from_features(extract_features(clf, to_float(u8(y))).double().numpy(),
                                     extract_features(clf, to_float(u8(x))).double().numpy())
    via_module = metrics.fidelity_metrics(y, x, classifier=clf)["fid"]
    via_file = metrics.fidelity_metrics(y, x, classifier=save_classifier(clf, tmp_path / "c.pt"))["fid"]
    assert hand > 0.1
    assert via_module == pytest.approx(hand, abs=1e-3)
    assert via_file == pytest.approx(hand, abs=1e-3)


def test_in_domain_kid_and_no_in_domain_is(images_and_classifier):
    x, clf = images_and_classifier
    out = metrics.fidelity_metrics(x, x.flip(-2), classifier=clf, kid=True)
    assert {"fid", "kid_mean", "kid_std"} <= set(out)
    with pytest.raises(ValueError, match="Inception"):
        metrics.fidelity_metrics(x, x, classifier=clf, isc=True)


def test_uint8_images_conversion():
    ds = metrics.UInt8Images(torch.tensor([-1.0, 0.0, 1.0]).view(1, 3, 1, 1).repeat(2, 1, 2, 2))
    assert ds[0].dtype == torch.uint8 and ds[0][:, 0, 0].tolist() == [0, 128, 255]
    hwc = np.zeros((3, 5, 4, 3), np.uint8)
    assert metrics.UInt8Images(hwc)[0].shape == (3, 5, 4)
    with pytest.raises(ValueError, match="at least 2"):
        metrics.UInt8Images(hwc[:1])


def test_inception_unavailable_offline(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(metrics.InceptionUnavailable, match="unavailable"):
        metrics.inception_weights()
    with pytest.raises(FileNotFoundError, match="--inception-weights"):
        metrics.inception_weights(tmp_path / "nope.pth")
    with pytest.raises(metrics.InceptionUnavailable):
        metrics.fidelity_metrics(np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 8, 8, 3), np.uint8),
                                 kind="inception")


def test_psnr_of_a_constant_offset():
    rng = np.random.default_rng(0)
    a = rng.integers(20, 200, size=(2, 12, 12, 3), dtype=np.uint8)
    for d in (1, 5, 40):
        assert metrics.psnr(a + np.uint8(d), a) == pytest.approx([20 * math.log10(255 / d)] * 2, rel=1e-9)
    assert np.isinf(metrics.psnr(a, a)).all()


def test_ssim_closed_form_on_flat_images():
    # flat images v and v + d: sigma = 0 in every window, so SSIM = (2 mu1 mu2 + C1) / (mu1^2 + mu2^2 + C1)
    v, d = 100.0, 30.0
    c1 = (0.01 * 255) ** 2
    a = np.full((1, 16, 16, 3), v, np.uint8)
    expected = (2 * v * (v + d) + c1) / (v ** 2 + (v + d) ** 2 + c1)
    assert metrics.ssim(a + np.uint8(d), a)[0] == pytest.approx(expected, rel=1e-9)
    rng = np.random.default_rng(1)
    b = rng.integers(0, 256, size=(1, 16, 16, 3), dtype=np.uint8)
    assert metrics.ssim(b, b)[0] == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.ssim(b, a[:, :8])


def test_paired_metrics_accept_float_tensors():
    x = torch.zeros(1, 3, 8, 8)
    # 0.0 -> 128 and 0.1 -> round(140.25) = 140: an offset of 12 grey levels
    assert metrics.psnr(x + 0.1, x)[0] == pytest.approx(20 * math.log10(255 / 12))


def test_outside_change_share_counts_changes_where_the_truth_stays():
    x = np.full((1, 8, 8, 3), 100, np.uint8)
    truth = x.copy()
    truth[0, :4, :4] = 200                          # the "expression": 16 pixels; 48 pixels stay
    out = truth.copy()
    out[0, 6, :3, 1] = 100 + metrics.OUTSIDE_CHANGE_THRESHOLD + 1   # 3 static pixels changed (one channel)
    out[0, 7, :, 0] = 100 + metrics.OUTSIDE_CHANGE_THRESHOLD        # 8 static pixels at the threshold: unchanged
    out[0, 0, 0] = 90                               # inside the expression: not counted
    assert metrics.outside_change_share(out, x, truth) == pytest.approx(3 / 48)
    moved, static = metrics.outside_change_mask(out, x, truth)
    assert static.sum() == 48 and moved.sum() == 3 and moved[0, 6, :3].all()
    assert metrics.outside_change_share(truth, x, truth) == 0.0 and metrics.outside_change_share(x, x, truth) == 0.0
    assert metrics.outside_change_share(out, x, truth, threshold=metrics.OUTSIDE_CHANGE_THRESHOLD - 1) == \
        pytest.approx(11 / 48)
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.outside_change_share(out, x[:, :4], truth)


def test_laplacian_energy_and_high_frequency_ratio():
    i, j = np.meshgrid(np.arange(10), np.arange(10), indexing="ij")
    flat = np.full((10, 10, 3), 128, np.uint8)
    checker = (128 + 20 * (-1) ** (i + j))[..., None].repeat(3, -1).astype(np.uint8)
    ramp = (50 + 10 * j)[..., None].repeat(3, -1).astype(np.uint8)  # linear: Laplacian 0
    # a checkerboard pixel v has four neighbours -v (around 128): |4(-20) - 4(20)| = 160
    assert metrics.laplacian_energy(np.stack([flat, checker, ramp])).tolist() == [0.0, 160.0, 0.0]
    smooth = (128 + 20 * np.sin(i / 2.0))[..., None].repeat(3, -1).astype(np.uint8)
    noisy = np.clip(smooth.astype(int) + 10 * (-1) ** (i + j)[..., None], 0, 255).astype(np.uint8)
    assert metrics.high_frequency_ratio(smooth[None], smooth[None]) == 1.0
    assert metrics.high_frequency_ratio(noisy[None], smooth[None]) > 5
    assert metrics.high_frequency_ratio(smooth[None], noisy[None]) < 0.2


def test_confusion_matrix_rows_are_targets():
    m = metrics.confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 0, 2, 2], 3)
    assert m.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_lpips_unavailable_without_weights(tmp_path, monkeypatch):
    """Offline (no AlexNet weights in the torch hub cache, or no lpips package): an error, never a number."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(metrics.LPIPSUnavailable, match="LPIPS unavailable"):
        metrics.lpips_model()


def test_lpips_distance_batches_and_scales(monkeypatch):
    seen = []

    def net(a, b):
        seen.append((a.shape[0], float(a.min()), float(a.max())))
        return (a - b).abs().mean(dim=(1, 2, 3), keepdim=True)

    a = np.zeros((5, 4, 4, 3), np.uint8)
    b = np.full((5, 4, 4, 3), 255, np.uint8)
    d = metrics.LPIPSDistance(net, batch_size=2)(a, b)
    assert d.tolist() == [2.0] * 5 and [s[0] for s in seen] == [2, 2, 1] and seen[0][1:] == (-1.0, -1.0)


def test_au_error():
    assert metrics.au_error([[0.0, 1.0], [0.5, 0.5]], [[0.5, 0.0], [0.5, 0.5]]).tolist() == [0.75, 0.0]


def test_identity_on_a_real_face_and_on_noise():
    from skimage.data import astronaut

    face = astronaut()[:256, 96:352]                      # the astronaut's head
    noise = np.random.default_rng(0).integers(0, 256, size=face.shape, dtype=np.uint8)
    desc = metrics.FaceDescriptors(upsample=0)
    same = metrics.identity_scores(face[None], face[None], desc)
    assert same.pairs == 1 and same.no_face == 0 and same.distance == pytest.approx(0.0, abs=1e-6)
    assert same.share_same == 1.0
    lost = metrics.identity_scores(np.stack([face, face]), np.stack([face, noise]), desc)
    assert lost.pairs == 2 and lost.no_face == 1 and "no face in 1/2 pairs" in lost.summary()


def test_inception_path_reaches_torch_fidelity(monkeypatch, tmp_path):
    """The wiring only (real Inception weights cannot ship): the weights file, the extractor and
    the metrics asked for reach torch-fidelity, and the result is labelled Inception FID."""
    import torch_fidelity

    seen = {}

    def fake(**kw):
        seen.update(kw)
        return {"frechet_inception_distance": 1.5, "inception_score_mean": 1.25, "inception_score_std": 0.5}

    monkeypatch.setattr(torch_fidelity, "calculate_metrics", fake)
    weights = tmp_path / metrics.INCEPTION_FILE
    weights.write_bytes(b"")
    assert metrics.inception_weights(weights) == weights
    out = metrics.fidelity_metrics(np.zeros((4, 8, 8, 3), np.uint8), np.zeros((4, 8, 8, 3), np.uint8),
                                   kind="inception", inception_path=weights, isc=True)
    assert out == {"kind": "Inception FID", "fid": 1.5, "is_mean": 1.25, "is_std": 0.5}
    assert seen["feature_extractor"] == "inception-v3-compat" and seen["feature_extractor_weights_path"] == str(weights)
    assert seen["isc"] and seen["fid"] and isinstance(seen["input1"], metrics.UInt8Images)
