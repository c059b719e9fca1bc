"""Click tracks from tempo and meter maps: exact times, bar/beat numbering, kinds, validation."""

from fractions import Fraction

import pytest

from liveengine.show.click import (
    ACCENT,
    BEAT,
    COUNT_IN,
    WARNING,
    Click,
    ClickMap,
    ClickMapError,
    MeterChange,
    TempoChange,
    clicks,
    length_seconds,
    validate,
)

FOUR_FOUR = MeterChange(1, 4, 4)
AT_120 = TempoChange(1, 120)


def steady(bpm, bars, **options):
    return ClickMap((TempoChange(1, bpm),), (FOUR_FOUR,), bars, **options)


def bar_starts(track):
    """Seconds of beat 1 of each bar, keyed by bar number."""
    return {click.bar: click.seconds for click in track if click.beat == 1}


def durations(track, bar):
    """Seconds from each click of `bar` to the next click."""
    times = [click.seconds for click in track]
    return [times[i + 1] - times[i] for i, click in enumerate(track[:-1]) if click.bar == bar]


# --- steady tempo and count-in -----------------------------------------------------------

def test_four_four_at_120_with_a_bar_of_count_in():
    track = clicks(steady(120, 2, count_in_bars=1))
    assert [c.seconds for c in track] == [Fraction(n, 2) for n in range(12)]
    assert [(c.bar, c.beat) for c in track] == [(bar, beat) for bar in (0, 1, 2) for beat in (1, 2, 3, 4)]
    assert [c.kind for c in track] == [COUNT_IN] * 4 + [ACCENT, BEAT, BEAT, BEAT] * 2
    assert track[4] == Click(Fraction(2), 1, 1, ACCENT)
    assert all(type(c.seconds) is Fraction for c in track)


def test_beat_three_at_120_is_exactly_one_second():
    track = clicks(steady(120, 1))
    assert track[2].seconds == 1 and track[2].seconds == Fraction(1)
    assert track[0].seconds == 0


def test_count_in_bars_are_numbered_up_to_zero():
    track = clicks(steady(60, 1, count_in_bars=2))
    assert [c.bar for c in track] == [-1] * 4 + [0] * 4 + [1] * 4
    assert track[8] == Click(Fraction(8), 1, 1, ACCENT)


def test_count_in_uses_the_first_tempo_and_meter():
    click_map = ClickMap((TempoChange(1, 90), TempoChange(2, 180)),
                         (MeterChange(1, 3, 4), MeterChange(2, 5, 8)), 2, count_in_bars=1)
    track = clicks(click_map)
    count_in = [c for c in track if c.kind == COUNT_IN]
    assert [(c.bar, c.beat) for c in count_in] == [(0, 1), (0, 2), (0, 3)]
    assert durations(track, 0) == [Fraction(2, 3)] * 3


def test_float_and_int_tempos_become_exact_fractions():
    assert TempoChange(1, 120).bpm == Fraction(120) and type(TempoChange(1, 120).bpm) is Fraction
    assert TempoChange(1, 92.5).bpm == Fraction(185, 2)
    assert TempoChange(1, 0.1).bpm == Fraction(1, 10)  # as written, not the binary double
    assert TempoChange(1, Fraction(241, 2)).bpm == Fraction(241, 2)
    assert durations(clicks(steady(92.5, 2)), 1) == [Fraction(120, 185)] * 4


# --- meter changes -----------------------------------------------------------------------

def test_four_four_then_three_four_then_six_eight_bar_lengths():
    meters = (FOUR_FOUR, MeterChange(2, 3, 4), MeterChange(3, 6, 8))
    track = clicks(ClickMap((TempoChange(1, 120),), meters, 4))
    assert [c.beat for c in track] == [1, 2, 3, 4, 1, 2, 3, 1, 2, 3, 4, 5, 6, 1, 2, 3, 4, 5, 6]
    starts = bar_starts(track)
    assert starts == {1: 0, 2: 2, 3: Fraction(7, 2), 4: Fraction(13, 2)}
    assert starts[2] - starts[1] == 2  # 4 clicks at 120
    assert starts[3] - starts[2] == Fraction(3, 2)  # 3 clicks
    assert starts[4] - starts[3] == 3  # 6 clicks: one per eighth
    assert [c.kind for c in track if c.beat == 1] == [ACCENT] * 4
    assert length_seconds(ClickMap((TempoChange(1, 120),), meters, 4)) == Fraction(19, 2)


# --- tempo changes -----------------------------------------------------------------------

def test_tempo_change_mid_map():
    click_map = ClickMap((TempoChange(1, 120), TempoChange(3, 90)), (FOUR_FOUR,), 4)
    track = clicks(click_map)
    assert durations(track, 2) == [Fraction(1, 2)] * 4
    assert durations(track, 3) == [Fraction(2, 3)] * 4
    assert bar_starts(track) == {1: 0, 2: 2, 3: 4, 4: Fraction(20, 3)}
    assert length_seconds(click_map) == Fraction(28, 3)


def test_ramp_from_60_to_120_over_two_bars():
    click_map = ClickMap((TempoChange(1, 60, ramp=True), TempoChange(3, 120)), (FOUR_FOUR,), 3)
    track = clicks(click_map)
    # Beat k of the 8 ramp beats is at 60 + 60*k/8 bpm, so it lasts 60/(60 + 7.5k) = 8/(8 + k) s.
    ramp = durations(track, 1) + durations(track, 2)
    assert ramp == [Fraction(8, 8 + k) for k in range(8)]
    assert ramp[0] == 1 and ramp[4] == Fraction(2, 3) and ramp[7] == Fraction(8, 15)
    assert durations(track, 3) == [Fraction(1, 2)] * 3  # bar 3 arrives at 120
    assert bar_starts(track)[3] == sum(ramp)
    assert length_seconds(click_map) == sum(ramp) + 2


def test_ritardando_across_a_meter_change_counts_every_beat_of_the_ramp():
    click_map = ClickMap((TempoChange(1, 120, ramp=True), TempoChange(3, 60)),
                         (FOUR_FOUR, MeterChange(2, 2, 4)), 3)
    track = clicks(click_map)
    # 4 + 2 = 6 ramp beats, tempo 120 - 60*k/6 = 120 - 10k.
    assert durations(track, 1) + durations(track, 2) == [Fraction(60, 120 - 10 * k) for k in range(6)]
    assert durations(track, 3)[0] == 1


def test_ramp_then_hold():
    click_map = ClickMap((TempoChange(1, 100), TempoChange(2, 100, ramp=True), TempoChange(3, 150)),
                         (FOUR_FOUR,), 3)
    track = clicks(click_map)
    assert durations(track, 1) == [Fraction(60, 100)] * 4
    assert durations(track, 2) == [Fraction(60) / (100 + Fraction(50 * k, 4)) for k in range(4)]
    assert durations(track, 3) == [Fraction(60, 150)] * 3


# --- warnings ----------------------------------------------------------------------------

def test_warn_changes_marks_beats_after_the_downbeat_of_the_bar_before_a_change():
    click_map = ClickMap((TempoChange(1, 120), TempoChange(3, 90)),
                         (FOUR_FOUR, MeterChange(5, 3, 4)), 5, count_in_bars=1, warn_changes=True)
    kinds = {(c.bar, c.beat): c.kind for c in clicks(click_map)}
    assert [kinds[0, beat] for beat in (1, 2, 3, 4)] == [COUNT_IN] * 4
    assert [kinds[1, beat] for beat in (1, 2, 3, 4)] == [ACCENT, BEAT, BEAT, BEAT]
    assert [kinds[2, beat] for beat in (1, 2, 3, 4)] == [ACCENT, WARNING, WARNING, WARNING]  # before the tempo
    assert [kinds[3, beat] for beat in (1, 2, 3, 4)] == [ACCENT, BEAT, BEAT, BEAT]
    assert [kinds[4, beat] for beat in (1, 2, 3, 4)] == [ACCENT, WARNING, WARNING, WARNING]  # before the meter
    assert [kinds[5, beat] for beat in (1, 2, 3)] == [ACCENT, BEAT, BEAT]


def test_without_warn_changes_there_are_no_warnings():
    click_map = ClickMap((TempoChange(1, 120), TempoChange(2, 90)), (FOUR_FOUR, MeterChange(2, 3, 4)), 2)
    assert WARNING not in {c.kind for c in clicks(click_map)}


def test_warnings_do_not_change_times():
    plain = ClickMap((TempoChange(1, 120), TempoChange(2, 90)), (FOUR_FOUR,), 3)
    warned = ClickMap(plain.tempos, plain.meters, 3, warn_changes=True)
    assert [c.seconds for c in clicks(plain)] == [c.seconds for c in clicks(warned)]


# --- length ------------------------------------------------------------------------------

def test_length_includes_count_in_and_the_whole_last_bar():
    assert length_seconds(steady(120, 1)) == 2
    assert length_seconds(steady(120, 4, count_in_bars=2)) == 12
    assert length_seconds(steady(Fraction(100), 3)) == Fraction(36, 5)


def test_length_is_the_last_click_plus_its_beat():
    click_map = ClickMap((TempoChange(1, 72), TempoChange(2, 144)), (MeterChange(1, 7, 8),), 2, count_in_bars=1)
    assert length_seconds(click_map) == clicks(click_map)[-1].seconds + Fraction(60, 144)


# --- validation --------------------------------------------------------------------------

def invalid(message, tempos=(AT_120,), meters=(FOUR_FOUR,), bars=8, **options):
    """Assert that the map is rejected with exactly `message`, by validate and by both users of it."""
    click_map = ClickMap(tuple(tempos), tuple(meters), bars, **options)
    for check in (validate, clicks, length_seconds):
        with pytest.raises(ClickMapError) as error:
            check(click_map)
        assert str(error.value) == message


def test_a_valid_map_passes():
    assert validate(steady(120, 8, count_in_bars=8)) is None


def test_click_map_error_is_a_value_error():
    assert issubclass(ClickMapError, ValueError)


def test_first_tempo_must_be_at_bar_1():
    invalid("the first tempo change is at bar 2; it must be at bar 1", tempos=[TempoChange(2, 120)])
    invalid("no tempo change: the first one must be at bar 1", tempos=[])


def test_first_meter_must_be_at_bar_1():
    invalid("the first meter change is at bar 3; it must be at bar 1", meters=[MeterChange(3, 4, 4)])
    invalid("no meter change: the first one must be at bar 1", meters=[])


def test_changes_must_move_forward():
    invalid("tempo change at bar 5 after the change at bar 9",
            tempos=[TempoChange(1, 120), TempoChange(9, 100), TempoChange(5, 90)], bars=10)
    invalid("two tempo changes at bar 4", tempos=[TempoChange(1, 120), TempoChange(4, 100), TempoChange(4, 90)])
    invalid("meter change at bar 2 after the change at bar 6",
            meters=[FOUR_FOUR, MeterChange(6, 3, 4), MeterChange(2, 2, 4)])
    invalid("two meter changes at bar 1", meters=[FOUR_FOUR, MeterChange(1, 3, 4)])


def test_changes_must_be_within_the_music():
    invalid("tempo change at bar 9 is beyond the last bar (8)", tempos=[TempoChange(1, 120), TempoChange(9, 60)])
    invalid("meter change at bar 12 is beyond the last bar (8)", meters=[FOUR_FOUR, MeterChange(12, 3, 4)])


def test_change_on_the_last_bar_is_allowed():
    click_map = ClickMap((TempoChange(1, 120), TempoChange(2, 60)), (FOUR_FOUR, MeterChange(2, 1, 4)), 2)
    assert [c.seconds for c in clicks(click_map)] == [0, Fraction(1, 2), 1, Fraction(3, 2), 2]


def test_tempo_range():
    invalid("tempo 9 bpm at bar 1 is outside 10..400 bpm", tempos=[TempoChange(1, 9)])
    invalid("tempo 400.5 bpm at bar 3 is outside 10..400 bpm", tempos=[TempoChange(1, 120), TempoChange(3, 400.5)])
    invalid("tempo 0 bpm at bar 1 is outside 10..400 bpm", tempos=[TempoChange(1, 0)])
    invalid("tempo -1/3 bpm at bar 1 is outside 10..400 bpm", tempos=[TempoChange(1, Fraction(-1, 3))])
    validate(ClickMap((TempoChange(1, 10), TempoChange(2, 400)), (FOUR_FOUR,), 2))  # both ends allowed


def test_tempo_must_be_a_number():
    with pytest.raises(ClickMapError, match=r"^tempo at bar 1 is 'fast', not a number of beats per minute$"):
        TempoChange(1, "fast")
    with pytest.raises(ClickMapError, match=r"^tempo at bar 2 is nan, not a number of beats per minute$"):
        TempoChange(2, float("nan"))


def test_beats_per_bar_range():
    invalid("meter 0/4 at bar 1 has 0 beats; it must have 1..32", meters=[MeterChange(1, 0, 4)])
    invalid("meter 33/8 at bar 2 has 33 beats; it must have 1..32", meters=[FOUR_FOUR, MeterChange(2, 33, 8)])
    validate(ClickMap((TempoChange(1, 120),), (MeterChange(1, 1, 4), MeterChange(2, 32, 32)), 2))


def test_unit_is_a_power_of_two():
    invalid("meter 3/6 at bar 1: the unit must be one of 1, 2, 4, 8, 16, 32", meters=[MeterChange(1, 3, 6)])
    invalid("meter 4/64 at bar 2: the unit must be one of 1, 2, 4, 8, 16, 32",
            meters=[FOUR_FOUR, MeterChange(2, 4, 64)])
    invalid("meter 4/0 at bar 1: the unit must be one of 1, 2, 4, 8, 16, 32", meters=[MeterChange(1, 4, 0)])
    for unit in (1, 2, 4, 8, 16, 32):
        validate(ClickMap((TempoChange(1, 120),), (MeterChange(1, 4, unit),), 1))


def test_at_least_one_bar():
    invalid("bars is 0; at least 1 bar must be clicked", bars=0)
    invalid("bars is -3; at least 1 bar must be clicked", bars=-3)


def test_count_in_range():
    invalid("count_in_bars is 9; it must be 0..8", count_in_bars=9)
    invalid("count_in_bars is -1; it must be 0..8", count_in_bars=-1)


def test_no_ramp_on_the_last_tempo_change():
    invalid("ramp at bar 1 is on the last tempo change: there is no tempo to ramp to",
            tempos=[TempoChange(1, 120, ramp=True)])
    invalid("ramp at bar 5 is on the last tempo change: there is no tempo to ramp to",
            tempos=[TempoChange(1, 120), TempoChange(5, 60, ramp=True)])


def test_bar_numbers_and_counts_must_be_whole():
    invalid("bars must be a whole number, not 2.5", bars=2.5)
    invalid("count_in_bars must be a whole number, not True", count_in_bars=True)
    invalid("the bar of a tempo change must be a whole number, not 1.0", tempos=[TempoChange(1.0, 120)])
    invalid("the beats of the meter at bar 1 must be a whole number, not 4.0", meters=[MeterChange(1, 4.0, 4)])
