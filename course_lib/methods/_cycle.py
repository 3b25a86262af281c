"""What ECGAN and its two baselines (CycleGAN, pix2pix) share: the two domains, how an iteration
draws its images, the update order and how a trained model translates.

**Domains** (ECGAN Fig. 4: neutral to every other expression and back): X = the neutral training
faces, Y = the faces with any other expression.  The methods need the whole training set, not
only the batch: the trainer hands it over once through :meth:`CycleMethod.bind_data` (its
``bind_data`` hook).

**One iteration** draws, for each image of the batch (the paper's batch is 1), an x and a y: the
batch image is the x when it is neutral, else the y; the other one is drawn uniformly at random
from the other domain (CycleGAN's ``UnalignedDataset``: A in order, B at random), with torch's
global RNG so that a resumed run draws the same.  pix2pix needs pairs instead: the other image
is the same identity's (:meth:`CycleMethod.draw`).  z is the one-hot vector of y's expression.

**Update order** (CycleGAN's ``optimize_parameters``): the generators' step first, then the
discriminators' step on the same fakes (through the image pools for the unpaired methods).

**Translating** (``translate(images, target_labels, extra)``): these methods learn neutral <-> expression
only, so an expression-to-expression translation goes through neutral (our choice): the input is
first neutralised (left as it is when ``extra["source"]`` says it is neutral), then the target
expression is added; to neutral, the neutralised face is returned.  The course's generic evaluation
gives no source labels; a method then neutralises every input (the identity loss, Eq. 4, trains
G_Y->X to leave a neutral face unchanged).
"""
from __future__ import annotations

from course_lib.methods import Method


class CycleMethod(Method):
    """Base of ``ecgan``, ``cyclegan`` and ``pix2pix`` (module docstring)."""

    conditioning = "label"
    needs_landmarks = False
    batch_keys = ("image", "label", "identity")
    min_batch_size = 1              #: the paper's batch is 1 (no targets are drawn from the batch)
    paired = False                  #: pix2pix: x and y of the same identity
    mask_needed = False             #: ECGAN: face masks from the training images' landmarks

    def __init__(self, hyper=None, size="cpu", build: bool = True):
        self._data = None
        super().__init__(hyper, size, build)

    # -- data -------------------------------------------------------------------------
    def bind_data(self, tensors: dict) -> None:
        """Keep the training set (uint8 ``image``, ``label``, ``identity``, ``landmarks``): the domains
        X (neutral) and Y (the rest), the pairs of each identity, and ECGAN's face masks."""
        import torch

        from course_lib.ecgan import NEUTRAL

        missing = [k for k in ("image", "label", "identity") if k not in tensors]
        if missing:
            raise ValueError(f"{self.name}: the training data must carry 'image', 'label' and 'identity'; "
                             f"missing {missing}")
        label, ident = tensors["label"].long(), tensors["identity"].long()
        xs, ys = torch.nonzero(label == NEUTRAL).flatten(), torch.nonzero(label != NEUTRAL).flatten()
        if len(xs) == 0 or len(ys) == 0:
            raise ValueError(f"{self.name}: the training data needs neutral faces (domain X) and faces with "
                             f"another expression (domain Y); it has {len(xs)} and {len(ys)}")
        self._data = {"image": tensors["image"], "label": label, "identity": ident, "x_index": xs, "y_index": ys}
        if self.paired:
            neutral_of = {}
            for i in xs.tolist():
                neutral_of.setdefault(int(ident[i]), i)
            others = {}
            for i in ys.tolist():
                if int(ident[i]) in neutral_of:
                    others.setdefault(int(ident[i]), []).append(i)
            if not others:
                raise ValueError(f"{self.name} trains on pairs of the same identity (a neutral face and another "
                                 "expression); the training data has none")
            self._data["neutral_of"] = neutral_of
            self._data["others"] = {k: torch.tensor(v) for k, v in others.items()}
            self._data["pair_ids"] = torch.tensor(sorted(others))
        if self.mask_needed:
            from course_lib.ecgan import face_mask

            lm = tensors.get("landmarks")
            if lm is None or torch.isnan(lm).any():
                n = len(label) if lm is None else int(torch.isnan(lm).flatten(1).any(1).sum())
                raise ValueError(f"{self.name}: the face mask loss (Eq. 5) needs the 68 landmarks of every training "
                                 f"image; {n} images have none (detect them first: python -m course_lib preprocess)")
            self._data["mask"] = face_mask(lm, tensors["image"].shape[-1]).to(torch.uint8)

    def draw(self, batch: dict) -> dict:
        """x, y (float images in [-1,1]), y's labels, and (ECGAN) their face masks, for a batch."""
        import torch

        from course_lib.ecgan import NEUTRAL
        from course_lib.images import unit_from_uint8

        if self._data is None:
            raise ValueError(f"{self.name}: no training data bound; call method.bind_data(tensors) with the training "
                             "set (the trainer does) before preparing a batch")
        d = self._data
        label, ident = batch["label"].long().cpu(), batch["identity"].long().cpu()
        B = len(label)
        xi, yi = torch.empty(B, dtype=torch.long), torch.empty(B, dtype=torch.long)
        # the batch image's index in the bound data is not in the batch: find it by (identity, label)
        own = [self._index_of(int(i), int(lab)) for i, lab in zip(ident, label)]
        for k in range(B):
            neutral = int(label[k]) == NEUTRAL
            if self.paired:
                person = int(ident[k])
                if person not in d["others"]:     # no pair for this identity: another identity's pair
                    person = int(d["pair_ids"][torch.randint(len(d["pair_ids"]), ())])
                    neutral = True
                    own[k] = None
                x = d["neutral_of"][person] if not neutral or own[k] is None else own[k]
                choices = d["others"][person]
                y = own[k] if not neutral else int(choices[torch.randint(len(choices), ())])
            else:
                pool = d["y_index"] if neutral else d["x_index"]
                other = int(pool[torch.randint(len(pool), ())])
                x, y = (own[k], other) if neutral else (other, own[k])
            xi[k], yi[k] = x, y
        dev = batch["image"].device
        out = {"x": unit_from_uint8(d["image"][xi]).to(dev), "y": unit_from_uint8(d["image"][yi]).to(dev),
               "y_label": d["label"][yi].to(dev), "x_index": xi, "y_index": yi}
        if "mask" in d:
            out["mask_x"], out["mask_y"] = d["mask"][xi].float().to(dev), d["mask"][yi].float().to(dev)
        return out

    def _index_of(self, identity: int, label: int) -> int:
        d = self._data
        if "lookup" not in d:
            d["lookup"] = {(int(i), int(lab)): k for k, (i, lab) in enumerate(zip(d["identity"], d["label"]))}
        return d["lookup"][(identity, label)]

    def prepare(self, batch: dict) -> dict:
        self.check_batch(batch)
        return {**batch, **self.draw(batch)}

    def updates(self, step: int, config) -> tuple[str, ...]:
        """The generators' step, then the discriminators' (CycleGAN's ``optimize_parameters``), at
        every iteration; ``config.n_critic`` is not used."""
        return ("G", "D")

    def label_condition(self, labels):
        return labels

    # -- translation --------------------------------------------------------------------
    def neutralise(self, images, source=None):
        raise NotImplementedError

    def express(self, neutral_images, target):
        raise NotImplementedError

    def translate(self, images, target, extra=None) -> dict:
        """``target``: labels (B,); ``extra["source"]``: the inputs' labels when known (module docstring)."""
        import torch

        from course_lib.ecgan import NEUTRAL

        target = torch.as_tensor(target).long().to(images.device).reshape(-1)
        source = (extra or {}).get("source")
        n = self.neutralise(images, None if source is None else torch.as_tensor(source).long().to(images.device))
        to_neutral = (target == NEUTRAL)[:, None, None, None]
        if bool(to_neutral.all()):
            out = n
        else:
            out = torch.where(to_neutral, n, self.express(n, target.clamp_min(0)))
        return {"out": out, "masks": [], "visuals": {"neutralised": n}, "raw": {"neutralised": n}}
