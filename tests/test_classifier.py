"""course_lib.classifier: architecture, deterministic training, accuracy, save/load."""
import pytest
import torch

from course_lib import classifier as C


def blobs(n=64, size=16, seed=0):
    """Two classes: bright top half (0) vs bright bottom half (1) (mirroring keeps the class)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    x = torch.rand(n, 3, size, size, generator=g) * 0.4 - 0.8
    half = size // 2
    for i in range(n):
        if y[i] == 0:
            x[i, :, :half] += 1.2
        else:
            x[i, :, half:] += 1.2
    return x, y


def test_shapes_and_resize():
    m = C.ExpressionClassifier(image_size=16, conv_dim=4, feature_dim=6, n_aus=3).eval()
    x = torch.zeros(2, 3, 16, 16)
    assert m(x).shape == (2, 8) and m.features(x).shape == (2, 6) and m.predict_aus(x).shape == (2, 3)
    assert m(torch.zeros(2, 3, 24, 24)).shape == (2, 8)          # other sizes are resized
    with pytest.raises(ValueError, match="power of two"):
        C.ExpressionClassifier(image_size=48)
    with pytest.raises(ValueError, match="no AU head"):
        C.ExpressionClassifier(image_size=16, conv_dim=4).predict_aus(x)


def test_training_learns_and_is_deterministic():
    x, y = blobs()
    make = lambda: C.ExpressionClassifier(n_classes=2, image_size=16, conv_dim=4, feature_dim=8)
    a = C.train_classifier(make(), x, y, epochs=10, batch_size=16, lr=3e-3, seed=3, progress=False)
    b = C.train_classifier(make(), x, y, epochs=10, batch_size=16, lr=3e-3, seed=3, progress=False)
    xt, yt = blobs(seed=1)
    assert C.accuracy(a, xt, yt) >= 0.9
    assert torch.equal(C.predict(a, xt), C.predict(b, xt))
    assert torch.allclose(C.extract_features(a, xt), C.extract_features(b, xt))
    # uint8 input gives the same predictions as the float image it encodes
    u8 = xt.clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)
    assert torch.equal(C.predict(a, u8), C.predict(a, u8.float() / 127.5 - 1))


def test_bad_labels_are_refused():
    x, y = blobs(8)
    with pytest.raises(ValueError, match="labels must lie"):
        C.train_classifier(C.ExpressionClassifier(n_classes=2, image_size=16, conv_dim=4), x, y + 5, epochs=1,
                           progress=False)


def test_save_load_roundtrip(tmp_path):
    m = C.ExpressionClassifier(image_size=16, conv_dim=4, feature_dim=6, n_aus=2).eval()
    path = C.save_classifier(m, tmp_path / "sub" / "clf.pt", tag="toy")
    back = C.load_classifier(path)
    x = torch.rand(3, 3, 16, 16) * 2 - 1
    assert back.meta == {"tag": "toy"} and back.hparams == m.hparams
    assert torch.equal(back(x), m(x))
    with pytest.raises(FileNotFoundError, match="no such classifier"):
        C.load_classifier(tmp_path / "missing.pt")
    torch.save({"something": 1}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not an expression classifier"):
        C.load_classifier(tmp_path / "other.pt")


def test_translation_augmentation():
    x = torch.arange(16.0).view(1, 1, 4, 4).expand(2, 3, 4, 4)
    out = C._translate(x, torch.tensor([[0, 0], [1, -1]]), pad=1)
    assert torch.equal(out[0], x[0])
    # (dy, dx) = (1, -1): row i of the output is row i + 1 of the input, column j is column j - 1,
    # with the last row and the first column replicated from the edge
    expected = torch.tensor([[4, 4, 5, 6], [8, 8, 9, 10], [12, 12, 13, 14], [12, 12, 13, 14]], dtype=torch.float32)
    assert torch.equal(out[1, 0], expected)
