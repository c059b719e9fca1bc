"""The picture's clock against the audio's: speed and drift since lock, and the word clock warning."""

import pytest

from liveengine.engine.drift import WARN_SECONDS, DriftWatch
from liveengine.engine.telemetry import TimecodeStatus

RATE, FPS = 48000, 25.0


def status(state, position, speed, relocations=0):
    return TimecodeStatus(state, position, speed, 0, 0, relocations)


def run(watch, speed, seconds, start_frame=90000.0, start_sample=0, step=RATE // 10, relocations=0):
    """The picture at `speed` for `seconds` from the chase's lock, observed every `step` samples."""
    reports = []
    for sample in range(start_sample, start_sample + int(seconds * RATE) + 1, step):
        frame = start_frame + (sample - start_sample) * speed * FPS / RATE
        report = watch.observe(status("locked", frame, speed, relocations), sample)
        if report is not None:
            reports.append((sample, *report))
    return reports


@pytest.mark.parametrize("speed, warned", [(1.0002, False), (1.00021, True), (0.9997, True), (1.00005, False)])
def test_a_picture_clock_off_by_more_than_200_ppm_for_10_seconds_is_warned_once(speed, warned):
    watch = DriftWatch(RATE, FPS)
    reports = run(watch, speed, 30)
    assert len(reports) == (1 if warned else 0)
    if warned:
        sample, text, warning = reports[0]
        assert warning and sample == WARN_SECONDS * RATE and "word clock" in text
    assert watch.reading.speed_ppm == pytest.approx((speed - 1) * 1e6)
    assert watch.reading.samples == pytest.approx((speed - 1) * 30 * RATE)
    assert watch.reading.ppm == pytest.approx((speed - 1) * 1e6)


def test_the_drift_counts_from_each_lock_and_a_clock_back_within_is_said():
    watch = DriftWatch(RATE, FPS)
    assert run(watch, 1.001, 12)[0][2]  # warned
    back = run(watch, 1.00001, 1, start_frame=95000.0, start_sample=12 * RATE, relocations=1)
    assert len(back) == 1 and not back[0][2] and "within 200 ppm" in back[0][1]
    assert watch.reading.samples == pytest.approx(0.00001 * RATE)  # since the relocation
    watch.observe(status("stopped", 0.0, 0.0), 14 * RATE)
    assert watch.reading is None and watch.last_reading.speed_ppm == pytest.approx(10.0)
