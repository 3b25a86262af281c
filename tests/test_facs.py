"""course_lib.facs against LGP-GAN Table I (values typed in from the paper, not from the code)."""
import numpy as np
import pytest

from course_lib import facs

# LGP-GAN Table I, transcribed from the paper.
TABLE_I = {
    "happy": "AU6+AU12",
    "sad": "AU1+AU4+AU15",
    "surprised": "AU1+AU2+AU5+AU26",
    "disgusted": "AU9+AU15+AU16",
    "angry": "AU4+AU5+AU7+AU23",
    "fearful": "AU1+AU2+AU4+AU5+AU7+AU20+AU26",
}


@pytest.mark.parametrize("expression,aus", TABLE_I.items())
def test_table_i_exactly(expression, aus):
    assert facs.EXPRESSION_AUS[expression] == tuple(int(a[2:]) for a in aus.split("+"))


def test_extra_classes_and_order():
    assert facs.EXPRESSIONS == ("angry", "contemptuous", "disgusted", "fearful", "happy", "neutral", "sad", "surprised")
    assert list(facs.EXPRESSIONS) == sorted(facs.EXPRESSIONS)
    assert facs.EXPRESSION_AUS["contemptuous"] == (12, 14)
    assert "contemptuous" in facs.UNILATERAL_EXPRESSIONS
    assert facs.EXPRESSION_AUS["neutral"] == ()
    assert set(facs.EXPRESSION_AUS) == set(facs.EXPRESSIONS)


def test_au_table_covers_table_i_plus_14_and_25():
    needed = {int(a[2:]) for aus in TABLE_I.values() for a in aus.split("+")} | {14, 25}
    assert needed <= set(facs.AU_TABLE)
    for au in facs.AU_TABLE.values():
        assert au.region in facs.REGIONS and au.name and au.muscles


@pytest.mark.parametrize("au,region", [(1, "brows"), (2, "brows"), (4, "brows"), (5, "eyes"), (7, "eyes"),
                                       (6, "cheeks"), (9, "nose"), (12, "mouth"), (15, "mouth"), (26, "jaw")])
def test_au_region(au, region):
    assert facs.au_region(au) == region
    assert facs.au_region(f"AU{au}") == region


def test_parse_au_forms():
    assert facs.parse_au("AU12") == facs.parse_au("12") == facs.parse_au(12) == facs.parse_au("lip corner puller") == 12


def test_name_index_one_hot_round_trip():
    for i, name in enumerate(facs.EXPRESSIONS):
        assert facs.expression_index(name) == i
        assert facs.expression_name(i) == name
        v = facs.one_hot(name)
        assert v.shape == (8,) and v.sum() == 1 and v[i] == 1
        assert facs.one_hot_to_name(v) == name
    batch = facs.one_hot(["sad", 0, "happy"])
    assert batch.shape == (3, 8)
    assert list(batch.argmax(1)) == [6, 0, 4]
    assert facs.expression_index("Surprise") == 7  # the paper's spelling is accepted


def test_au_vector_binary_and_intensity():
    aus = [1, 2, 4, 5, 6, 12]
    assert facs.au_vector("happy", aus=aus).tolist() == [0, 0, 0, 0, 1, 1]
    assert facs.au_vector("happy", intensity=0.25, aus=aus).tolist() == [0, 0, 0, 0, 0.25, 0.25]
    assert facs.au_vector("happy", intensity={6: 0.5}, aus=aus).tolist() == [0, 0, 0, 0, 0.5, 1.0]
    assert facs.au_vector("neutral").sum() == 0
    assert facs.au_vector("fearful").sum() == 7
    assert len(facs.au_vector("sad")) == len(facs.AU_NUMBERS)


def test_region_counts_over_table_i():
    # By hand from Table I: brows 1,4 | 1,2 | 4 | 1,2,4 = 8; eyes 5 | 5,7 | 5,7 = 5; cheeks AU6 = 1;
    # nose AU9 = 1; mouth 12 | 15 | 15,16 | 23 | 20 = 6; jaw 26 | 26 = 2.
    assert facs.region_counts() == {"brows": 8, "eyes": 5, "nose": 1, "cheeks": 1, "mouth": 6, "jaw": 2}
    assert facs.crop_counts() == {"eye": 14, "mouth": 8, "outside": 1}
    assert facs.region_counts(["neutral"]) == {r: 0 for r in facs.REGIONS}


def test_closest_expressions():
    assert facs.closest_expressions([6, 12])[0] == ("happy", 1.0)
    assert facs.closest_expressions([])[0] == ("neutral", 1.0)
    name, score = facs.closest_expressions([1, 4, 15, 12])[0]
    assert name == "sad" and score == pytest.approx(3 / 4)  # {1,4,15} of {1,4,12,15}


@pytest.mark.parametrize("call", [
    lambda: facs.expression_index("joy"),
    lambda: facs.one_hot("joy"),
    lambda: facs.au_vector("joy"),
    lambda: facs.region_counts(["joy"]),
])
def test_unknown_expression_lists_valid(call):
    with pytest.raises(ValueError) as err:
        call()
    assert "joy" in str(err.value)
    assert all(name in str(err.value) for name in facs.EXPRESSIONS)


@pytest.mark.parametrize("bad", ["AU99", 3, "Smile Maker", "", None, 12.5])
def test_unknown_au_lists_valid(bad):
    with pytest.raises(ValueError) as err:
        facs.au_region(bad)
    assert "AU12 (Lip Corner Puller)" in str(err.value)


@pytest.mark.parametrize("bad", [8, -1, "4", True, 2.0])
def test_bad_index(bad):
    with pytest.raises(ValueError, match="label index"):
        facs.expression_name(bad)


def test_bad_intensity_and_one_hot_shape():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        facs.au_vector("happy", intensity=1.5)
    with pytest.raises(ValueError, match="8 class scores"):
        facs.one_hot_to_name(np.ones(5))
