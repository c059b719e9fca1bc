"""The `liveengine` command as a user runs it: a real subprocess, real files."""

import os
import re
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile

from commandline import DEMO, ROOT, liveengine


def test_check_describes_the_demo():
    result = liveengine("check", DEMO)
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout and "bus click" in result.stdout and "outputs 3, 4" in result.stdout


BAD_SHOWS = {
    "missing name": ("[show]\ntempo = 90\n", "[show] name"),
    "wrong type": ('[show]\nname = "x"\n[audio]\nblock_size = "big"\n', "block_size"),
    "unknown key": ('[show]\nname = "x"\n[audio]\nblok_size = 64\n', "blok_size"),
    "impossible block size": ('[show]\nname = "x"\n[audio]\nblock_size = 4096\n', "block_size"),
    "impossible rate": ('[show]\nname = "x"\n[audio]\nsample_rate = 22050\n', "sample_rate"),
    "syntax": ('[show\nname = "x"\n', "TOML"),
}


@pytest.mark.parametrize("case", sorted(BAD_SHOWS))
@pytest.mark.parametrize("command", ["check", "render", "run"])
def test_a_bad_show_file_gets_one_clear_message_and_no_traceback(tmp_path, case, command):
    text, key = BAD_SHOWS[case]
    show = tmp_path / "bad.toml"
    show.write_text(text)
    extra = ["-o", tmp_path / "out.wav"] if command == "render" else []
    result = liveengine(command, show, *extra)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(show) in lines[0] and key in lines[0]


def test_a_missing_show_file_is_named(tmp_path):
    result = liveengine("check", tmp_path / "nowhere.toml")
    assert result.returncode == 2 and "nowhere.toml" in result.stderr and "Traceback" not in result.stderr


SHIPPED_PATCHES = sorted(path.stem for path in (ROOT / "patches").glob("*.toml"))


@pytest.mark.parametrize("name, nearest", [("warm_pd", "warm_pad"), ("Sub_Bass", "sub_bass"), ("theremin", None)])
def test_a_wrong_patch_name_lists_the_shipped_patches_and_the_nearest(tmp_path, name, nearest):
    show = tmp_path / "show.toml"
    show.write_text(DEMO.read_text().replace('patch = "warm_pad"', f'patch = "{name}"'))
    result = liveengine("check", show)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    hint = f" (did you mean {nearest!r}?)" if nearest else ""
    assert line == (f"{show}: [instruments.pad] patch: no shipped patch is called {name!r}{hint}; "
                    f"the shipped patches are {', '.join(SHIPPED_PATCHES)}; "
                    f'a patch file of your own is named by its path, e.g. "my_patches/lead.toml"')


def test_demo_copies_the_demo_show_out_and_never_over_a_file(tmp_path):
    result = liveengine("demo", tmp_path)
    assert result.returncode == 0, result.stderr
    copy = tmp_path / "demo.toml"
    assert copy.read_text() == DEMO.read_text()
    assert f"liveengine check {copy}" in result.stdout
    copy.write_text("mine")
    again = liveengine("demo", tmp_path)
    assert again.returncode == 1 and again.stderr == f"liveengine: {copy} exists: give another folder, or move it away\n"
    assert copy.read_text() == "mine"
    missing = liveengine("demo", tmp_path / "elsewhere")
    assert missing.returncode == 1 and "cannot write" in missing.stderr and "Traceback" not in missing.stderr


def test_render_writes_the_whole_demo_faster_than_real_time(tmp_path):
    out = tmp_path / "demo.wav"
    result = liveengine("render", DEMO, "-o", out)
    assert result.returncode == 0, result.stderr
    assert "Preparing kernels" in result.stdout
    audio, rate = soundfile.read(out)
    assert rate == 48000 and audio.shape[1] == 4
    assert audio.shape[0] / rate > 25
    main, click = audio[:, :2], audio[:, 2:]
    assert 0.05 < np.abs(main).max() < 1.0
    # Cue 1M1 at 01:00:00:00, two seconds after the master timecode's start, starts the click
    # on its own outputs, and the music after its one-bar count-in.
    cue = 2 * 48000
    beat = 48000 * 60 // 90
    first_click = np.argmax(np.abs(click[:, 0]) > 0)
    assert first_click == cue + 1  # the blip's first non-zero sample is its second
    assert np.abs(click[cue + beat - 100:cue + beat + 400, 0]).max() > 0.1
    assert np.abs(main[:cue + 4 * beat - 1]).max() == 0.0, "the music starts after the one-bar count-in"
    assert re.search(r"2\.000 s  cue 1M1: fired at 01:00:00:00", result.stdout)


def test_render_a_fixed_length_as_flac(tmp_path):
    out = tmp_path / "head.flac"
    result = liveengine("render", DEMO, "-o", out, "--seconds", "2", "--sample-rate", "44100")
    assert result.returncode == 0, result.stderr
    info = soundfile.info(out)
    assert info.samplerate == 44100 and info.frames == 88200 and info.format == "FLAC"


def test_run_without_a_sound_card_names_the_devices_and_the_jack_dummy_option(tmp_path):
    env = dict(os.environ, JACK_DEFAULT_SERVER="liveengine-no-such-server", JACK_NO_START_SERVER="1")
    result = liveengine("run", DEMO, "--seconds", "1", "--no-osc", env=env)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "Devices found" in result.stderr and "--jack-dummy" in result.stderr


def test_run_plays_the_demo_on_a_private_jack_server():
    result = liveengine("run", DEMO, "--jack-dummy", "--seconds", "3", "--no-osc")
    assert result.returncode == 0, result.stderr
    assert "Starting a private JACK server" in result.stdout
    assert "callbacks of" in result.stdout and "0 late events" in result.stdout
    assert ("Memory locked: yes" if os.geteuid() == 0 else "memory is not locked") in result.stdout


def test_run_says_when_the_audio_server_stops_and_when_it_resumes():
    command = [sys.executable, "-m", "liveengine.cli", "run", str(DEMO), "--jack-dummy", "--seconds", "6", "--no-osc"]
    run = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    server = f"jackd -n liveengine-{run.pid}-"
    deadline = time.monotonic() + 60
    while subprocess.run(["pgrep", "-f", server], capture_output=True).returncode != 0:
        assert time.monotonic() < deadline and run.poll() is None, "the private server never started"
        time.sleep(0.1)
    time.sleep(2.5)  # the show is playing
    subprocess.run(["pkill", "-STOP", "-f", server], check=True)
    time.sleep(2.0)
    subprocess.run(["pkill", "-CONT", "-f", server], check=True)
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert "has not called back" in err and "Audio resumed" in err
    assert "Traceback" not in err


RATE_NAMES = ["23.976", "24", "25", "29.97df", "29.97", "30"]


@pytest.mark.parametrize("rate", RATE_NAMES)
def test_ltc_generate_then_decode_json_gives_every_frame_on_its_sample(tmp_path, rate):
    import json
    from fractions import Fraction

    from liveengine.timecode import Timecode, frame_rate
    path = tmp_path / "ltc.wav"
    separator = ";" if rate == "29.97df" else ":"
    start = f"00:59:59{separator}20"
    assert liveengine("ltc", "generate", "--rate", rate, "--start", start, "--seconds", "2", "-o", path,
                      "--sample-rate", "44100").returncode == 0
    result = liveengine("ltc", "decode", path, "--json")
    assert result.returncode == 0, result.stderr
    frames = json.loads(result.stdout)
    fps = frame_rate(rate).fps
    first = Timecode.parse(start, frame_rate(rate))
    assert len(frames) >= int(2 * fps) - 1
    for k, frame in enumerate(frames):
        assert frame["timecode"] == str(first + k)
        # The generator starts frame k on the first sample at or after k frame periods.
        assert frame["sample"] == -(-Fraction(k * 44100) // fps)


def test_ltc_decode_reads_a_file_written_by_libltc(tmp_path):
    import json

    import ltcref
    encoded = ltcref.encode(48000, (25, 1), (10, 0, 0, 0), 50, user_bits=0x1234)
    path = tmp_path / "libltc.wav"
    stereo = np.zeros((len(encoded.audio), 2), np.float32)
    stereo[:, 1] = encoded.audio
    soundfile.write(path, stereo, 48000, subtype="FLOAT")
    result = liveengine("ltc", "decode", path, "--channel", "2", "--json")
    assert result.returncode == 0, result.stderr
    frames = json.loads(result.stdout)
    # The file's last frame has no edge after its last bit to close it.
    assert len(frames) == len(encoded.timecodes) - 1
    assert [frame["timecode"] for frame in frames] == ["%02d:%02d:%02d:%02d" % tc for tc in encoded.timecodes[:-1]]
    assert all(abs(frame["sample"] - start) <= 1 for frame, start in zip(frames, encoded.starts))


def test_ltc_decode_of_silence_says_it_found_none(tmp_path):
    path = tmp_path / "silence.wav"
    soundfile.write(path, np.zeros(48000, np.float32), 48000)
    result = liveengine("ltc", "decode", path, "--json")
    assert result.returncode == 1 and result.stdout.strip() == "[]"
    assert "no LTC found" in result.stderr


def test_ltc_generate_refuses_a_drop_frame_label_that_does_not_exist(tmp_path):
    result = liveengine("ltc", "generate", "--rate", "29.97df", "--start", "00:01:00;00", "--seconds", "1",
                        "-o", tmp_path / "x.wav")
    assert result.returncode == 1 and "does not exist in drop-frame" in result.stderr


CHASING_SHOW = """
[show]
name = "Chase check"
[audio]
input_channels = 2
block_size = 64
[timecode]
source = "ltc"
input = 2
rate = "25"
freewheel_seconds = 1.0
"""


def test_render_chases_a_recorded_evening_of_ltc_and_reports_it(tmp_path):
    from liveengine.kernel.dsp.ltc import encode_ltc
    first = encode_ltc((0, 59, 50, 0), (25, 1), 4.0, 48000)
    second = encode_ltc((1, 10, 0, 0), (25, 1), 3.0, 48000)
    evening = tmp_path / "evening.wav"
    soundfile.write(evening, np.concatenate([first, np.zeros(96000, np.float32), second]), 48000)
    show = tmp_path / "show.toml"
    show.write_text(CHASING_SHOW)
    result = liveengine("render", show, "--ltc", evening, "-o", tmp_path / "out.wav")
    assert result.returncode == 0, result.stderr
    events = re.findall(r"^ +([\d.]+) s  (.+?) +(\d\d:\d\d:\d\d:\d\d)$", result.stdout, re.MULTILINE)
    assert [(what, timecode) for _, what, timecode in events] == [
        ("locked", "00:59:50:01"), ("dropout: freewheel", "00:59:54:01"), ("stopped", "00:59:54:23"),
        ("locked", "01:10:00:01")]
    assert "0 rejected" in result.stdout


def test_render_with_ltc_needs_a_show_that_chases_it(tmp_path):
    show = tmp_path / "show.toml"
    show.write_text('[show]\nname = "x"\n')
    ltc = tmp_path / "ltc.wav"
    soundfile.write(ltc, np.zeros(4800, np.float32), 48000)
    result = liveengine("render", show, "--ltc", ltc, "-o", tmp_path / "out.wav")
    assert result.returncode == 1 and 'source = "ltc"' in result.stderr


def test_a_rendered_show_carries_its_generated_ltc(tmp_path):
    import json
    show = tmp_path / "master.toml"
    show.write_text('[show]\nname = "Timecode master"\n[audio]\noutput_channels = 5\n'
                    '[timecode]\nrate = "23.976"\nltc_output = 5\nmaster_start = "09:59:58:00"\n')
    out = tmp_path / "out.wav"
    assert liveengine("render", show, "-o", out, "--seconds", "3").returncode == 0
    result = liveengine("ltc", "decode", out, "--channel", "5", "--json")
    assert result.returncode == 0, result.stderr
    assert "at 23.976 fps" in result.stderr
    labels = [frame["timecode"] for frame in json.loads(result.stdout)]
    assert labels[0] == "09:59:58:00" and "10:00:00:00" in labels


def test_check_lists_the_keyboard_setups_and_the_keyboards(tmp_path):
    show = tmp_path / "keys.toml"
    show.write_text('[show]\nname = "Keys"\n[instruments.pad]\ntype = "synth"\npatch = "warm_pad"\n'
                    '[instruments.bell]\ntype = "tone"\n'
                    '[setups.split]\nprogram = 3\nlayers = [{instrument = "pad", keys = [21, 59], transpose = 12}, '
                    '{instrument = "bell", keys = [60, 108], channel = 2}]\n'
                    '[[setups.split.controls]]\ncc = 1\ninstrument = "pad"\nparameter = "modulation"\n'
                    'range = [0, 1]\n'
                    '[keyboards.lower]\ninput = "Keystation"\nsetup = "split"\nthru = "Synth out"\n'
                    '[keyboards.upper]\nvirtual = "upper keys"\nsetup = "split"\n')
    result = liveengine("check", show)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "  setup split, program 3: 2 layers" in lines
    assert any(line.startswith("    pad: keys 21-59, velocities 1-127, every channel, transpose +12") for line in lines)
    assert any(line.startswith("    bell: keys 60-108, velocities 1-127, channel 2,") for line in lines)
    assert any(line.startswith("    CC 1: pad modulation") for line in lines)
    assert "  keyboard lower: MIDI input matching 'Keystation', setup split, thru to 'Synth out'" in lines
    assert "  keyboard upper: virtual MIDI input 'upper keys', setup split" in lines


@pytest.mark.parametrize("name, sample_rate, cue", [("29.97df", 44100, "01:00:01;07"), ("24", 96000, "01:00:01:07")])
def test_a_rendered_master_show_plays_its_cue_where_its_own_ltc_reaches_it(tmp_path, name, sample_rate, cue):
    """At the show's rate, not 25 fps: the cue's note starts on the first sample of its frame,
    ceil(frames * sample_rate / fps) after the start, where `ltc decode` reads the cue's label."""
    import json
    from fractions import Fraction

    from liveengine.timecode import Timecode, frame_rate
    start = "00:59:59;00" if name == "29.97df" else "00:59:59:00"
    show = tmp_path / "master.toml"
    show.write_text(f'[show]\nname = "Master"\n[audio]\nsample_rate = {sample_rate}\noutput_channels = 3\n'
                    f'[buses.master]\noutputs = [1, 2]\n'
                    f'[timecode]\nrate = "{name}"\nltc_output = 3\nmaster_start = "{start}"\n'
                    f'[instruments.tone]\ntype = "tone"\n'
                    f'[[parts]]\nname = "hit"\ninstrument = "tone"\nnotes = [[69, 0, 0.1, 0.5]]\n'
                    f'[[cues]]\nnumber = "1M1"\nat = "{cue}"\nactions = [{{start = "hit"}}]\n')
    out = tmp_path / "out.wav"
    result = liveengine("render", show, "-o", out, "--seconds", "3", "--subtype", "FLOAT")
    assert result.returncode == 0, result.stderr
    audio, _ = soundfile.read(out, dtype="float32")
    rate = frame_rate(name)
    frames = Timecode.parse(cue, rate) - Timecode.parse(start, rate)
    onset = -(-frames * Fraction(sample_rate) // rate.fps)
    assert np.flatnonzero(audio[:, 0])[0] - 1 == onset  # a tone's first sample is 0
    decoded = liveengine("ltc", "decode", out, "--channel", "3", "--json")
    assert decoded.returncode == 0, decoded.stderr
    assert {"timecode": cue, "sample": onset, "reverse": False} in json.loads(decoded.stdout)


@pytest.mark.parametrize("rate, sample_rate", [("25", 48000), ("29.97df", 44100)])
def test_ltc_decode_json_dates_a_frame_played_in_reverse_by_its_first_sample_in_the_file(tmp_path, rate,
                                                                                          sample_rate):
    import json

    import ltcref
    from liveengine.timecode import RATES
    fps = RATES[rate].fps_ratio
    encoded = ltcref.encode(sample_rate, fps, (10, 0, 4, 10), 20, drop_frame=RATES[rate].drop_frame)
    backwards = encoded.audio[::-1]
    path = tmp_path / "reverse.wav"
    soundfile.write(path, backwards, sample_rate, subtype="FLOAT")
    result = liveengine("ltc", "decode", path, "--rate", rate, "--json")
    assert result.returncode == 0, result.stderr
    frames = json.loads(result.stdout)
    # Frame k of the forward signal spans [starts[k], starts[k + 1]); reversed, it begins at N - starts[k + 1].
    ends = list(encoded.starts[1:]) + [len(encoded.audio)]
    expected = [{"timecode": "%02d:%02d:%02d%s%02d" % (*tc[:3], ";" if RATES[rate].drop_frame else ":", tc[3]),
                 "sample": len(backwards) - end, "reverse": True}
                for tc, end in zip(encoded.timecodes[::-1], ends[::-1])]
    assert frames[0] == expected[0] and frames[0]["sample"] == 0, "the file's first frame begins on its first sample"
    assert len(frames) == len(expected) - 1  # the file's last frame has no edge after its last bit to close it
    for frame, truth in zip(frames, expected):
        assert frame["timecode"] == truth["timecode"] and frame["reverse"]
        assert abs(frame["sample"] - truth["sample"]) <= 1
    libltc = {"%02d:%02d:%02d:%02d" % frame.timecode: frame.off_start for frame in ltcref.decode(backwards, sample_rate,
                                                                                               fps)}
    text = liveengine("ltc", "decode", path, "--rate", rate)
    assert text.stdout.splitlines()[0] == f"{expected[0]['timecode']}  sample 0  reverse"
    # As libltc dates them, within the few samples it takes to place an edge.
    assert all(abs(libltc[frame["timecode"].replace(";", ":")] - frame["sample"]) <= 4 for frame in frames)
