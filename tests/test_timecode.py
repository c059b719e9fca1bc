"""SMPTE timecode arithmetic: labels <-> frame counts <-> seconds <-> samples, exact."""

from fractions import Fraction

import pytest

from liveengine.timecode import RATES, FrameRate, Timecode, frame_rate

DF = RATES["29.97df"]
NDF = RATES["29.97"]
NON_DROP_RATES = [rate for rate in RATES.values() if not rate.drop_frame]


def tc(text, rate):
    return Timecode.parse(text, rate)


# --- frame rates -------------------------------------------------------------------------

def test_the_six_rates():
    assert list(RATES) == ["23.976", "24", "25", "29.97df", "29.97", "30"]
    assert [r.fps for r in RATES.values()] == [Fraction(24000, 1001), 24, 25, Fraction(30000, 1001),
                                              Fraction(30000, 1001), 30]
    assert [r.nominal for r in RATES.values()] == [24, 24, 25, 30, 30, 30]
    assert [r.drop_frame for r in RATES.values()] == [False, False, False, True, False, False]
    assert all(isinstance(r.fps, Fraction) for r in RATES.values())


def test_frames_per_day():
    assert DF.frames_per_day() == 2589408
    assert NDF.frames_per_day() == 30 * 86400
    assert RATES["23.976"].frames_per_day() == 24 * 86400
    assert RATES["25"].frames_per_day() == 25 * 86400


def test_rates_are_frozen():
    with pytest.raises(AttributeError):
        DF.nominal = 25


@pytest.mark.parametrize("text, name", [
    ("23.976", "23.976"), ("23.98", "23.976"), ("23.976ndf", "23.976"), ("24000/1001", "23.976"),
    ("24", "24"), ("25", "25"), ("25 NDF", "25"),
    ("29.97df", "29.97df"), ("29.97 df", "29.97df"), ("29.97 DF", "29.97df"), ("2997df", "29.97df"),
    ("29.97-df", "29.97df"),
    ("29.97", "29.97"), ("29.97ndf", "29.97"), ("2997", "29.97"), ("29.97 NDF", "29.97"),
    ("30", "30"), ("30ndf", "30"), (" 30 ", "30"),
])
def test_frame_rate_spellings(text, name):
    assert frame_rate(text) is RATES[name]


@pytest.mark.parametrize("text", ["30df", "24df", "25 df", "23.976df"])
def test_only_29_97_drops_frames(text):
    with pytest.raises(ValueError, match="only 29.97 has a drop-frame"):
        frame_rate(text)


@pytest.mark.parametrize("text", ["", "29", "50", "fast", "df", "29.97dropframe"])
def test_unknown_frame_rate_names_the_accepted_ones(text):
    with pytest.raises(ValueError, match="unknown frame rate") as error:
        frame_rate(text)
    for name in RATES:
        assert name in str(error.value)


# --- drop-frame ----------------------------------------------------------------------------

@pytest.mark.parametrize("frame_count, label", [
    (0, "00:00:00;00"),
    (1799, "00:00:59;29"),
    (1800, "00:01:00;02"),  # ;00 and ;01 skipped
    (3597, "00:01:59;29"),
    (3598, "00:02:00;02"),
    (17981, "00:09:59;29"),
    (17982, "00:10:00;00"),  # every tenth minute keeps ;00 and ;01
    (17983, "00:10:00;01"),
    (19782, "00:11:00;02"),
    (107892, "01:00:00;00"),
    (2589407, "23:59:59;29"),
])
def test_drop_frame_known_values(frame_count, label):
    assert str(Timecode.from_frames(frame_count, DF)) == label
    assert tc(label, DF).frame_count == frame_count


def drop_frame_labels():
    """Every drop-frame label of the day in order: 30 per second, less the skipped ones."""
    for hours in range(24):
        for minutes in range(60):
            for seconds in range(60):
                for frames in range(30):
                    if not (minutes % 10 and seconds == 0 and frames < 2):
                        yield f"{hours:02}:{minutes:02}:{seconds:02};{frames:02}"


def test_drop_frame_matches_counting_labels_for_every_frame_of_the_first_20_minutes():
    for n, label in zip(range(2 * 17982), drop_frame_labels()):
        timecode = Timecode.from_frames(n, DF)
        assert str(timecode) == label
        assert tc(label, DF) == timecode
        assert Timecode.from_fields(*timecode.fields, DF) == timecode


def test_counting_labels_gives_the_frames_of_a_day():
    assert sum(1 for _ in drop_frame_labels()) == DF.frames_per_day()


def test_drop_frame_round_trips_across_the_day():
    for n in range(0, DF.frames_per_day(), 997):
        timecode = Timecode.from_frames(n, DF)
        assert tc(str(timecode), DF).frame_count == n


@pytest.mark.parametrize("label", ["00:01:00;00", "00:01:00;01", "00:09:00;00", "12:34:00;01", "23:59:00;00"])
def test_dropped_labels_are_rejected(label):
    with pytest.raises(ValueError, match="does not exist in drop-frame"):
        tc(label, DF)


def test_dropped_labels_are_rejected_from_fields_too():
    with pytest.raises(ValueError, match="does not exist in drop-frame"):
        Timecode.from_fields(0, 1, 0, 1, DF)


@pytest.mark.parametrize("label", ["00:10:00;00", "00:10:00;01", "00:01:01;00", "00:01:00;02"])
def test_labels_near_the_skips_exist(label):
    assert str(tc(label, DF)) == label


def test_drop_frame_accepts_colons_and_other_separators():
    expected = tc("01:00:00;00", DF)
    for text in ("01:00:00:00", "01:00:00,00", "01:00:00.00"):
        assert tc(text, DF) == expected


def test_drop_frame_stays_with_the_clock():
    # One hour of drop-frame labels is 3600 s less 3.6 ms of real time.
    assert tc("01:00:00;00", DF).seconds == Fraction(107892 * 1001, 30000) == Fraction(35999964, 10000)


# --- non-drop -----------------------------------------------------------------------------

@pytest.mark.parametrize("rate", NON_DROP_RATES, ids=lambda rate: rate.name)
def test_non_drop_round_trips(rate):
    for n in list(range(3 * 60 * rate.nominal)) + list(range(0, rate.frames_per_day(), 1009)):
        timecode = Timecode.from_frames(n, rate)
        assert tc(str(timecode), rate).frame_count == n
        assert Timecode.from_fields(*timecode.fields, rate) == timecode
        assert Timecode.from_seconds(timecode.seconds, rate) == timecode


@pytest.mark.parametrize("rate", NON_DROP_RATES, ids=lambda rate: rate.name)
def test_non_drop_labels_count_nominal_frames_per_second(rate):
    timecode = tc("01:02:03:04", rate)
    assert timecode.frame_count == ((1 * 60 + 2) * 60 + 3) * rate.nominal + 4
    assert timecode.fields == (1, 2, 3, 4)
    assert str(timecode) == "01:02:03:04"


@pytest.mark.parametrize("name, seconds", [
    ("29.97", Fraction(36036, 10)), ("23.976", Fraction(36036, 10)),
    ("24", 3600), ("25", 3600), ("30", 3600),
])
def test_one_hour_of_timecode_in_real_seconds(name, seconds):
    one_hour = tc("01:00:00:00", RATES[name]).seconds
    assert isinstance(one_hour, Fraction)
    assert one_hour == seconds


def test_from_seconds_floors_to_the_frame_containing_the_instant():
    rate = RATES["25"]
    assert Timecode.from_seconds(Fraction(1, 25), rate).frame_count == 1
    assert Timecode.from_seconds(Fraction(1, 25) - Fraction(1, 10**9), rate).frame_count == 0
    assert Timecode.from_seconds(3600, rate) == tc("01:00:00:00", rate)
    # At 29.97 non-drop, 01:00:00:00 is not reached until 3603.6 s.
    assert str(Timecode.from_seconds(3600, NDF)) == "00:59:56:12"
    assert str(Timecode.from_seconds(Fraction(36036, 10), NDF)) == "01:00:00:00"
    assert str(Timecode.from_seconds(Fraction(36036, 10) - Fraction(1, 10**6), NDF)) == "00:59:59:29"


def test_from_seconds_wraps_and_refuses_floats():
    assert Timecode.from_seconds(-Fraction(1, 1000), RATES["24"]) == tc("23:59:59:23", RATES["24"])
    assert Timecode.from_seconds(86400, RATES["24"]).frame_count == 0
    with pytest.raises(TypeError, match="exact"):
        Timecode.from_seconds(3603.6, NDF)


# --- samples ------------------------------------------------------------------------------

def test_samples_of_one_hour_drop_frame_at_48k():
    position = tc("01:00:00;00", DF).samples(48000)
    assert isinstance(position, Fraction)
    assert position == Fraction(107892 * 1001, 30000) * 48000
    assert position == Fraction(863999136, 5)  # 172799827.2: not a whole sample


def test_samples_of_23_976_at_44k1_stay_exact():
    rate = RATES["23.976"]
    # Each frame lasts 1001/24000 s = 1839.3375 samples at 44.1 kHz.
    starts = [Timecode.from_frames(n, rate).samples(44100) for n in range(9)]
    assert starts[1] == Fraction(1001 * 44100, 24000) == Fraction(147147, 80)
    assert all(b - a == starts[1] for a, b in zip(starts, starts[1:]))
    assert [s.denominator for s in starts[1:]] == [80, 40, 80, 20, 16, 40, 80, 10]
    assert Timecode.from_frames(80, rate).samples(44100) == 147147  # whole again every 80 frames
    assert tc("01:00:00:00", rate).samples(44100) == Fraction(36036, 10) * 44100 == 158918760


def test_whole_rates_give_whole_samples():
    assert tc("00:00:01:01", RATES["25"]).samples(48000) == 48000 + 1920
    assert tc("10:00:00:00", RATES["24"]).samples(44100) == 36000 * 44100


# --- the 24-hour wrap and arithmetic ---------------------------------------------------------

def test_from_frames_minus_one_is_the_last_frame_of_the_day():
    assert str(Timecode.from_frames(-1, DF)) == "23:59:59;29"
    assert Timecode.from_frames(-1, DF).frame_count == 2589407
    assert str(Timecode.from_frames(-1, NDF)) == "23:59:59:29"
    assert str(Timecode.from_frames(-1, RATES["25"])) == "23:59:59:24"
    assert str(Timecode.from_frames(-1, RATES["23.976"])) == "23:59:59:23"


@pytest.mark.parametrize("rate", RATES.values(), ids=lambda rate: rate.name)
def test_wrap_forwards_and_backwards(rate):
    day = rate.frames_per_day()
    assert Timecode.from_frames(day, rate).frame_count == 0
    assert Timecode.from_frames(day + 5, rate).frame_count == 5
    assert Timecode.from_frames(-day, rate).frame_count == 0
    assert Timecode.from_frames(-3 * day - 2, rate).frame_count == day - 2


def test_add_across_midnight():
    last = tc("23:59:59;29", DF)
    assert str(last + 1) == "00:00:00;00"
    assert str(last + 3) == "00:00:00;02"
    assert str(tc("00:00:00;01", DF) + -2) == "23:59:59;29"
    assert str(tc("23:59:59:24", RATES["25"]) + 25 * 60) == "00:00:59:24"


def test_add_crosses_drop_frame_minutes():
    assert str(tc("00:00:59;29", DF) + 1) == "00:01:00;02"
    assert str(tc("00:09:59;29", DF) + 1) == "00:10:00;00"


def test_subtraction():
    rate = RATES["24"]
    assert tc("01:00:01:00", rate) - tc("01:00:00:00", rate) == 24
    assert tc("01:00:00:00", rate) - tc("01:00:01:00", rate) == -24
    assert tc("00:10:00;00", DF) - tc("00:00:00;00", DF) == 17982
    # A plain difference of frame counts, not the shortest way round midnight.
    assert tc("00:00:00:00", rate) - tc("23:59:59:23", rate) == -(rate.frames_per_day() - 1)
    assert str(tc("00:00:00:00", rate) - 1) == "23:59:59:23"
    with pytest.raises(ValueError, match="different rates"):
        tc("01:00:00:00", NDF) - tc("01:00:00;00", DF)
    with pytest.raises(TypeError):
        tc("01:00:00:00", rate) - 1.5


def test_ordering_and_equality():
    rate = RATES["25"]
    assert tc("00:00:00:01", rate) < tc("00:00:01:00", rate) < tc("01:00:00:00", rate)
    assert tc("01:00:00:00", rate) == Timecode.from_frames(90000, rate)
    assert tc("01:00:00:00", rate) != tc("01:00:00:00", RATES["24"])
    assert tc("01:00:00:00", rate) >= Timecode.from_frames(90000, rate)
    assert max(tc("00:00:00:02", rate), tc("00:00:00:01", rate)) == Timecode.from_frames(2, rate)
    assert len({tc("01:00:00:00", rate), Timecode.from_frames(90000, rate)}) == 1


def test_timecodes_of_different_rates_do_not_order():
    with pytest.raises(ValueError, match="different rates"):
        tc("01:00:00;00", DF) < tc("01:00:00:00", NDF)
    with pytest.raises(ValueError, match="different rates"):
        sorted([tc("00:00:00:00", RATES["24"]), tc("00:00:00:00", RATES["25"])])


def test_direct_construction_is_checked():
    with pytest.raises(ValueError, match="outside the day"):
        Timecode(DF.frames_per_day(), DF)
    with pytest.raises(ValueError, match="outside the day"):
        Timecode(-1, DF)
    with pytest.raises(TypeError, match="must be an int"):
        Timecode(1.0, DF)


# --- parse errors --------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "01:00:00", "1:00:00:00", "01:00:00:00:00", "01-00-00-00",
                                  "01:00:00;0", "aa:bb:cc:dd", "01:00:00:00x", "01;00;00;00"])
def test_bad_syntax(text):
    with pytest.raises(ValueError, match="not a timecode"):
        tc(text, RATES["25"])


@pytest.mark.parametrize("text, rate, problem", [
    ("24:00:00:00", "25", "hours 24 out of range"),
    ("00:60:00:00", "25", "minutes 60 out of range"),
    ("00:00:60:00", "25", "seconds 60 out of range"),
    ("00:00:00:25", "25", "frames 25 out of range"),
    ("00:00:00:24", "24", "frames 24 out of range"),
    ("00:00:00:24", "23.976", "frames 24 out of range"),
    ("00:00:00:30", "29.97", "frames 30 out of range"),
    ("00:00:00;30", "29.97df", "frames 30 out of range"),
])
def test_out_of_range_fields(text, rate, problem):
    with pytest.raises(ValueError, match=problem):
        tc(text, RATES[rate])


@pytest.mark.parametrize("name", ["23.976", "24", "25", "29.97", "30"])
@pytest.mark.parametrize("separator", [";", ",", "."])
def test_drop_frame_separator_with_a_non_drop_rate(name, separator):
    with pytest.raises(ValueError, match="written as drop-frame.*non-drop rate"):
        tc(f"01:00:00{separator}00", RATES[name])


def test_parse_tolerates_surrounding_whitespace():
    assert tc(" 01:00:00:00\n", RATES["25"]).frame_count == 90000


def test_rates_compare_by_value():
    assert frame_rate("29.97df") == FrameRate("29.97df", Fraction(30000, 1001), 30, True)
