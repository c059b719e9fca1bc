"""The show file loader: the demo show, defaults, and a clear problem for each mistake."""

import pathlib
import re
import textwrap

import pytest
import soundfile

from fileproblems import only_problem, problems_of, write_file
from liveengine.cli import main
from liveengine.show.model import ShowConfig
from liveengine.show.reader import ShowFileError, load_show, parse_show

DEMO = pathlib.Path(__file__).resolve().parents[2] / "configs" / "demo.toml"

MINIMAL = '[show]\nname = "Test"\n'


def write_show(directory: pathlib.Path, text: str, name: str = "show.toml") -> pathlib.Path:
    return write_file(directory, text, name)


def problems_in(directory: pathlib.Path, text: str) -> list[str]:
    """The problems load_show reports for a show file with this text."""
    return problems_of(load_show, ShowFileError, write_show(directory, text))


def only_problem_in(directory: pathlib.Path, text: str) -> str:
    """The one problem load_show reports, without the file name that starts it."""
    return only_problem(problems_in(directory, text))


def route_end(show: ShowConfig, bus: str) -> str:
    while show.buses[bus].feeds is not None:
        bus = show.buses[bus].feeds
    return bus


# --- The demo ---------------------------------------------------------------------------


def test_demo_loads_with_its_audio_settings():
    show = load_show(DEMO)
    assert show.path == DEMO
    assert show.name == "Demo concert"
    assert show.audio.sample_rate == 48000
    assert show.audio.block_size == 64
    assert show.audio.output_channels == 4
    assert show.audio.input_channels == 2
    assert show.audio.voices == 512
    assert show.audio.device is None
    assert 20 <= 40 * show.seconds_per_beat() <= 30


def test_demo_routes_the_main_mix_to_1_2_and_the_click_to_3_4():
    show = load_show(DEMO)
    assert list(show.buses)[0] == "master"
    assert {"master", "keys", "stems", "click"} <= show.buses.keys()
    assert show.buses["master"].outputs == (0, 1)
    assert show.buses["click"].outputs == (2, 3)
    assert show.buses["click"].feeds is None
    assert show.buses["keys"].feeds == "master"
    assert show.buses["stems"].feeds == "master"  # left out of the file: its default

    assert show.clicks["conductor"].bus == "click"
    for part in show.parts:
        assert route_end(show, part.bus) == "master", part.name


def test_demo_click_accents_the_first_beat_of_each_bar():
    from liveengine.show.click import ACCENT, clicks
    show = load_show(DEMO)
    click = show.clicks["conductor"]
    assert show.instruments[click.instrument].type == "tone"
    beats = clicks(click.map)
    assert len(beats) == 4 * (1 + 9)  # a bar of count-in, nine bars
    for beat in beats:
        assert (beat.kind == ACCENT) == (beat.bar >= 1 and beat.beat == 1)
    assert click.sounds[ACCENT][1] > click.sounds["beat"][1]


def test_the_tempo_map_the_demo_suggests_is_valid_and_ramps(tmp_path):
    text = DEMO.read_text()
    written, suggested = re.search(r"^tempo = (\[.*?\]) +# e\.g\. (\[.*\])$", text, re.MULTILINE).groups()
    show = load_show(write_show(tmp_path, text.replace(f"tempo = {written}", f"tempo = {suggested}")))
    tempos = show.clicks["conductor"].map.tempos
    assert [(tempo.bar, tempo.bpm, tempo.ramp) for tempo in tempos] == [(1, 90, False), (7, 90, True), (9, 72, False)]


def test_demo_main_mix_stays_well_under_full_scale(tmp_path):
    """The whole demo, rendered: its loudest moment stays under -2 dBFS, so the limiter (-0.3 dBFS) never acts."""
    output = tmp_path / "demo.wav"
    assert main(["render", str(DEMO), "-o", str(output)]) == 0
    audio, _ = soundfile.read(output)
    assert 0.05 < abs(audio).max() < 0.8


# --- Defaults ---------------------------------------------------------------------------


def test_defaults_for_a_show_with_only_a_name(tmp_path):
    show = load_show(write_show(tmp_path, MINIMAL))
    assert show.name == "Test"
    assert show.tempo_bpm == 120.0
    assert show.seconds_per_beat() == 0.5
    assert show.audio.device is None
    assert show.audio.sample_rate == 48000
    assert show.audio.block_size == 256
    assert show.audio.output_channels == 2
    assert show.audio.input_channels == 0
    assert show.audio.voices == 512
    assert show.audio.scheduling_latency_ms is None
    assert show.audio.limiter_ceiling_db == -0.3
    assert show.instruments == {}
    assert show.parts == ()
    assert list(show.buses) == ["master", "keys", "stems", "click"]
    master = show.buses["master"]
    assert (master.outputs, master.feeds, master.gain_db, master.mute) == ((0, 1), None, 0.0, False)
    assert show.buses["keys"].feeds == show.buses["stems"].feeds == "master"
    assert show.buses["keys"].outputs == ()


def test_an_absent_click_is_silent_with_fewer_than_four_outputs(tmp_path):
    show = load_show(write_show(tmp_path, MINIMAL))
    assert show.buses["click"].outputs == ()
    assert show.buses["click"].feeds is None


def test_an_absent_click_takes_outputs_3_4_when_they_exist(tmp_path):
    show = load_show(write_show(tmp_path, MINIMAL + "[audio]\noutput_channels = 4\n"))
    assert show.buses["click"].outputs == (2, 3)


def test_a_single_output_gives_master_channel_1(tmp_path):
    show = load_show(write_show(tmp_path, MINIMAL + "[audio]\noutput_channels = 1\n"))
    assert show.buses["master"].outputs == (0,)


def test_a_required_bus_keeps_its_default_route_when_only_its_gain_is_set(tmp_path):
    show = load_show(write_show(tmp_path, MINIMAL + "[buses.keys]\ngain_db = -6\n"))
    assert show.buses["keys"].gain_db == -6.0
    assert show.buses["keys"].feeds == "master"


def test_buses_keep_file_order_after_master(tmp_path):
    text = MINIMAL + textwrap.dedent("""
        [buses.fx]
        to = "keys"
        [buses.keys]
        to = "master"
        [buses.master]
        outputs = [2, 1]
    """)
    show = load_show(write_show(tmp_path, text))
    assert list(show.buses) == ["master", "fx", "keys", "stems", "click"]
    assert show.buses["master"].outputs == (1, 0)
    assert show.buses["fx"].feeds == "keys"


def test_integers_are_accepted_where_numbers_are_expected(tmp_path):
    text = MINIMAL + textwrap.dedent("""
        tempo = 96
        [audio]
        scheduling_latency_ms = 2
        limiter_ceiling_db = -1
    """)
    show = load_show(write_show(tmp_path, text))
    assert show.tempo_bpm == 96.0 and isinstance(show.tempo_bpm, float)
    assert show.audio.scheduling_latency_ms == 2.0
    assert show.audio.limiter_ceiling_db == -1.0


def test_device_may_be_a_name_or_an_index(tmp_path):
    by_name = load_show(write_show(tmp_path, MINIMAL + '[audio]\ndevice = "Focusrite"\n'))
    by_index = load_show(write_show(tmp_path, MINIMAL + "[audio]\ndevice = 3\n"))
    assert by_name.audio.device == "Focusrite"
    assert by_index.audio.device == 3


def test_parse_show_reads_text_and_names_the_given_path():
    show = parse_show(MINIMAL, "inline.toml")
    assert show.path == pathlib.Path("inline.toml")
    with pytest.raises(ShowFileError) as caught:
        parse_show("[show]\n", "inline.toml")
    assert caught.value.problems == [
        "inline.toml: [show] name: expected a non-empty string, got nothing"
    ]


# --- Parts and notes --------------------------------------------------------------------

PART = MINIMAL + textwrap.dedent("""
    [instruments.bell]
    type = "tone"
    [[parts]]
    name = "melody"
    instrument = "bell"
""")


@pytest.mark.parametrize(
    ("pitch", "key"),
    [
        ('"C4"', 60),
        ('"c4"', 60),
        ('"c#4"', 61),
        ('"Eb3"', 51),
        ('"bb3"', 58),
        ('"B#3"', 60),
        ('"Cb4"', 59),
        ('"C-1"', 0),
        ('"G9"', 127),
        ('"A4"', 69),
        ("0", 0),
        ("127", 127),
    ],
)
def test_note_names_and_numbers(tmp_path, pitch, key):
    show = load_show(write_show(tmp_path, PART + f"notes = [[{pitch}, 0, 1, 0.5]]\n"))
    assert show.parts[0].notes[0].key == key


def test_a_part_reads_its_notes_and_defaults_to_the_keys_bus(tmp_path):
    notes = 'notes = [["E5", 0, 1, 0.8], [76, 1.5, 0.5, 1]]\n'
    show = load_show(write_show(tmp_path, PART + notes))
    (part,) = show.parts
    assert (part.name, part.instrument, part.bus) == ("melody", "bell", "keys")
    assert [(n.key, n.start_beat, n.length_beats, n.velocity) for n in part.notes] == [
        (76, 0.0, 1.0, 0.8),
        (76, 1.5, 0.5, 1.0),
    ]


def test_instrument_defaults(tmp_path):
    bell = load_show(write_show(tmp_path, PART)).instruments["bell"]
    assert (bell.name, bell.type, bell.attack_ms, bell.release_ms, bell.gain_db) == (
        "bell", "tone", 5.0, 150.0, 0.0,
    )


# --- One mistake, one clear problem -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param(
            "[show]\ntempo = 90\n",
            "[show] name: expected a non-empty string, got nothing",
            id="missing-show-name",
        ),
        pytest.param(
            "",
            "[show] name: expected a non-empty string, got nothing",
            id="empty-file",
        ),
        pytest.param(
            "[show]\nname = 5\n",
            "[show] name: expected a non-empty string, got 5",
            id="name-not-a-string",
        ),
        pytest.param(
            MINIMAL + '[audio]\nblock_size = "64"\n',
            "[audio] block_size: expected an integer from 32 to 1024, got '64'",
            id="string-for-integer",
        ),
        pytest.param(
            MINIMAL + "[audio]\nvoices = true\n",
            "[audio] voices: expected an integer from 1 to 4096, got True",
            id="bool-is-not-an-integer",
        ),
        pytest.param(
            MINIMAL + "[audio]\noutput_channels = 2.0\n",
            "[audio] output_channels: expected an integer from 1 to 64, got 2.0",
            id="float-for-integer",
        ),
        pytest.param(
            MINIMAL + "[audio]\nblock_size = 4096\n",
            "[audio] block_size: expected an integer from 32 to 1024, got 4096",
            id="block-size-4096",
        ),
        pytest.param(
            MINIMAL + "[audio]\nsample_rate = 22050\n",
            "[audio] sample_rate: expected one of 44100, 48000, 96000, got 22050",
            id="sample-rate-22050",
        ),
        pytest.param(
            MINIMAL + "[audio]\nsample_rate = 48000.0\n",
            "[audio] sample_rate: expected one of 44100, 48000, 96000, got 48000.0",
            id="sample-rate-as-float",
        ),
        pytest.param(
            MINIMAL + "[audio]\nlimiter_ceiling_db = 3\n",
            "[audio] limiter_ceiling_db: expected a number from -24 to 0, got 3",
            id="limiter-above-zero",
        ),
        pytest.param(
            MINIMAL + "[audio]\nscheduling_latency_ms = -1\n",
            "[audio] scheduling_latency_ms: expected a number from 0 to 1000, got -1",
            id="negative-latency",
        ),
        pytest.param(
            MINIMAL + "[audio]\ndevice = -1\n",
            "[audio] device: expected an output device name or index (an integer from 0), got -1",
            id="negative-device",
        ),
        pytest.param(
            MINIMAL + "tempo = 0\n",
            "[show] tempo: expected a number from 10 to 400, got 0",
            id="tempo-zero",
        ),
        pytest.param(
            MINIMAL + "tempo = 1e-300\n",
            "[show] tempo: expected a number from 10 to 400, got 1e-300",
            id="tempo-vanishing",
        ),
        pytest.param(
            MINIMAL + "tempo = inf\n",
            "[show] tempo: expected a number from 10 to 400, got inf",
            id="tempo-infinite",
        ),
        pytest.param(
            MINIMAL + "[audio]\nblok_size = 64\n",
            "unknown key 'blok_size' in [audio]; known keys: block_size, device, input_channels, interpolation, "
            "limiter_ceiling_db, output_channels, sample_memory_mb, sample_preload_frames, sample_rate, "
            "scheduling_latency_ms, voices",
            id="unknown-key",
        ),
        pytest.param(
            MINIMAL + "[audoi]\nblock_size = 64\n",
            "unknown key 'audoi' in the top level; known keys: audio, buses, clicks, conductor, cues, hits, instruments, "
            "keyboards, osc, parts, setups, show, stems, timecode, web",
            id="unknown-table",
        ),
        pytest.param(
            MINIMAL + "[buses.click]\noutputs = [3, 4]\n",
            "[buses.click] outputs: expected a list of 1 or 2 different output channels from 1 to 2, "
            "got [3, 4]",
            id="output-beyond-channel-count",
        ),
        pytest.param(
            MINIMAL + "[buses.master]\noutputs = [0, 1]\n",
            "[buses.master] outputs: expected a list of 1 or 2 different output channels from 1 to 2, "
            "got [0, 1]",
            id="output-zero",
        ),
        pytest.param(
            MINIMAL + "[audio]\noutput_channels = 4\n[buses.click]\noutputs = [3, 3]\n",
            "[buses.click] outputs: expected a list of 1 or 2 different output channels from 1 to 4, "
            "got [3, 3]",
            id="output-twice",
        ),
        pytest.param(
            MINIMAL + '[buses.fx]\nto = "reverb"\n',
            "[buses.fx] to: expected the name of another bus (master, keys, stems, click), got 'reverb'",
            id="to-unknown-bus",
        ),
        pytest.param(
            MINIMAL + '[buses.fx]\nto = "fx"\n',
            "[buses.fx] to: expected the name of another bus (master, keys, stems, click), got 'fx'",
            id="to-itself",
        ),
        pytest.param(
            MINIMAL + '[buses.a]\nto = "b"\n[buses.b]\nto = "a"\n',
            "[buses.a] to: expected a route that ends at outputs, got a loop: a -> b -> a",
            id="loop",
        ),
        pytest.param(
            MINIMAL + '[buses.keys]\nto = "fx"\n[buses.fx]\nto = "drums"\n[buses.drums]\nto = "keys"\n',
            "[buses.keys] to: expected a route that ends at outputs, got a loop: keys -> fx -> drums -> keys",
            id="longer-loop",
        ),
        pytest.param(
            MINIMAL + '[buses.fx]\noutputs = [1]\nto = "master"\n',
            "[buses.fx]: expected either outputs or to, got both",
            id="outputs-and-to",
        ),
        pytest.param(
            MINIMAL + "[buses.fx]\ngain_db = -3\n",
            "[buses.fx]: expected either outputs or to, got neither",
            id="neither-outputs-nor-to",
        ),
        pytest.param(
            MINIMAL + '[buses.master]\nto = "keys"\n',
            "[buses.master] to: expected no 'to' at all (master is where every route ends), got 'keys'",
            id="master-with-to",
        ),
        pytest.param(
            MINIMAL + "[buses.master]\ngain_db = 20\n",
            "[buses.master] gain_db: expected a number from -96 to 12, got 20",
            id="gain-too-high",
        ),
        pytest.param(
            MINIMAL + '[buses.keys]\nmute = "yes"\n',
            "[buses.keys] mute: expected true or false, got 'yes'",
            id="mute-not-bool",
        ),
        pytest.param(
            MINIMAL + "".join(f'[buses.extra{number}]\nto = "master"\n' for number in range(13)),
            "[buses]: expected at most 16 buses (master, keys, stems, click included), got 17",
            id="too-many-buses",
        ),
        pytest.param(
            MINIMAL + '[buses.click]\nto = "master"\n',
            "[buses.click]: the click would play on master's outputs 1, 2; give it its own",
            id="click-into-main-mix",
        ),
        pytest.param(
            MINIMAL + "[audio]\noutput_channels = 4\n[buses.click]\noutputs = [2, 3]\n",
            "[buses.click]: the click would play on master's outputs 2; give it its own",
            id="click-sharing-a-main-output",
        ),
        pytest.param(
            MINIMAL + '[instruments.piano]\ntype = "sampler"\n',
            "[instruments.piano] type: expected one of 'tone', 'sfz', 'sf2', 'synth', 'lv2', got 'sampler'",
            id="unknown-instrument-type",
        ),
        pytest.param(
            MINIMAL + "[instruments.piano]\nattack_ms = 5\n",
            "[instruments.piano] type: expected one of 'tone', 'sfz', 'sf2', 'synth', 'lv2', got nothing",
            id="instrument-without-type",
        ),
        pytest.param(
            MINIMAL + '[instruments.pad]\ntype = "tone"\nrelease_ms = 0\n',
            "[instruments.pad] release_ms: expected a number from 1 to 20000, got 0",
            id="release-zero",
        ),
        pytest.param(
            MINIMAL + '[[parts]]\nname = "melody"\ninstrument = "piano"\n',
            "[parts.melody] instrument: expected the name of an instrument (none are defined), got 'piano'",
            id="part-unknown-instrument",
        ),
        pytest.param(
            PART + 'bus = "strings"\n',
            "[parts.melody] bus: expected the name of a bus (master, keys, stems, click), got 'strings'",
            id="part-unknown-bus",
        ),
        pytest.param(
            MINIMAL + '[instruments.bell]\ntype = "tone"\n[[parts]]\ninstrument = "bell"\n',
            "[parts #1] name: expected a non-empty string, got nothing",
            id="part-without-name",
        ),
        pytest.param(
            PART + '[[parts]]\nname = "melody"\ninstrument = "bell"\n',
            "[parts #2] name: expected a name no other part has, got 'melody'",
            id="two-parts-one-name",
        ),
        pytest.param(
            PART + 'notes = [["C4", 0, 1, 0.5], ["H4", 1, 1, 0.5]]\n',
            "[parts.melody] note 2 pitch: expected a MIDI note number from 0 to 127 or a note name "
            "like 'C4', 'F#3', 'Eb5', got 'H4'",
            id="bad-note-name",
        ),
        pytest.param(
            PART + 'notes = [["G#9", 0, 1, 0.5]]\n',
            "[parts.melody] note 1 pitch: expected a MIDI note number from 0 to 127 or a note name "
            "like 'C4', 'F#3', 'Eb5', got 'G#9'",
            id="note-name-above-127",
        ),
        pytest.param(
            PART + "notes = [[128, 0, 1, 0.5]]\n",
            "[parts.melody] note 1 pitch: expected a MIDI note number from 0 to 127 or a note name "
            "like 'C4', 'F#3', 'Eb5', got 128",
            id="note-number-above-127",
        ),
        pytest.param(
            PART + 'notes = [["C4", 0, 1]]\n',
            "[parts.melody] note 1: expected a note [pitch, start beat, length in beats, velocity], "
            "got ['C4', 0, 1]",
            id="note-missing-velocity",
        ),
        pytest.param(
            PART + 'notes = [["C4", -1, 1, 0.5]]\n',
            "[parts.melody] note 1 start: expected a number from 0 to 100000, got -1",
            id="note-before-zero",
        ),
        pytest.param(
            PART + 'notes = [["C4", 0, 0, 0.5]]\n',
            "[parts.melody] note 1 length: expected a number above 0 and at most 100000, got 0",
            id="note-without-length",
        ),
        pytest.param(
            PART + 'notes = [["C4", 0, 1, 1.5]]\n',
            "[parts.melody] note 1 velocity: expected a number above 0 and at most 1, got 1.5",
            id="velocity-above-1",
        ),
        pytest.param(
            PART + 'notes = "C4 D4"\n',
            "[parts.melody] notes: expected a list, got 'C4 D4'",
            id="notes-not-a-list",
        ),
        pytest.param(
            PART + 'tempo = 90\n',
            "unknown key 'tempo' in [parts.melody]; known keys: bus, channel, instrument, midi_file, name, notes, track",
            id="unknown-key-in-part",
        ),
        pytest.param(
            MINIMAL + "parts = 3\n",
            "unknown key 'parts' in [show]; known keys: name, tempo",
            id="top-level-key-written-under-a-table",
        ),
    ],
)
def test_each_mistake_is_one_problem_naming_file_table_and_key(tmp_path, text, problem):
    assert only_problem_in(tmp_path, text) == problem


def test_parts_not_an_array_of_tables(tmp_path):
    text = 'parts = 3\n[show]\nname = "Test"\n'
    assert only_problem_in(tmp_path, text) == "parts: expected an array of tables ([[...]]), got 3"


def test_toml_syntax_error_names_line_and_column(tmp_path):
    problem = only_problem_in(tmp_path, '[show]\nname = "Test"\n[audio]\nblock_size = = 64\n')
    assert problem.startswith("TOML syntax error: ")
    assert "line 4" in problem and "column" in problem


def test_missing_file_is_one_clear_problem(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(ShowFileError) as caught:
        load_show(path)
    assert caught.value.problems == [
        f"{path}: cannot read the show file: No such file or directory"
    ]


def test_a_file_that_is_not_utf8_is_one_clear_problem(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[show]\nname = "Café"\n'.encode("latin-1"))
    with pytest.raises(ShowFileError) as caught:
        load_show(path)
    assert caught.value.problems == [f"{path}: not UTF-8 text (byte 18)"]


def test_messages_use_the_path_as_given(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_show(tmp_path, MINIMAL + "[audio]\nblock_size = 4096\n", name="demo.toml")
    with pytest.raises(ShowFileError) as caught:
        load_show("demo.toml")
    assert caught.value.problems == [
        "demo.toml: [audio] block_size: expected an integer from 32 to 1024, got 4096"
    ]


def test_every_problem_in_a_file_is_reported_at_once(tmp_path):
    text = textwrap.dedent("""
        [show]
        tempo = "fast"

        [audio]
        block_size = 4096
        sample_rate = 22050
        blok_size = 64

        [buses.click]
        outputs = [3, 4]

        [buses.fx]
        to = "reverb"

        [instruments.bell]
        type = "tone"

        [[parts]]
        name = "melody"
        instrument = "piano"
        notes = [["H4", 0, 1, 0.5], ["C4", 0, 1, 0.5], ["C4", 0, 1, 2]]
    """)
    problems = [problem.split(": ", 1)[1] for problem in problems_in(tmp_path, text)]
    where = [problem.split(":")[0] for problem in problems]
    assert where == [
        "[show] name",
        "[show] tempo",
        "[audio] sample_rate",
        "[audio] block_size",
        "[buses.click] outputs",
        "[buses.fx] to",
        "[parts.melody] instrument",
        "[parts.melody] note 1 pitch",
        "[parts.melody] note 3 velocity",
        "unknown key 'blok_size' in [audio]; known keys",
    ]


def test_more_instruments_than_the_engine_holds_is_a_problem(tmp_path):
    tables = "".join(f'[instruments.i{n}]\ntype = "tone"\n' for n in range(65))
    with pytest.raises(ShowFileError) as error:
        load_show(write_show(tmp_path, MINIMAL + tables))
    assert any("[instruments]" in problem and "at most 64" in problem for problem in error.value.problems)


def test_timecode_defaults_to_the_engines_own_clock(tmp_path):
    timecode = load_show(write_show(tmp_path, MINIMAL)).timecode
    assert timecode.source == "none" and timecode.input is None
    assert timecode.rate.name == "24" and timecode.freewheel_seconds == 2.0


def test_ltc_timecode_on_an_input(tmp_path):
    text = MINIMAL + '[audio]\ninput_channels = 2\n[timecode]\nsource = "ltc"\ninput = 2\nrate = "29.97df"\n'
    timecode = load_show(write_show(tmp_path, text)).timecode
    assert timecode.source == "ltc" and timecode.input == 1
    assert timecode.rate.drop_frame and timecode.rate.nominal == 30
    assert timecode.follow_speed == 0.02
    timecode = load_show(write_show(tmp_path, text + "follow_speed = 0.1\n")).timecode
    assert timecode.follow_speed == 0.1


@pytest.mark.parametrize("text, key", [
    ('[audio]\ninput_channels = 2\n[timecode]\nsource = "ltc"\n', "[timecode] input"),
    ('[audio]\ninput_channels = 2\n[timecode]\nsource = "ltc"\ninput = 3\n', "[timecode] input"),
    ('[timecode]\nsource = "ltc"\n', "[timecode] source"),
    ('[timecode]\nsource = "mtcc"\n', "[timecode] source"),
    ('[timecode]\nrate = "30df"\n', "[timecode] rate"),
    ('[audio]\noutput_channels = 4\n[timecode]\nltc_output = 3\n', "[timecode] ltc_output"),  # the click's
    ('[audio]\noutput_channels = 4\n[timecode]\nltc_output = 9\n', "[timecode] ltc_output"),
    ('[audio]\noutput_channels = 5\n[timecode]\nltc_output = 5\nmaster_start = "25:00:00:00"\n',
     "[timecode] master_start"),
    ('[timecode]\nsource = "mtc"\nmidi_input = "x"\nmaster_start = "01:00:00:00"\n', "[timecode] master_start"),
    ('[timecode]\nsource = "mtc"\nmidi_input = "x"\nmtc_output = "y"\n', "[timecode] mtc_output"),
    ('[timecode]\nmtc_output = ""\n', "[timecode] mtc_output"),
    ('[timecode]\nsource = "mtc"\nmidi_input = "x"\nfollow_speed = 0\n', "[timecode] follow_speed: expected a share"),
    ('[timecode]\nsource = "mtc"\nmidi_input = "x"\nfollow_speed = 0.2\n', "[timecode] follow_speed: expected a share"),
    ('[timecode]\nsource = "mtc"\nmidi_input = "x"\nfollow_speed = "2 %"\n', "[timecode] follow_speed"),
    ('[timecode]\nfollow_speed = 0.02\n', "[timecode] follow_speed: expected source \"ltc\" or \"mtc\""),
])
def test_bad_timecode_settings_are_named(tmp_path, text, key):
    with pytest.raises(ShowFileError) as error:
        load_show(write_show(tmp_path, MINIMAL + text))
    assert any(key in problem for problem in error.value.problems), error.value.problems


def test_mtc_timecode_names_its_midi_input(tmp_path):
    text = MINIMAL + '[timecode]\nsource = "mtc"\nmidi_input = "media server"\nrate = "29.97df"\n'
    timecode = load_show(write_show(tmp_path, text)).timecode
    assert timecode.source == "mtc" and timecode.midi_input == "media server" and timecode.input is None
    with pytest.raises(ShowFileError) as error:
        load_show(write_show(tmp_path, MINIMAL + '[timecode]\nsource = "mtc"\n'))
    assert any("[timecode] midi_input" in problem for problem in error.value.problems)


def test_ltc_output_on_a_channel_of_its_own(tmp_path):
    text = MINIMAL + ('[audio]\noutput_channels = 5\n[timecode]\nrate = "29.97df"\nltc_output = 5\n'
                      'master_start = "00:59:30;00"\n')
    timecode = load_show(write_show(tmp_path, text)).timecode
    assert timecode.ltc_output == 4 and str(timecode.master_start) == "00:59:30;00"
