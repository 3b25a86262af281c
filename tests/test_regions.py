"""course_lib.regions: paper sizes, boxes from landmarks, crop, paste-back, background."""
import numpy as np
import pytest
import torch

from course_lib import regions

#: everything on tensors must work on CPU and GPU; the GPU case runs where one is present
DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _face(eye=(64.0, 50.0), nose=(64.0, 70.0), mouth=(64.0, 95.0), spread=6.0):
    """68 points: each group spread symmetrically around the given centre (its exact mean)."""
    lm = np.zeros((68, 2), np.float32)
    for idx, c in ((range(36, 48), eye), (range(27, 36), nose), (range(48, 68), mouth), (range(0, 27), (64, 64))):
        idx = list(idx)
        offs = np.linspace(-spread, spread, len(idx))
        lm[idx, 0] = c[0] + offs
        lm[idx, 1] = c[1] - offs[::-1] * 0.5
    return lm


def test_paper_sizes_at_128():
    assert regions.region_sizes("lgp", 128) == {"eye": (48, 96), "mouth": (48, 64)}          # LGP IV.B
    assert regions.region_sizes("efgan", 128) == {"eyes": (40, 92), "nose": (40, 48), "mouth": (40, 60)}  # EF-GAN 4.1


def test_scaled_sizes_are_even():
    assert regions.region_sizes("lgp", 64) == {"eye": (24, 48), "mouth": (24, 32)}
    assert regions.region_sizes("efgan", 256) == {"eyes": (80, 184), "nose": (80, 96), "mouth": (80, 120)}
    # 96/128 = 0.75: 36x72, 36x48; efgan 30x69 -> 30x70 (69 rounds half up to the even 70)
    assert regions.region_sizes("lgp", 96) == {"eye": (36, 72), "mouth": (36, 48)}
    assert regions.region_sizes("efgan", 96)["eyes"] == (30, 70)
    with pytest.raises(ValueError, match="method"):
        regions.region_sizes("stargan")


def test_boxes_centred_on_landmarks():
    b = regions.region_boxes(_face(), "lgp")
    assert b["eye"].tolist() == [50 - 24, 64 - 48, 48, 96]
    assert b["mouth"].tolist() == [95 - 24, 64 - 32, 48, 64]
    e = regions.region_boxes(_face(), "efgan")
    assert e["eyes"].tolist() == [30, 18, 40, 92]
    assert e["nose"].tolist() == [50, 40, 40, 48]
    assert e["mouth"].tolist() == [75, 34, 40, 60]


def test_boxes_shift_never_shrink():
    b = regions.region_boxes(_face(eye=(5, 3), mouth=(125, 126)), "lgp")
    assert b["eye"].tolist() == [0, 0, 48, 96]
    assert b["mouth"].tolist() == [128 - 48, 128 - 64, 48, 64]


def test_boxes_batched_torch_match_numpy():
    faces = np.stack([_face(), _face(eye=(60, 40), mouth=(70, 100)), _face(eye=(3, 3))])
    t = regions.region_boxes(torch.from_numpy(faces), "efgan")
    for i, f in enumerate(faces):
        for k, box in regions.region_boxes(f, "efgan").items():
            assert t[k][i].tolist() == box.tolist()
    assert t["eyes"].dtype == torch.int64 and t["eyes"].shape == (3, 4)


def test_mean_centres_and_fixed_boxes():
    faces = np.stack([_face(eye=(60, 48), mouth=(60, 90)), _face(eye=(68, 52), mouth=(68, 100))])
    c = regions.mean_region_centres(faces, "efgan")
    expected_eyes = faces[:, 36:48].reshape(-1, 2).mean(0)
    np.testing.assert_allclose(c["eyes"], expected_eyes, atol=1e-5)
    np.testing.assert_allclose(c["mouth"], [64, 95], atol=1e-5)
    b = regions.region_boxes(torch.from_numpy(faces), "efgan", centres=c)
    assert (b["mouth"] == torch.tensor([95 - 20, 64 - 30, 40, 60])).all()   # same box for both faces
    with pytest.raises(ValueError, match="N, 68, 2"):
        regions.mean_region_centres(_face())


def test_bad_landmarks():
    with pytest.raises(ValueError, match="68, 2"):
        regions.region_boxes(np.zeros((5, 2)))


@pytest.mark.parametrize("device", DEVICES)
def test_crop_numpy_and_torch(device):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (128, 128, 3), dtype=np.uint8)
    c = regions.crop(img, np.array([10, 20, 48, 96]))
    assert c.shape == (48, 96, 3) and np.array_equal(c, img[10:58, 20:116])
    x = torch.randn(3, 2, 32, 40, device=device, requires_grad=True)
    boxes = torch.tensor([[0, 0, 8, 12], [5, 7, 8, 12], [24, 28, 8, 12]], device=device)
    out = regions.crop(x, boxes)
    for i, (t, l, h, w) in enumerate(boxes.tolist()):
        assert torch.equal(out[i], x[i, :, t:t + h, l:l + w])
    out.sum().backward()
    assert x.grad.sum().item() == 3 * 2 * 8 * 12
    with pytest.raises(ValueError, match="does not fit"):
        regions.crop(x, torch.tensor([[0, 0, 8, 12], [0, 30, 8, 12], [0, 0, 8, 12]]))
    with pytest.raises(ValueError, match="share"):
        regions.crop(x, torch.tensor([[0, 0, 8, 12], [0, 0, 8, 10], [0, 0, 8, 12]]))


def test_blend_mask_closed_form():
    m = regions.blend_mask(6, 8, 2, dtype=torch.float64)
    for y in range(6):
        for x in range(8):
            d = min(y, 5 - y, x, 7 - x)
            assert m[y, x].item() == pytest.approx(min(1.0, (d + 1) / 3))
    assert torch.equal(regions.blend_mask(4, 4, 0), torch.ones(4, 4))
    with pytest.raises(ValueError, match="feather"):
        regions.blend_mask(6, 8, 4)


@pytest.mark.parametrize("device", DEVICES)
def test_paste_round_trip_is_exact(device):
    g = torch.Generator().manual_seed(1)
    x = (torch.rand(2, 3, 128, 128, generator=g) * 2 - 1).to(device)
    boxes = regions.region_boxes(torch.from_numpy(np.stack([_face(), _face(eye=(70, 44))])).to(device), "lgp")
    assert boxes["eye"].device == x.device
    out = x
    for k, b in boxes.items():
        out = regions.paste(out, regions.crop(x, b), b, feather=6)
    assert torch.equal(out, x)
    img = (np.arange(64 * 64 * 3) % 251).astype(np.uint8).reshape(64, 64, 3)
    box = np.array([5, 9, 24, 48])
    back = regions.paste(img, regions.crop(img, box), box, feather=3)
    assert back.dtype == np.uint8 and np.array_equal(back, img)


@pytest.mark.parametrize("device", DEVICES)
def test_paste_hard_and_feathered(device):
    bg = torch.zeros(1, 1, 10, 10, device=device, requires_grad=True)
    patch = torch.ones(1, 1, 4, 6, device=device, requires_grad=True)
    box = torch.tensor([[2, 3, 4, 6]], device=device)
    hard = regions.paste(bg, patch, box, feather=0)
    expected = torch.zeros(10, 10, device=device)
    expected[2:6, 3:9] = 1
    assert torch.equal(hard[0, 0], expected)
    soft = regions.paste(bg, patch, box, feather=2)
    m = regions.blend_mask(4, 6, 2, device=device)
    assert torch.allclose(soft[0, 0, 2:6, 3:9], m)
    soft.sum().backward()                      # d out / d patch = mask, d out / d bg = 1 - mask
    assert torch.allclose(patch.grad[0, 0], m)
    assert torch.allclose(bg.grad[0, 0], 1 - torch.nn.functional.pad(m, (3, 1, 2, 4)))


@pytest.mark.parametrize("device", DEVICES)
def test_background_union_mask(device):
    x = torch.rand(2, 3, 128, 128, device=device) + 0.5
    boxes = regions.region_boxes(torch.from_numpy(np.stack([_face()] * 2)), "lgp")
    i_bg, mask = regions.background(x, boxes)
    assert mask.shape == (2, 1, 128, 128)
    # eye rows 26-73, mouth rows 71-118: they share 3 rows x the mouth's 64 columns
    assert mask.sum().item() == 2 * (48 * 96 + 48 * 64 - 3 * 64)
    assert (i_bg[:, :, 26:74, 16:112] == 0).all() and (i_bg[:, :, 71:119, 32:96] == 0).all()
    assert torch.equal(i_bg * (1 - mask), x * (1 - mask))
    img = np.full((128, 128, 3), 200, np.uint8)
    nb, nm = regions.background(img, regions.region_boxes(_face(), "lgp"), fill=0)
    assert nb.dtype == np.uint8 and nm.shape == (128, 128, 1) and nb[30, 30, 0] == 0 and nb[5, 5, 0] == 200
