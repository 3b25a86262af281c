"""Lesson 11's exercises: each coding checker accepts a right solution written here independently of
course_lib and rejects plausible wrong ones, naming the input it failed on; the value checkers
accept the numbers worked out by hand from Table 3 and Eq. 7."""
import pytest
import torch


from exercise_checks import accepts, rejects, verdict

pytestmark = pytest.mark.usefixtures("one_thread")


# ------------------------------------------------------------------ Gaussian heatmaps
def heatmaps(landmarks, size, sigma, two=2.0, swap=False, zero_nan=True):
    rows = torch.arange(size).float().view(size, 1)      # y
    cols = torch.arange(size).float().view(1, size)      # x
    out = torch.zeros(landmarks.shape[0], landmarks.shape[1], size, size)
    for b in range(landmarks.shape[0]):
        for k in range(landmarks.shape[1]):
            x, y = landmarks[b, k]
            if swap:
                x, y = y, x
            out[b, k] = torch.exp(-((cols - x) ** 2 + (rows - y) ** 2) / (two * sigma ** 2))
    return torch.nan_to_num(out, nan=0.0) if zero_nan else out


def test_heatmaps_exercise(capsys):
    accepts("11.heatmaps_function", heatmaps, capsys)
    rejects("11.heatmaps_function", lambda l, s, sg: heatmaps(l, s, sg, swap=True), capsys, "on input", "expected:")
    rejects("11.heatmaps_function", lambda l, s, sg: heatmaps(l, s, sg, two=1.0), capsys, "on input", "expected:")
    rejects("11.heatmaps_function", lambda l, s, sg: heatmaps(l, s, sg, zero_nan=False), capsys, "NaN")
    ok, out = verdict("11.heatmaps_function", lambda l, s, sg: None, capsys)
    assert not ok and "not attempted" in out


# ------------------------------------------------------------------ one migration unit (Eq. 1-3)
def migration(fp, fs, conv_p, conv_s):
    s = conv_s(fs)
    m = 1 / (1 + torch.exp(-s))
    new_p = fp + m * conv_p(fp)
    return new_p, torch.cat([s, new_p], dim=1), m


def test_migration_unit_exercise(capsys):
    accepts("11.migration_unit_function", migration, capsys)

    def mask_from_image(fp, fs, conv_p, conv_s):            # Eq. 1 on the wrong features
        s = conv_s(fs)
        m = torch.sigmoid(conv_p(fp))
        new_p = fp + m * conv_p(fp)
        return new_p, torch.cat([s, new_p], 1), m

    def no_residual(fp, fs, conv_p, conv_s):                 # Eq. 2 without "+ F^P_{t-1}"
        s = conv_s(fs)
        m = torch.sigmoid(s)
        new_p = m * conv_p(fp)
        return new_p, torch.cat([s, new_p], 1), m

    def old_image_features(fp, fs, conv_p, conv_s):          # Eq. 3 with F^P_{t-1} instead of F^P_t
        s = conv_s(fs)
        m = torch.sigmoid(s)
        return fp + m * conv_p(fp), torch.cat([s, fp], 1), m

    rejects("11.migration_unit_function", mask_from_image, capsys, "on input")
    rejects("11.migration_unit_function", no_residual, capsys, "on input", "expected:")
    rejects("11.migration_unit_function", old_image_features, capsys, "[1]")


# ------------------------------------------------------------------ value exercises
def test_value_exercises(capsys):
    # Table 3 at 256x256: 256 -> 128 -> 64 -> 32 (stride 2), 31, 30 (4x4, stride 1, pad 1)
    accepts("11.critic_side", 30, capsys)
    rejects("11.critic_side", 32, capsys)
    rejects("11.critic_side", 28, capsys)
    accepts("11.total_loss", 5 * 0.7 + 10 * 0.3 + 10 * 0.1, capsys)
    rejects("11.total_loss", 0.7 + 0.3 + 0.1, capsys, "lambda_1 = 5")
