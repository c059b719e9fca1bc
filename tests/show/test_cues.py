"""The cue list, show-level: small show files rendered offline, block by block, as `liveengine render` does.

Each show is a TOML text, parsed with parse_show, laid out with build_rig and played through a
CueRunner exactly as `liveengine render` plays it (`show.offline.ShowRender`): per block, the
conductor's operations, then runner.update(position, lookahead_samples=block), the block, engine.poll().

Every part plays `tone` notes with a short attack and release on a bus of its own, with a mono
output of its own, so each part's onsets can be read off its channel. A tone's first sample is
0 and its second already sounds, so an onset is exact to the sample.
"""

import math

import numpy as np
import pytest

import ltcref
from liveengine.show.reader import ShowFileError, parse_show
from liveengine.show.click import ACCENT, clicks

from cueshows import (BLOCK, CLICK, CUE_SAMPLE, FOUR, MASTER, ONE, RATE, RELEASE_SAMPLES, SAMPLES_PER_FRAME, THREE,
                      TWO, Performance, onsets, part, show_text)


def midi_key_of(audio: np.ndarray) -> int:
    """The MIDI key nearest the frequency of the strongest sine in `audio`."""
    n = 1 << 16
    spectrum = np.abs(np.fft.rfft(audio.astype(np.float64), n))
    frequency = np.argmax(spectrum) * RATE / n
    return round(69 + 12 * math.log2(frequency / 440.0))


# --- 1. A timecode cue starts a part ------------------------------------------------------


def test_a_timecode_cue_places_every_note_of_its_part_on_its_exact_sample():
    # 70 bpm: 41142.86 samples per beat, so every note start is rounded; the last notes come
    # seconds after the cue's template (its first second), posted by the runner once the
    # engine has reported the start.
    beats = [0, 0.5, 1.25, 2, 3.5, 5, 7.75, 9.125]
    text = show_text(part("theme", "one", beats, length=0.125) + """
        [[cues]]
        number = "1M1"
        name = "Main title"
        at = "01:00:00:00"
        actions = [{start = "theme"}]
    """, tempo=70)
    show = Performance(text)
    samples_per_beat = 60 / 70 * RATE
    show.play_until(CUE_SAMPLE + round(10 * samples_per_beat))
    audio = show.audio
    assert onsets(audio[:, ONE]) == [CUE_SAMPLE + round(beat * samples_per_beat) for beat in beats]
    assert not np.delete(audio, ONE, axis=1).any(), "the part plays on its own bus's output only"
    assert (CUE_SAMPLE, "fired at 01:00:00:00") in show.decisions("1M1")
    assert not show.engine.late_events, "the runner posts every note ahead of its sample"
    assert show.runner.finished()


# --- 2. A click track --------------------------------------------------------------------


CLICK_SOUNDS = {"accent": 96, "beat": 84, "count-in": 88, "warning": 91}  # C7, C6, E6, G6


def test_a_click_with_tempo_and_meter_changes_clicks_on_its_exact_samples_on_the_click_outputs():
    text = show_text("""
        [clicks.conductor]
        instrument = "blip"
        bus = "click"
        tempo = [{bar = 1, bpm = 150}, {bar = 3, bpm = 100, ramp = true}, {bar = 5, bpm = 160}]
        meter = [{bar = 1, time = "4/4"}, {bar = 4, time = "3/4"}, {bar = 5, time = "2/4"}]
        bars = 5
        count_in = 1
        warnings = true
        accent = [96, 0.9]
        beat = [84, 0.5]
        count-in = [88, 0.6]
        warning = [91, 0.7]

        [[cues]]
        number = "1"
        at = "01:00:00:00"
        actions = [{start = "conductor"}]
    """)
    show = Performance(text)
    expected = clicks(show.show.clicks["conductor"].map)
    assert {click.kind for click in expected} == set(CLICK_SOUNDS)  # the map has every kind of click
    show.play_until(CUE_SAMPLE + round(expected[-1].seconds * RATE) + RATE // 2)
    audio = show.audio
    heard = onsets(audio[:, CLICK[0]])
    assert heard == [CUE_SAMPLE + round(click.seconds * RATE) for click in expected]
    assert onsets(audio[:, CLICK[1]]) == heard
    assert not audio[:, MASTER].any() and not audio[:, ONE:].any(), "the click never leaks into other outputs"
    # Each click sounds its kind's pitch: downbeats the accent, the count-in its own, and so on.
    click_samples = round(0.03 * RATE)
    keys = [midi_key_of(audio[start:start + click_samples, CLICK[0]]) for start in heard]
    assert keys == [CLICK_SOUNDS[click.kind] for click in expected]
    assert [key for key, click in zip(keys, expected) if click.beat == 1 and click.bar >= 1] == \
        [CLICK_SOUNDS[ACCENT]] * 5


# --- 3. The conductor's GO ---------------------------------------------------------------


GO_SHOW = (part("house", "one", [0, 1, 2]) + part("titles", "two", [0, 1, 2]) + part("tail", "three", [0, 1])
           + part("finale", "four", [0, 1, 2]) + """
    [[cues]]
    number = "1"
    name = "House to half"
    go = true
    actions = [{start = "house"}]

    [[cues]]
    number = "2"
    name = "Titles"
    go = true
    actions = [{start = "titles"}]

    [[cues]]
    number = "2.5"
    name = "Titles tail"
    follow = 0.75
    actions = [{start = "tail"}]

    [[cues]]
    number = "3"
    name = "Finale"
    go = true
    actions = [{start = "finale"}]
""")


def standing_by(show: Performance) -> str | None:
    return show.runner.standing_by.cue.number if show.runner.standing_by else None


def test_standby_back_and_jump_move_the_cue_standing_by_over_go_cues_only():
    show = Performance(show_text(GO_SHOW))
    assert standing_by(show) == "1"  # the first GO cue stands by from the start
    steps = [
        (lambda: show.runner.standby("3"), "3", ("3", "standing by")),
        # Back steps over the follow cue 2.5: only a GO cue can stand by for a GO.
        (show.runner.back, "2", ("2", "standing by (back)")),
        (show.runner.back, "1", ("1", "standing by (back)")),
        (show.runner.back, "1", ("", "back refused: no GO cue before the one standing by")),
        (lambda: show.runner.standby("9"), "1", ("", "standby refused: no cue '9'")),
        (lambda: show.runner.jump("3"), "3", ("3", "jumped here")),
        (lambda: show.runner.jump("9"), "3", ("", "jump refused: no cue '9'")),
    ]
    for operation, expected, decision in steps:
        operation()
        show.play_until(show.position + 2 * BLOCK)
        assert standing_by(show) == expected
        last = show.runner.decisions[-1]
        assert (last.cue, last.text) == decision
    assert not show.audio.any(), "moving the standby plays nothing"


def test_go_fires_the_cue_standing_by_and_a_follow_cue_fires_its_wait_after_it():
    show = Performance(show_text(GO_SHOW))
    show.runner.jump("2")  # cue 1 is never played
    first_go = 20000  # mid-block: a GO takes effect at the start of the block it falls in
    show.play_until(first_go)
    fired_at = show.position
    assert fired_at == first_go - first_go % BLOCK
    show.runner.go()
    show.play_until(first_go + 2 * RATE)
    assert standing_by(show) == "3"  # the follow cue 2.5 fires by itself
    second_go = show.position
    show.runner.go()
    show.play_until(second_go + RATE // 2)
    assert standing_by(show) is None
    refused_at = show.position
    show.runner.go()  # past the end of the cue list
    show.play_until(second_go + 3 * RATE)
    audio = show.audio
    beat = RATE // 2
    follow = fired_at + round(0.75 * RATE)
    assert onsets(audio[:, ONE]) == []
    assert onsets(audio[:, TWO]) == [fired_at, fired_at + beat, fired_at + 2 * beat]
    assert onsets(audio[:, THREE]) == [follow, follow + beat]
    assert onsets(audio[:, FOUR]) == [second_go, second_go + beat, second_go + 2 * beat]
    assert ("2", "GO") in [(d.cue, d.text) for d in show.runner.decisions]
    assert (follow, "fired") in show.decisions("2.5")
    assert (refused_at, "GO refused: no cue stands by (end of the cue list)") in show.decisions("")
    assert show.runner.finished()
    show.runner.back()  # from the end of the list, back to its last GO cue
    show.play_until(show.position + BLOCK)
    assert standing_by(show) == "3" and not show.runner.finished()


def test_a_jump_back_to_a_timecode_cue_replays_it_after_a_preroll():
    # As timecode master, a jump to a timecode cue stops what plays and relocates the timecode
    # two seconds (cues.JUMP_PREROLL_SECONDS) before the cue, which then fires again by itself.
    text = show_text(part("theme", "one", [0, 1, 2, 3, 4], length=0.5) + """
        [[cues]]
        number = "1M1"
        at = "01:00:00:00"
        actions = [{start = "theme"}]
    """)
    show = Performance(text)
    show.play_until(CUE_SAMPLE + RATE + 1000)
    jumped_at = show.position
    show.runner.jump("1M1")
    show.play_until(jumped_at + RATE // 2)
    located = [sample for sample, what in show.decisions("") if what == "timecode master jumps to 00:59:58:00"]
    # After the scheduling latency, on the master timecode's next frame boundary.
    assert len(located) == 1 and located[0] % SAMPLES_PER_FRAME == 0
    assert jumped_at <= located[0] < jumped_at + 2 * BLOCK + SAMPLES_PER_FRAME
    replay = located[0] + 2 * RATE
    show.play_until(replay + 3 * RATE)
    audio = show.audio[:, ONE]
    beat = RATE // 2
    assert onsets(audio) == [CUE_SAMPLE + k * beat for k in range(3)] + [replay + k * beat for k in range(5)]
    jump_fade = RATE // 2  # cues.JUMP_FADE_SECONDS
    assert not audio[jumped_at + jump_fade:replay].any(), "the jump faded the theme out"
    assert [what for _, what in show.decisions("1M1")] == [
        "fired at 01:00:00:00", "jumped here", "armed again: the picture went back before it",
        "fired at 01:00:00:00"]
    assert show.decisions("1M1")[-1][0] == replay


# --- 4. Stopping: a part, everything, and panic ------------------------------------------


# Two parts, each a note of 0.15 s every 0.25 s for three seconds (120 bpm).
PULSE = [0.5 * k for k in range(12)]
PULSE_LENGTH = 0.3


def pulse_show(stop_cue: str) -> str:
    return show_text(part("doomed", "one", PULSE, PULSE_LENGTH) + part("survivor", "two", PULSE, PULSE_LENGTH)
                     + """
        [[cues]]
        number = "1"
        at = "01:00:00:00"
        actions = [{start = "doomed"}, {start = "survivor"}]
    """ + stop_cue)


@pytest.mark.parametrize("frames, live_lookahead", [
    (13, False),  # 0.52 s: the notes still to come of the cue's template are already in the audio thread
    (41, False),  # 1.64 s: the runner posts the notes after the template's first second
    (41, True),  # live lookahead (0.2 s): the 1.75 s note was posted before the stop fired
], ids=["in the template", "runner-posted", "posted ahead"])
def test_a_stop_action_silences_its_part_and_only_its_part(frames, live_lookahead):
    text = pulse_show(f"""
        [[cues]]
        number = "2"
        at = "01:00:{frames // 25:02d}:{frames % 25:02d}"
        actions = [{{stop = "doomed"}}]
    """)
    show = Performance(text, live_lookahead=live_lookahead)
    show.play_until(CUE_SAMPLE + 4 * RATE)
    audio = show.audio
    stop = CUE_SAMPLE + frames * SAMPLES_PER_FRAME
    notes = [CUE_SAMPLE + round(beat * RATE / 2) for beat in PULSE]
    assert onsets(audio[:, TWO]) == notes
    assert onsets(audio[:, ONE]) == [note for note in notes if note < stop]
    assert np.abs(audio[stop - 100:stop, ONE]).max() > 0.01, "a note was sounding at the stop"
    assert not audio[stop + RELEASE_SAMPLES:, ONE].any(), "it releases, and nothing of the part follows"
    assert (stop, f"fired at 01:00:{frames // 25:02d}:{frames % 25:02d}") in show.decisions("2")
    posted_ahead = [sample for position, sample, bus in show.posted
                    if position < stop <= sample and bus == show.engine.bus_number("one")]
    assert bool(posted_ahead) == live_lookahead


def test_a_cue_that_stops_and_restarts_a_part_plays_it_again_from_the_top():
    # The audio thread supports this: PART_STOP releases the note group playing now, not the
    # fresh group the PART_START after it gives the new start.
    text = show_text(part("vamp", "one", [0, 1, 2, 3, 4, 5]) + """
        [[cues]]
        number = "1"
        at = "01:00:00:00"
        actions = [{start = "vamp"}]

        [[cues]]
        number = "2"
        name = "Vamp again"
        at = "01:00:02:00"
        actions = [{stop = "vamp"}, {start = "vamp"}]
    """)
    show = Performance(text)
    show.play_until(CUE_SAMPLE + 6 * RATE)
    beat, restart = RATE // 2, CUE_SAMPLE + 2 * RATE
    assert onsets(show.audio[:, ONE]) == [CUE_SAMPLE + k * beat for k in range(4)] + \
        [restart + k * beat for k in range(6)]


def test_a_gain_action_fades_its_bus_linearly_to_its_level():
    def play(cues: str) -> np.ndarray:
        text = show_text(part("pad", "one", [0], length=8) + part("bass", "two", [0], length=8, key=45) + """
            [[cues]]
            number = "1"
            at = "01:00:00:00"
            actions = [{start = "pad"}, {start = "bass"}]
        """ + cues)
        show = Performance(text)
        show.play_until(CUE_SAMPLE + 3 * RATE + 1000)
        return show.audio

    audio = play('[[cues]]\nnumber = "2"\nfollow = 0.5\nactions = [{gain = "one", db = -6, fade = 2}]\n')
    reference = play("")
    fade_at, fade = CUE_SAMPLE + RATE // 2, 2 * RATE
    target = 10 ** (-6 / 20)
    gain = np.concatenate([np.ones(fade_at), 1 + (target - 1) * np.arange(1, fade + 1) / fade,
                           np.full(len(audio) - fade_at - fade, target)])
    np.testing.assert_allclose(audio[:, ONE], reference[:, ONE] * gain, rtol=0, atol=2e-6)
    assert np.array_equal(audio[:, TWO], reference[:, TWO]), "other buses keep their level"


STOP_ALL_SHOW = (part("strings", "one", [0, 5], length=4.5) + part("brass", "two", [0, 5], length=4.5, key=57)
                 + """
    [[cues]]
    number = "1"
    at = "01:00:00:00"
    actions = [{start = "strings"}, {start = "brass"}]
""")
STOP_AT = CUE_SAMPLE + RATE  # 01:00:01:00, a block start


def play_stopping(stop: str) -> np.ndarray:
    """STOP_ALL_SHOW with a way of stopping at STOP_AT: a cue's action, the conductor, or none."""
    cues = {"stop_all cue": '[[cues]]\nnumber = "2"\nat = "01:00:01:00"\nactions = [{stop_all = 1.0}]\n',
            "panic cue": '[[cues]]\nnumber = "2"\nat = "01:00:01:00"\nactions = [{panic = true}]\n'}
    show = Performance(show_text(STOP_ALL_SHOW + cues.get(stop, "")))
    live = show.engine.producer("control")
    live.note_on(CUE_SAMPLE // 2, 7, 0, 81.0, 0.5, "master")  # a keyboard player's note (group 0), held
    show.play_until(STOP_AT)
    if stop == "stop_all by the conductor":
        show.runner.stop_all(1.0)
    elif stop == "panic by the conductor":
        show.runner.panic()
    show.play_until(CUE_SAMPLE + 4 * RATE)
    return show.audio


@pytest.mark.parametrize("stop", ["stop_all cue", "stop_all by the conductor"])
def test_stop_all_fades_every_part_out_over_its_fade(stop):
    audio = play_stopping(stop)
    reference = play_stopping("nothing")
    fade = RATE  # 1 s: a linear fade, one step per sample, from the stop's sample on
    ramp = 1.0 - np.arange(1, fade + 1) / fade
    for channel in (ONE, TWO):
        assert np.array_equal(audio[:STOP_AT, channel], reference[:STOP_AT, channel])
        faded = reference[STOP_AT:STOP_AT + fade, channel].astype(np.float64) * ramp
        np.testing.assert_allclose(audio[STOP_AT:STOP_AT + fade, channel], faded, rtol=0, atol=2e-6)
        # Then silence, though the parts held their notes and had more to come (at 2.5 s).
        assert not audio[STOP_AT + fade:, channel].any()
        assert reference[CUE_SAMPLE + round(2.6 * RATE):, channel].any()
    # The keyboard player's note is no part: it rings on.
    assert np.array_equal(audio[:, MASTER], reference[:, MASTER]) and audio[-1000:, MASTER].any()


@pytest.mark.parametrize("stop", ["panic cue", "panic by the conductor"])
def test_panic_silences_everything_at_once(stop):
    audio = play_stopping(stop)
    for channel in (MASTER[0], ONE, TWO):
        assert np.abs(audio[STOP_AT - 200:STOP_AT, channel]).max() > 0.01, "sounding before the panic"
    fast_fade = RATE * 5 // 1000  # 5 ms, never a click
    assert not audio[STOP_AT + fast_fade:].any(), "every note, the keyboard player's too, gone in 5 ms"


# --- 5. Chasing LTC ----------------------------------------------------------------------


LTC_CHASE = '[timecode]\nsource = "ltc"\ninput = 1\nrate = "25"\n'
# Seconds into cue 2 (120 bpm: two beats a second). The picture lands 4 s into the cue.
LANDING_SECONDS = 4.0
BEFORE_LANDING = [0.0, 1.0, 3.0, 3.8]  # the last one still held when the picture lands
AFTER_LANDING = [4.4, 5.0, 6.2, 7.0]  # whole frames, well after the landing


def test_a_chase_cue_joins_the_picture_part_way_and_a_cue_jumped_over_is_skipped():
    notes = [[69, 2 * t, 0.25, 0.5] for t in BEFORE_LANDING + AFTER_LANDING]
    notes[3][2] = 0.9  # 3.8 s to 4.25 s: across the landing, and the chase (3 frames after it)
    text = show_text(part("overture", "one", [0, 1, 2]) + f"""
        [[parts]]
        name = "reel"
        instrument = "tone"
        bus = "two"
        notes = {notes}

        [[cues]]
        number = "1"
        name = "Overture"
        at = "01:00:02:00"
        actions = [{{start = "overture"}}]

        [[cues]]
        number = "2"
        name = "Reel"
        at = "01:00:10:00"
        chase = true
        actions = [{{start = "reel"}}]
    """, timecode=LTC_CHASE, input_channels=1)
    fps = (25, 1)
    before = ltcref.encode(RATE, fps, (1, 0, 0, 0), 25)  # 01:00:00:00 for a second, then a jump
    landed = ltcref.encode(RATE, fps, (1, 0, 14, 0), 100)  # to 01:00:14:00 (cue 2 + 4 s), for 4 s
    ltc = np.concatenate([before.audio, landed.audio])
    show = Performance(text, inputs=ltc[:, None])
    show.play_until(len(ltc))
    audio = show.audio
    jump = len(before.audio)
    heard = onsets(audio[:, TWO])
    expected = [jump + landed.starts[round((t - LANDING_SECONDS) * 25)] for t in AFTER_LANDING]
    # The note held across the landing sounds from there (as soon as the runner hears of the
    # start: a few blocks); the notes after it fall where the picture puts them.
    chased_at = next(sample for sample, what in show.decisions("2") if what.startswith("chased"))
    assert chased_at <= heard[0] <= chased_at + 4 * BLOCK
    assert "parts stopped: the picture jumped" in [what for _, what in show.decisions("")]
    assert heard[1:] == [pytest.approx(sample, abs=1) for sample in expected]
    assert not audio[:heard[0], TWO].any(), "nothing from before the landing sounds"
    # Cue 1 at 01:00:02:00 was jumped over: it never plays, and the log says so.
    assert not audio[:, ONE].any()
    cue_1 = [what for _, what in show.decisions("1")]
    assert len(cue_1) == 1 and cue_1[0].startswith("skipped: the picture is past it")
    cue_2 = [what for _, what in show.decisions("2")]
    assert len(cue_2) == 1 and cue_2[0].startswith("chased 4.")


# --- 6. Show-file errors in the cue list -------------------------------------------------


CUE_ERRORS = {
    "unknown part": (
        '[[cues]]\nnumber = "1M1"\ngo = true\nactions = [{start = "strings"}]\n',
        "[cues.1M1 action 1] start: expected the name of a part", "theme, conductor", "got 'strings'"),
    "two triggers": (
        '[[cues]]\nnumber = "1M1"\nat = "01:00:00:00"\ngo = true\nactions = [{start = "theme"}]\n',
        "[cues.1M1]: expected exactly one trigger", "got at and go"),
    "no trigger": (
        '[[cues]]\nnumber = "1M1"\nactions = [{start = "theme"}]\n',
        "[cues.1M1]: expected exactly one trigger", "got none"),
    "follow on the first cue": (
        '[[cues]]\nnumber = "1M1"\nfollow = 2.0\nactions = [{start = "theme"}]\n',
        "[cues.1M1] follow: expected a cue before it to follow"),
    "unknown action": (
        '[[cues]]\nnumber = "1M1"\ngo = true\nactions = [{play = "theme"}]\n',
        "[cues.1M1] actions: expected a list, each item an action"),
    "unknown key in an action": (
        '[[cues]]\nnumber = "1M1"\ngo = true\nactions = [{start = "theme", fade = 2}]\n',
        "unknown key 'fade' in [cues.1M1 action 1]; known keys: start"),
    "duplicate number": (
        '[[cues]]\nnumber = "1M1"\ngo = true\nactions = [{start = "theme"}]\n'
        '[[cues]]\nnumber = "1M1"\ngo = true\nactions = [{stop = "theme"}]\n',
        "[cues #2] number: expected a number no other cue has, got '1M1'"),
}
CLICK_TABLE = """
[clicks.conductor]
instrument = "blip"
tempo = [{bar = 1, bpm = 120}, {bar = 9, bpm = 96}]
bars = %d
"""


@pytest.mark.parametrize("case", sorted(CUE_ERRORS))
def test_a_bad_cue_is_one_problem_naming_the_cue(case):
    cues, message, *details = CUE_ERRORS[case]
    text = show_text(part("theme", "one", [0]) + CLICK_TABLE % 9 + cues)
    with pytest.raises(ShowFileError) as raised:
        parse_show(text, "test.toml")
    assert len(raised.value.problems) == 1, raised.value.problems
    problem = raised.value.problems[0]
    assert problem.startswith(f"test.toml: {message}") and all(detail in problem for detail in details), problem


def test_a_tempo_change_after_the_last_bar_is_one_problem_naming_the_click():
    text = show_text(part("theme", "one", [0]) + CLICK_TABLE % 6
                     + '[[cues]]\nnumber = "1M1"\ngo = true\nactions = [{start = "conductor"}]\n')
    with pytest.raises(ShowFileError) as raised:
        parse_show(text, "test.toml")
    assert raised.value.problems == ["test.toml: [clicks.conductor]: tempo change at bar 9 is beyond the last bar (6)"]


def test_the_same_cues_without_the_mistake_make_a_show():
    # The error cases above fail for their mistake alone: this file, with them fixed, is fine.
    text = show_text(part("theme", "one", [0]) + CLICK_TABLE % 9 + """
        [[cues]]
        number = "1M1"
        at = "01:00:00:00"
        actions = [{start = "theme"}, {start = "conductor"}]
        [[cues]]
        number = "1M2"
        follow = 2.0
        actions = [{stop = "theme"}, {gain = "one", db = -6, fade = 2}, {stop_all = 1.5}, {panic = true}]
    """)
    show = parse_show(text, "test.toml")
    assert [(cue.number, cue.trigger) for cue in show.cues] == [("1M1", "timecode"), ("1M2", "follow")]
    assert [action.verb for action in show.cues[1].actions] == ["stop", "gain", "stop_all", "panic"]
