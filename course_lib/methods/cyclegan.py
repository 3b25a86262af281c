"""CycleGAN (Zhu, Park, Isola and Efros, ICCV 2017) as ECGAN's unconditional baseline (ECGAN Table 1-2, Fig. 3).

CycleGAN has no condition: one model maps one domain to one other.  "For a fair comparison, we
implement both baselines using the same setups as our approach" (ECGAN Section 4): one CycleGAN
per neutral <-> expression pair, the seven trained in one run - ``G["XY_<expression>"]``,
``G["YX_<expression>"]``, ``D["X_<expression>"]``, ``D["Y_<expression>"]`` and their image pools
``D["pool_X_<expression>"]``, ``D["pool_Y_<expression>"]`` (:mod:`course_lib.ecgan`: the ResNet
generator without z, the PatchGAN without condition).  An iteration draws x and y as ECGAN's do
(:mod:`course_lib.methods._cycle`) and trains the pair of y's expression only, so each pair gets
about a seventh of the iterations; ``expressions`` trains a subset instead.  Losses: Eq. 1
(least squares), Eq. 2 (cycle) and Eq. 4 (identity), CycleGAN's weights; neither ECGAN's content
nor its mask loss.

Translating to neutral uses the source expression's G_Y->X when ``extra["source"]`` gives it, else
the mean of the seven G_Y->X outputs (our choice: the course's generic evaluation gives no source
labels); to an expression, that pair's G_X->Y on the neutralised face.
"""
from __future__ import annotations

from dataclasses import dataclass

from course_lib.methods import non_negative, register
from course_lib.methods._cycle import CycleMethod
from course_lib.methods.ecgan import PRESETS as ECGAN_PRESETS
from course_lib.methods.ecgan import PRESETS_DOC as ECGAN_PRESETS_DOC


@dataclass
class Hyper:
    """CycleGAN's loss weights (``cycle_gan_model.py`` defaults) and the pairs trained."""

    lambda_cycle: float = 10.0
    """``--lambda_A`` = ``--lambda_B`` 10: the cycle loss (ECGAN Eq. 2 without z)."""
    lambda_identity: float = 5.0
    """``--lambda_identity`` 0.5 x lambda_cycle = 5: the identity loss (ECGAN Eq. 4)."""
    pool_size: int = 50
    """``--pool_size`` 50."""
    expressions: str = "all"
    """The neutral <-> expression pairs that get a model: "all" (the seven) or a comma-separated subset
    (e.g. "happy,surprised"); translations to other expressions return the neutralised face."""

    def pairs(self) -> tuple[str, ...]:
        from course_lib import facs

        others = tuple(e for e in facs.EXPRESSIONS if e != "neutral")
        if self.expressions == "all":
            return others
        return tuple(e.strip() for e in self.expressions.split(",") if e.strip())

    def validate(self):
        from course_lib import facs

        non_negative(self, "lambda_cycle", "lambda_identity", "pool_size")
        bad = [e for e in self.pairs() if e not in facs.EXPRESSIONS or e == "neutral"]
        if bad or not self.pairs():
            raise ValueError(f"hyper-parameter 'expressions' = {self.expressions!r}: expected 'all' or a comma-separated "
                             f"subset of {', '.join(e for e in facs.EXPRESSIONS if e != 'neutral')}")


@register
class CycleGAN(CycleMethod):
    name = "cyclegan"
    paper = ("Zhu, Park, Isola and Efros, Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial "
             "Networks, ICCV 2017")
    equations = "ECGAN Eq. 1, 2, 4 without z (CycleGAN's objective); baseline of ECGAN Tables 1-2, Fig. 3"
    Hyper = Hyper
    presets = ECGAN_PRESETS
    presets_doc = {k: v + " The same setup as ECGAN's (ECGAN Section 4: 'the same setups as our approach'); one "
                   "iteration trains one of the seven pairs." for k, v in ECGAN_PRESETS_DOC.items()}

    @staticmethod
    def networks(size, n_classes: int = 8, cond_dim=None, mask_convention: str = "lgp", hyper=None) -> dict:
        """``{"G": {"XY_<e>", "YX_<e>"}, "D": {"X_<e>", "Y_<e>", "pool_X_<e>", "pool_Y_<e>"}}`` for each
        expression e of ``hyper.expressions``, at network size ``size``; initialised N(0, 0.02)."""
        from torch import nn

        from course_lib import ecgan, presets

        p = presets.get_preset(size)
        h = hyper if hyper is not None else Hyper()
        G, D = nn.ModuleDict(), nn.ModuleDict()
        for e in h.pairs():
            for k in ("XY", "YX"):
                G[f"{k}_{e}"] = ecgan.init_weights(ecgan.ResnetGenerator(p.image_size, p.g_conv_dim, p.g_repeat_global))
            for k in ("X", "Y"):
                D[f"{k}_{e}"] = ecgan.init_weights(ecgan.PatchDiscriminator(3, p.d_conv_dim))
        for e in h.pairs():
            D[f"pool_X_{e}"] = ecgan.ImagePool(p.image_size, 0, h.pool_size)
            D[f"pool_Y_{e}"] = ecgan.ImagePool(p.image_size, 0, h.pool_size)
        return {"G": G, "D": D}

    def build(self, size) -> dict:
        return self.networks(size, hyper=self.hyper)

    @classmethod
    def parameter_counts(cls, size) -> dict:
        """``{network: parameters}`` of the seven pairs, counted on one pair's networks times seven (the
        pairs are identical; building all seven at the paper's size would allocate about 150M parameters)."""
        from course_lib.methods import make_hyper

        one = cls(make_hyper(cls.name, {"expressions": "happy"}), size)
        n = len(Hyper().pairs())
        return {k: n * sum(p.numel() for p in one.nets[k].parameters()) for k in cls.network_names}

    def draw(self, batch: dict) -> dict:
        """As ECGAN's, but y is drawn only from the trained pairs' expressions."""
        import torch

        from course_lib import facs

        out = super().draw(batch)
        keep = torch.tensor([facs.EXPRESSIONS.index(e) for e in self.hyper.pairs()])
        bad = ~torch.isin(out["y_label"].cpu(), keep)
        if bool(bad.any()):       # a y outside the subset: redraw it among the subset's faces
            d = self._data
            pool = d["y_index"][torch.isin(d["label"][d["y_index"]], keep)]
            idx = out["y_index"].clone()
            idx[bad] = pool[torch.randint(len(pool), (int(bad.sum()),))]
            from course_lib.images import unit_from_uint8

            out["y_index"], out["y_label"] = idx, d["label"][idx].to(out["y"].device)
            out["y"] = unit_from_uint8(d["image"][idx]).to(out["y"].device)
        return out

    def loss(self, which: str, b: dict):
        import torch

        from course_lib import ecgan as E
        from course_lib import facs

        G, D, h = self.nets["G"], self.nets["D"], self.hyper
        total, parts = 0.0, {}
        for lab in sorted(set(b["y_label"].tolist())):
            e = facs.EXPRESSIONS[lab]
            sel = (b["y_label"] == lab).nonzero().flatten()
            x, y = b["x"][sel], b["y"][sel]
            g_xy, g_yx = G[f"XY_{e}"], G[f"YX_{e}"]
            if which == "G":
                fake_y, fake_x = g_xy(x), g_yx(y)
                p = {"gan": E.lsgan_generator_loss(D[f"Y_{e}"](fake_y)) + E.lsgan_generator_loss(D[f"X_{e}"](fake_x)),
                     "cycle": E.cycle_loss(x, g_yx(fake_y), y, g_xy(fake_x)),
                     "identity": E.identity_loss(x, g_yx(x), y, g_xy(y)) if h.lambda_identity else torch.zeros(())}
                t = E.full_objective(p, h.lambda_cycle, 0.0, h.lambda_identity, 0.0)
                b.setdefault("fakes", {})[e] = (fake_y.detach(), fake_x.detach())
            elif which == "D":
                if e not in b.get("fakes", {}):
                    with torch.no_grad():
                        b.setdefault("fakes", {})[e] = (g_xy(x), g_yx(y))
                fake_y, fake_x = b["fakes"][e]
                fy, _ = D[f"pool_Y_{e}"].query(fake_y)
                fx, _ = D[f"pool_X_{e}"].query(fake_x)
                p = {"D_Y": 0.5 * E.lsgan_loss(D[f"Y_{e}"](y), D[f"Y_{e}"](fy)),
                     "D_X": 0.5 * E.lsgan_loss(D[f"X_{e}"](x), D[f"X_{e}"](fx))}
                t = p["D_Y"] + p["D_X"]
            else:
                raise ValueError(f"cyclegan: no network {which!r}; have {self.network_names}")
            w = len(sel) / len(b["y_label"])           # the batch mean over the pairs present
            total = total + w * t
            for k, v in p.items():
                parts[k] = parts.get(k, 0.0) + w * v.detach()
        return total, parts

    # -- translation --------------------------------------------------------------------
    def neutralise(self, images, source=None):
        import torch

        from course_lib import facs
        from course_lib.ecgan import NEUTRAL

        G, pairs = self.nets["G"], self.hyper.pairs()
        if source is None:
            return torch.stack([G[f"YX_{e}"](images) for e in pairs]).mean(0)
        out = images.clone()
        for lab in sorted(set(source.tolist()) - {NEUTRAL}):
            e = facs.EXPRESSIONS[lab]
            sel = (source == lab).nonzero().flatten()
            if e in pairs:
                out[sel] = G[f"YX_{e}"](images[sel])
            else:   # no model for this expression: the mean of the trained ones
                out[sel] = torch.stack([G[f"YX_{p}"](images[sel]) for p in pairs]).mean(0)
        return out

    def express(self, neutral_images, target):
        from course_lib import facs

        G, pairs = self.nets["G"], self.hyper.pairs()
        out = neutral_images.clone()
        for lab in sorted(set(target.tolist())):
            e = facs.EXPRESSIONS[lab]
            if e in pairs:
                sel = (target == lab).nonzero().flatten()
                out[sel] = G[f"XY_{e}"](neutral_images[sel])
        return out
