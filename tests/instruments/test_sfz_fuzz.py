"""Random SFZ-ish text: the loader returns an instrument or refuses the file with SfzError,
whatever it reads, and it never hangs."""

import signal
from contextlib import contextmanager

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liveengine.kernel.regions import SampledInstrument
from liveengine.instruments.sfz import SfzError, load_sfz

from corpus import CORPUS
from fileproblems import PROBLEM_AT_LINE

HEADERS = ["<control>", "<global>", "<master>", "<group>", "<region>", "<curve>", "<effect>", "<sample>", "<midi>",
           "<bogus>", "<", ">", "<>", "<region", "region>", "< region>"]
OPCODES = ["sample", "key", "lokey", "hikey", "pitch_keycenter", "lovel", "hivel", "volume", "pan", "tune", "pitch",
           "ampeg_attack", "ampeg_release", "fileg_depth", "loop_mode", "loopmode", "loop_start", "loopend",
           "fil_type", "cutoff", "trigger", "sw_last", "sw_label", "sw_default", "sw_lokey", "default_path", "group",
           "off_by", "end", "offset", "xfin_locc1", "amplitude_oncc7", "gain_cc300", "locc64", "on_locc64",
           "set_cc7", "label_cc7", "curve_index", "v064", "bogus_opcode", "seq_position", "group_label",
           "region_label", "lorand", "tune_oncc99999999999999", "xf_cccurve", "end"]
VALUES = ["", "0", "60", "-1", "127", "128", "0.5", "1e3", "1e999", "nan", "inf", "c4", "c#4", "eb3", "h4", "abc",
          "*sine", "*tri", "*bogus", "a.wav", "dir\\x.wav", "My Sample.wav", "sample", "lpf_4p", "no_loop",
          "release", "power", "../x.wav", "/x.wav", "$VAR", "$UNDEFINED", "9" * 400, "a" * 300, " "]
DIRECTIVES = ["#define $VAR 60", "#define $V", "#define", "#define $VAR $VAR$VAR", '#include "a.sfz"',
              '#include "b.sfz"', '#include "main.sfz"', '#include "missing.sfz"', "#include a.sfz", '#include "',
              '#include "sub/../a.sfz"', '#include "$VAR.sfz"', "#", "#includes"]
COMMENTS = ["//", "/*", "*/", "// note <region>", "/* <region> */", "/"]
SEPARATORS = [" ", "\n", "\t", "", "\r\n", "  \n\n"]
# Lines of real instruments, for pieces of text that look as files do (where the corpus is there;
# without it the fuzz runs on the pieces above alone).
REAL_LINES = sorted({line for path in [*CORPUS.glob("sfizz-testfiles/**/*.sfz"), *CORPUS.glob("vsco2ce-sfz/*.sfz")]
                     for line in path.read_text(errors="replace").splitlines() if len(line) < 200})

opcodes = st.builds(lambda name, value: f"{name}={value}", st.sampled_from(OPCODES), st.sampled_from(VALUES))
pieces = st.one_of(st.sampled_from(HEADERS), opcodes, st.sampled_from(DIRECTIVES), st.sampled_from(COMMENTS),
                   *([st.sampled_from(REAL_LINES)] if REAL_LINES else []), st.text(max_size=20))
texts = st.lists(st.tuples(pieces, st.sampled_from(SEPARATORS)), max_size=80).map(
    lambda parts: "".join(piece + separator for piece, separator in parts))
files = st.one_of(texts.map(str.encode), st.binary(max_size=300),
                  st.tuples(texts, st.binary(max_size=40), texts).map(lambda t: t[0].encode() + t[1] + t[2].encode()))


@contextmanager
def time_limit(seconds: int):
    def give_up(signum, frame):
        raise TimeoutError(f"load_sfz took more than {seconds} s")
    previous = signal.signal(signal.SIGALRM, give_up)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(main=files, a=files, b=files, top_is_folder=st.integers(0, 19).map(lambda n: n == 0))
def test_random_text_loads_or_is_refused(tmp_path, main, a, b, top_is_folder):
    for name, data in {"main.sfz": main, "a.sfz": a, "b.sfz": b}.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "sub").mkdir(exist_ok=True)
    top = tmp_path / ("sub" if top_is_folder else "main.sfz")
    try:
        with time_limit(10):
            instrument = load_sfz(top)
    except SfzError:
        assert top_is_folder
        return
    assert isinstance(instrument, SampledInstrument)
    assert all(PROBLEM_AT_LINE.match(problem) for problem in instrument.problems), instrument.problems
    assert all(-1 <= region.sample < len(instrument.samples) for region in instrument.regions)
