"""Checkers of Lesson 1 (FACS and Action Units)."""
from course_lib import facs
from course_lib.exercises import case, check_function, exercise


@exercise("01.region_counts")
def _region_counts(answer):
    expected = facs.region_counts(facs.BASIC_EXPRESSIONS)
    assert isinstance(answer, dict), "answer should be a dict {region: count}"
    missing = set(expected) - set(answer)
    assert not missing, f"regions missing from your dict: {sorted(missing)}"
    wrong = [r for r in expected if answer[r] != expected[r]]
    assert not wrong, (f"the count is off for {wrong}; count every AU of every one of the six "
                       "basic expressions (an AU used by two expressions counts twice)")


@exercise("01.sad_fear_jaccard")
def _sad_fear_jaccard(answer):
    sad, fear = set(facs.EXPRESSION_AUS["sad"]), set(facs.EXPRESSION_AUS["fearful"])
    expected = len(sad & fear) / len(sad | fear)
    a = float(answer)
    assert 0.0 <= a <= 1.0, "a Jaccard similarity is a number between 0 and 1"
    assert abs(a - len(sad & fear) / len(sad)) > 1e-9, "close: divide by the size of the *union*, not of one set"
    assert abs(a - expected) < 1e-9, ("not quite: count the AUs both prototypes share, then divide by the number "
                                      "of distinct AUs in either of them")


@exercise("01.crop_share")
def _crop_share(answer):
    c = facs.crop_counts(facs.BASIC_EXPRESSIONS)
    expected = (c["eye"] + c["mouth"]) / sum(c.values())
    assert 0.0 <= float(answer) <= 1.0, "a share is a number between 0 and 1"
    assert abs(float(answer) - expected) < 1e-6, ("not quite: divide the occurrences inside the eye or "
                                                 "mouth crop by all occurrences")



def au_vector_cases():
    """Inputs of exercise 01.au_vector_function: ``(expression, intensity, aus)``, random and edge cases."""
    import numpy as np

    rng = np.random.default_rng(1)
    out = [case("happy, binary, AUs 6 and 12", "happy", 1.0, [6, 12]),
           case("edge: neutral has no AU", "neutral", 1.0, list(facs.AU_NUMBERS)),
           case("edge: intensity 0", "angry", 0.0, list(facs.AU_NUMBERS)),
           case("edge: AUs not in increasing order", "surprised", 0.5, [26, 12, 2, 1, 5]),
           case("edge: an AU no expression uses twice", "happy", 0.3, [12, 12, 4])]
    for i in range(4):
        aus = [int(a) for a in rng.permutation(facs.AU_NUMBERS)[: rng.integers(1, len(facs.AU_NUMBERS) + 1)]]
        out.append(case(f"random {i + 1}", str(rng.choice(facs.EXPRESSIONS)), round(float(rng.uniform(0, 1)), 3), aus))
    return out


@exercise("01.au_vector_function", kind="function")
def _au_vector_function(fn):
    check_function(fn, facs.au_vector, au_vector_cases())
