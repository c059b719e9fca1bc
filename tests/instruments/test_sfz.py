"""The SFZ loader on real files: sfizz's test files (with their samples), VSCO 2 CE's mappings
(without their samples), and small files written here for what those do not cover."""

import re
from pathlib import Path

import pytest

from corpus import corpus_files
from fileproblems import PROBLEM_AT_LINE
from liveengine.kernel.regions import ORIGINAL, ControllerCrossfade, ControllerModulation, Envelope, Lfo
from liveengine.instruments.sfz import SfzError, load_sfz, parse_note_name


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def problems_with(instrument, text: str) -> list[str]:
    return [problem for problem in instrument.problems if text in problem]


def without_comments(text: str) -> str:
    return re.sub(r"//[^\n]*", "", re.sub(r"/\*.*?\*/", " ", text, flags=re.DOTALL))


# --- Every file ---------------------------------------------------------------------------

@pytest.mark.parametrize("path", corpus_files("sfizz-testfiles", "**/*.sfz"))
def test_every_sfizz_file_loads_with_sound_references(path):
    instrument = load_sfz(path)
    assert instrument.name == path.stem
    assert all(PROBLEM_AT_LINE.match(problem) for problem in instrument.problems), instrument.problems
    paths = [sample.path for sample in instrument.samples]
    assert len(set(paths)) == len(paths)
    for sample in instrument.samples:
        assert sample.path.startswith("*") or (Path(sample.path).is_absolute() and Path(sample.path).is_file())
        assert (sample.root_key, sample.loop_start, sample.loop_end) == (ORIGINAL, ORIGINAL, ORIGINAL)
    assert all(-1 <= region.sample < len(instrument.samples) for region in instrument.regions)


def test_a_file_that_cannot_be_read_is_refused_with_the_reason(tmp_path):
    with pytest.raises(SfzError, match="cannot read SFZ file .*missing.sfz: No such file"):
        load_sfz(tmp_path / "missing.sfz")
    with pytest.raises(SfzError, match="Is a directory"):
        load_sfz(tmp_path)


# --- sfizz's test files -------------------------------------------------------------------

def test_regions_inherit_from_global_master_and_group(sfizz):
    instrument = load_sfz(sfizz / "basic_hierarchy.sfz")
    assert [region.lokey for region in instrument.regions] == [60, 61, 50, 51, 40, 41, 30, 31]
    assert [region.hikey for region in instrument.regions] == [60, 61, 50, 51, 40, 41, 30, 31]
    assert [region.pan for region in instrument.regions] == [30] * 4 + [-10] * 4  # from each <master>
    assert [region.origin for region in instrument.regions][:2] == ["basic_hierarchy.sfz:7", "basic_hierarchy.sfz:8"]
    assert [Path(instrument.samples[region.sample].path).relative_to(sfizz).as_posix()
            for region in instrument.regions[:2]] == ["Regions/dummy.wav", "Regions/dummy.1.wav"]
    # The engine has no stereo width or region delay: said once per opcode written.
    assert instrument.problems == ["basic_hierarchy.sfz:1: unsupported opcode 'width' ignored"] + [
        f"basic_hierarchy.sfz:{line}: unsupported opcode 'delay' ignored" for line in (6, 11, 18, 23)]


def test_backslashes_separate_folders(sfizz):
    forward = load_sfz(sfizz / "basic_hierarchy.sfz")
    backward = load_sfz(sfizz / "basic_hierarchy_antislash.sfz")
    assert backward.samples == forward.samples
    assert [region.sample for region in backward.regions] == [region.sample for region in forward.regions]
    closed_hat = load_sfz(sfizz / "SpecificBugs" / "win_backslashes.sfz")  # default_path=Xylo\Subfolder\
    assert closed_hat.samples[0].path == str(sfizz / "SpecificBugs" / "Xylo" / "Subfolder" / "closedhat.wav")
    pizz = load_sfz(sfizz / "SpecificBugs" / "MeatBassPizz" / "Programs" / "pizz.sfz")  # ..\Samples\pizz\...
    assert [Path(sample.path).name for sample in pizz.samples] == [f"a0_vl4_rr{n}.wav" for n in (1, 2, 3, 4)]
    assert [(region.lorand, region.hirand) for region in pizz.regions] == [
        (0, 0.25), (0.25, 0.5), (0.5, 0.75), (0.75, 1)]
    assert {(region.lokey, region.hikey, region.lovel, region.pitch_keycenter, region.cc_conditions)
            for region in pizz.regions} == {(12, 22, 97, 21, ((107, 0, 13),))}
    assert pizz.problems == []


def test_letter_case_differing_from_the_file_system_is_resolved(sfizz):
    instrument = load_sfz(sfizz / "case_insensitive.sfz")
    assert [sample.path for sample in instrument.samples] == [
        str(sfizz / "dummy1.wav"), str(sfizz / "Regions" / "dummy.wav")]
    assert [region.sample for region in instrument.regions] == [0, 1, 1, 1]
    assert instrument.problems == []


def test_defines_are_substituted_longest_name_first(sfizz):
    drums = load_sfz(sfizz / "defines.sfz")
    assert [(region.lokey, region.hikey, region.pitch_keycenter) for region in drums.regions[:3]] == [
        (36, 36, 36), (38, 38, 38), (42, 42, 42)]
    assert drums.regions[3].volume == -12
    assert drums.samples[drums.regions[3].sample].path == "*sine"
    assert drums.problems == []
    crashes = load_sfz(sfizz / "SpecificBugs" / "wrong-replacements.sfz")  # $KeyCrash2Edge, $KeyCrash2
    assert [region.lokey for region in crashes.regions] == [52, 57, 0]
    assert crashes.regions[2].modulations == (ControllerModulation("amplitude", 10, 34),)  # amplitude_oncc$Param
    assert crashes.samples[0].path == str(sfizz / "mono_sample.wav")
    assert crashes.problems == []
    included = load_sfz(sfizz / "dollar_include_main.sfz")  # #include "$foo_include_$bar.sfz"
    assert [included.samples[region.sample].path for region in included.regions] == ["*sine"]
    assert included.problems == []


def test_default_path_applies_to_the_regions_after_its_control_header(sfizz):
    instrument = load_sfz(sfizz / "default_path.sfz")
    assert [Path(instrument.samples[region.sample].path).relative_to(sfizz).as_posix()
            for region in instrument.regions] == [
        "DefaultPath/SubPath1/sample1.wav", "DefaultPath/SubPath2/sample2.wav",
        "DefaultPath/SubPath1/sample1.wav", "DefaultPath/SubPath2/sample2.wav"]
    assert instrument.problems == []
    generator = load_sfz(sfizz / "default_path_generator.sfz")
    assert [sample.path for sample in generator.samples] == ["*sine"]
    reset = load_sfz(sfizz / "default_path_reset.sfz")  # another file starts without a default path
    assert [sample.path for sample in reset.samples] == [str(sfizz / "DefaultPath" / "SubPath2" / "sample2.wav")]


@pytest.mark.parametrize("name, samples", [
    ("root_local.sfz", ["dummy.wav"]),
    ("multiple_includes.sfz", ["dummy.wav", "dummy2.wav"]),
    ("multiple_includes_with_comments.sfz", ["dummy.wav", "dummy2.wav"]),
    ("root_subdir.sfz", ["dummy_subdir.wav"]),
    ("root_subdir_win.sfz", ["dummy_subdir.wav"]),
    ("root_recursive.sfz", ["dummy_recursive2.wav", "dummy_recursive1.wav"]),
])
def test_included_files_take_sample_paths_from_the_top_files_folder(name, samples, sfizz):
    instrument = load_sfz(sfizz / "Includes" / name)
    assert [instrument.samples[region.sample].path for region in instrument.regions] == [
        str(sfizz / "Includes" / sample) for sample in samples]
    assert instrument.problems == []


def test_sfizz_include_loop_is_reported_and_cut(sfizz):
    instrument = load_sfz(sfizz / "Includes" / "root_loop.sfz")
    assert [Path(instrument.samples[region.sample].path).name for region in instrument.regions] == [
        "dummy_loop2.wav", "dummy_loop1.wav"]
    assert instrument.problems == [
        'included_loop2.sfz:1: #include "included_loop1.sfz": include loop '
        "(included_loop1.sfz → included_loop2.sfz → included_loop1.sfz); not included again",
        'included_loop2.sfz:2: #include "root_loop.sfz": include loop '
        "(root_loop.sfz → included_loop1.sfz → included_loop2.sfz → root_loop.sfz); not included again"]


def test_keyswitch_labels_and_default(sfizz):
    instrument = load_sfz(sfizz / "labels_sw.sfz")
    assert instrument.sw_default == 36
    assert instrument.sw_labels == {36: "Sine", 38: "Triangle", 40: "Saw"}
    assert [(region.sw_lokey, region.sw_hikey, region.sw_last, region.lokey) for region in instrument.regions] == [
        (36, 40, 36, 41), (36, 40, 38, 41), (36, 40, 40, 41)]
    assert [sample.path for sample in instrument.samples] == ["*sine", "*triangle", "*saw"]


def test_controller_and_key_labels_have_no_place_and_are_reported(sfizz):
    instrument = load_sfz(sfizz / "labels.sfz")
    assert instrument.problems == [f"labels.sfz:{line}: unsupported opcode '{name}' ignored" for line, name in [
        (2, "label_cc54"), (3, "label_cc2"), (4, "label_key12"), (5, "label_key65"), (6, "label_key128")]]


def test_region_labels_prefer_the_most_specific_header(sfizz):
    drums = load_sfz(sfizz / "newdrums_flat.sfz")
    regions = without_comments((sfizz / "newdrums_flat.sfz").read_text()).split("<region>")[1:]
    started_by_controller = [region for region in regions if "on_locc" in region.split("<")[0]]
    assert len(drums.regions) == len(regions) - len(started_by_controller) == 173
    assert drums.regions[0].label == "01"  # region_label=01 over group_label=Center and master_label=Kick
    assert drums.regions[0].group == 10101 and drums.regions[0].note_polyphony == 1
    assert drums.regions[0].off_time == 1.25 and drums.regions[0].amp_veltrack == 99
    assert drums.regions[0].loop_mode == "one_shot"
    assert problems_with(drums, "newdrums_flat.sfz:70: locc201=1: controller 201 is beyond MIDI's 0..127; ignored")


def test_loop_points_given_go_on_the_region_and_the_sample_keeps_its_own(sfizz):
    instrument = load_sfz(sfizz / "looped_regions.sfz")
    assert [(region.loop_mode, region.loop_start, region.loop_end) for region in instrument.regions] == [
        ("", ORIGINAL, ORIGINAL), ("no_loop", ORIGINAL, ORIGINAL), ("", 4, 124)]
    assert len(instrument.samples) == 1
    assert (instrument.samples[0].loop_start, instrument.samples[0].loop_end) == (ORIGINAL, ORIGINAL)
    underscored = load_sfz(sfizz / "Regions" / "underscore_opcodes.sfz")
    assert underscored.regions[0].loop_mode == "loop_sustain"


def test_key_center_from_the_sample_file_and_skipped_embedded_samples(sfizz):
    instrument = load_sfz(sfizz / "sample_keycenter_embedded.sfz")
    assert [region.pitch_keycenter for region in instrument.regions] == [ORIGINAL] * 4 + [10, 10]
    assert all(sample.root_key == ORIGINAL for sample in instrument.samples)
    # The base64 lines of the <sample> headers are skipped with them, not reported line by line.
    assert instrument.problems == ["sample_keycenter_embedded.sfz:1: unsupported opcode 'oscillator' ignored"] + [
        f"sample_keycenter_embedded.sfz:{line}: <sample> not supported (embedded samples); its opcodes are ignored"
        for line in (8, 90, 172, 400)]
    embedded = load_sfz(sfizz / "kick_embedded.sfz")
    assert [region.sample for region in embedded.regions] == [-1]
    assert embedded.problems == [
        f"kick_embedded.sfz:1: sample not found: kick_embedded.wav (looked for {sfizz / 'kick_embedded.wav'})",
        "kick_embedded.sfz:2: <sample> not supported (embedded samples); its opcodes are ignored"]


def test_a_missing_sample_silences_its_regions_and_is_reported_once(sfizz):
    instrument = load_sfz(sfizz / "Regions" / "regions_bad.sfz")
    assert [region.sample for region in instrument.regions] == [0, -1, -1, 0]
    assert instrument.problems == [f"regions_bad.sfz:2: sample not found: nonexistent.wav "
                                   f"(looked for {sfizz / 'Regions' / 'nonexistent.wav'})"]


def test_velocity_layers_and_chokes(sfizz):
    cajon = load_sfz(sfizz / "groups_avl.sfz")
    assert [(region.lovel, region.hivel) for region in cajon.regions] == [
        (1, 26), (27, 52), (53, 77), (78, 102), (103, 127)]
    assert {(region.lokey, region.volume) for region in cajon.regions} == {(36, 6)}
    chokes = load_sfz(sfizz / "off_by.sfz")
    assert [(region.group, region.off_by, region.lokey, region.off_mode, region.amp_envelope.release)
            for region in chokes.regions] == [
        (1, 2, 63, "fast", 0.1), (2, 3, 64, "fast", 0.1), (3, 3, 65, "fast", 0.1), (3, 3, 65, "fast", 0.1)]
    modes = load_sfz(sfizz / "off_mode.sfz")
    assert [region.off_mode for region in modes.regions] == ["fast", "normal", "normal"]


# --- VSCO 2 CE: mappings without their samples ----------------------------------------------

def vsco_samples(text: str) -> set[str]:
    """The distinct sample paths a VSCO file names, each with the default_path in force."""
    default_path, samples = "", set()
    for line in without_comments(text).splitlines():
        if "<control>" in line:
            default_path = ""
        if match := re.search(r"default_path=(.*)", line):
            default_path = match.group(1).strip()
        if match := re.search(r"sample=(.*)", line):
            samples.add((default_path + match.group(1).strip()).replace("\\", "/"))
    return samples


@pytest.mark.parametrize("path", corpus_files("vsco2ce-sfz", "*.sfz"))
def test_vsco_file_keeps_every_region_and_reports_every_missing_sample(path, vsco):
    text = path.read_text()
    instrument = load_sfz(path)
    assert len(instrument.regions) == without_comments(text).count("<region>")
    assert instrument.samples == []
    assert all(region.sample == -1 for region in instrument.regions)
    missing = problems_with(instrument, "sample not found")
    assert sorted(re.search(r"\(looked for (.*)\)$", problem).group(1) for problem in missing) == sorted(
        str(vsco / sample) for sample in vsco_samples(text))
    assert missing == instrument.problems  # nothing else is wrong with these files
    assert all(region.volume == int(region.volume) and region.amp_envelope.release > 0
               for region in instrument.regions)


@pytest.mark.parametrize("name, default, labels", [
    ("SViolin-KS.sfz", "c2", ["C2 Sustain Vibrato", "C#2 Tremolo", "D2 Spiccato", "D#2 Pizzicato"]),
    ("CelloEns-KS.sfz", "c6", ["C6 Sustain Vibrato", "C#6 Tremolo", "D6 Spiccato", "D#6 Pizzicato"]),
    ("Flute-KS.sfz", "c2", ["C2 Sustain Non-Vibrato", "C#2 Sustain Vibrato", "D2 Expression Vibrato",
                            "D#2 Staccato"]),
])
def test_vsco_keyswitches(name, default, labels, vsco):
    instrument = load_sfz(vsco / name)
    first = parse_note_name(default)
    assert instrument.sw_default == first
    assert instrument.sw_labels == {first + offset: label for offset, label in enumerate(labels)}
    assert {(region.sw_lokey, region.sw_hikey) for region in instrument.regions} == {(first, first + 3)}
    assert {region.sw_last for region in instrument.regions} == set(instrument.sw_labels)
    # Each articulation's <control> header sets its own folder.
    folders = {Path(problem.split("(looked for ")[1]).parent.name for problem in instrument.problems}
    assert len(folders) == 4


def test_vsco_values_with_spaces_and_note_names(vsco):
    instrument = load_sfz(vsco / "SViolin-KS.sfz")
    first = instrument.regions[0]
    assert (first.lokey, first.hikey, first.pitch_keycenter, first.lovel, first.hivel, first.volume) == (
        56, 58, 57, 0, 62, 21)
    assert first.amp_envelope == Envelope(attack=0.001, release=0.8)
    assert instrument.problems[0] == (
        f"SViolin-KS.sfz:19: sample not found: LLVln_ArcoVib_A3_p.wav "
        f"(looked for {vsco / 'Strings' / 'Solo Violin' / 'Arco Vib' / 'LLVln_ArcoVib_A3_p.wav'})")
    assert any(region.tune == -20 for region in instrument.regions)


# --- Written here -------------------------------------------------------------------------

def test_note_names():
    assert [parse_note_name(name) for name in ("c4", "C4", "c#4", "db4", "eb3", "b3", "c-1", "g9", "a0", "B#3")] == [
        60, 60, 61, 61, 51, 59, 0, 127, 21, 60]
    for text in ("h4", "c", "4", "c##4", "cb"):
        with pytest.raises(ValueError):
            parse_note_name(text)


def test_note_names_as_values_of_key_opcodes(tmp_path):
    instrument = load_sfz(write(tmp_path, "notes.sfz", """
        <global> sw_lokey=c1 sw_hikey=e1 sw_default=d1
        <region> sample=*sine lokey=c#4 hikey=eb5 pitch_keycenter=C4 sw_last=d#1 xfin_lokey=c#4 xfin_hikey=d4
                 fil_keycenter=a4 cutoff=500
        <region> sample=*saw key=g9
        <region> sample=*saw key=g#9
    """))
    first, second, third = instrument.regions
    assert (first.lokey, first.hikey, first.pitch_keycenter, first.sw_last, first.sw_lokey, first.sw_hikey) == (
        61, 75, 60, 27, 24, 28)
    assert (first.xfin_lokey, first.xfin_hikey, first.fil_keycenter, instrument.sw_default) == (61, 62, 69, 26)
    assert (second.lokey, second.hikey) == (127, 127)
    assert (third.lokey, third.pitch_keycenter) == (127, 127)
    assert instrument.problems == ["notes.sfz:6: key=g#9: above 127; lowered to it"]


def test_sample_paths_with_spaces_backslashes_and_other_letter_case(tmp_path):
    write(tmp_path, "Long Strings/Sus Vib/A3 p.wav", "")
    instrument = load_sfz(write(tmp_path, "strings.sfz", (
        "<control> default_path=Long Strings\\Sus Vib\\\n"
        "<region> sample=A3 p.wav lokey=56 hikey=58 pitch_keycenter=57 lorand=0.0 hirand=0.5\n"
        "<region> sample=a3 P.WAV lorand=0.5 hirand=1 // the same file, as Windows would find it\n"
        "<region> sample=A3 p.wav\tsw_label=Sus Vib p  sw_last=c2\n")))
    assert [sample.path for sample in instrument.samples] == [str(tmp_path / "Long Strings" / "Sus Vib" / "A3 p.wav")]
    assert [region.sample for region in instrument.regions] == [0, 0, 0]
    first, second, _ = instrument.regions
    assert (first.lokey, first.hikey, first.pitch_keycenter, first.lorand, first.hirand) == (56, 58, 57, 0, 0.5)
    assert (second.lorand, second.hirand) == (0.5, 1)
    assert instrument.sw_labels == {36: "Sus Vib p"}
    assert instrument.problems == []


def test_header_hierarchy_resets_and_overrides(tmp_path):
    instrument = load_sfz(write(tmp_path, "levels.sfz", """
        <global> volume=-6
        <master> pan=20
        <group> tune=10 volume=-3
        <region> sample=*sine key=60 volume=2
        <group> transpose=2
        <region> sample=*sine key=61
        <master> amp_veltrack=50
        <region> sample=*sine key=62
        <global> lovel=10
        <region> sample=*sine key=63
    """))
    assert [(r.volume, r.pan, r.tune, r.transpose, r.amp_veltrack, r.lovel) for r in instrument.regions] == [
        (2, 20, 10, 0, 100, 1),  # the region overrides its group
        (-6, 20, 0, 2, 100, 1),  # a new group forgets the old group's opcodes
        (-6, 0, 0, 0, 50, 1),  # a new master forgets the old master and group
        (0, 0, 0, 0, 100, 10),  # a new global forgets everything above the region
    ]


def test_key_sets_range_and_center_and_later_opcodes_override_it(tmp_path):
    instrument = load_sfz(write(tmp_path, "key.sfz", """
        <group> key=36
        <region> sample=*sine lokey=30
        <region> sample=*sine pitch_keycenter=40
        <region> sample=*sine lokey=50 key=52
    """))
    assert [(r.lokey, r.hikey, r.pitch_keycenter) for r in instrument.regions] == [
        (30, 36, 36), (36, 36, 40), (52, 52, 52)]


def test_opcodes_map_onto_region_fields(tmp_path):
    instrument = load_sfz(write(tmp_path, "all.sfz", """
        <global> ampeg_attack=0.01 volume=-3 fil_type=hpf_2p loopmode=loop_continuous
        <master> amplitude_oncc7=50 master_label=Strings
        <group> group_label=Violins lochan=2 hichan=3 seq_length=4 seq_position=2 trigger=release rt_decay=6
                loprog=4 hiprog=9
                xfin_locc1=10 xfin_hicc1=40 xfout_locc1=80 xfout_hicc1=120 xf_cccurve=gain locc64=64 hicc64=127
        <region> sample=*saw amplitude=80 pan=-25 pitch_keytrack=50 pitch_veltrack=1200 bendup=1200 bend_down=-1200
                 ampeg_delay=0.1 ampeg_start=5 ampeg_hold=0.2 ampeg_decay=0.3 ampeg_sustain=60 ampeg_release=1.5
                 ampeg_vel2delay=0.01 ampeg_vel2attack=-0.005 ampeg_vel2hold=0.02 ampeg_vel2decay=0.03
                 ampeg_vel2sustain=10 ampeg_vel2release=0.5 ampeg_dynamic=1
                 fileg_attack=0.2 fileg_depth=2400 fil_vel2decay=0.1 fileg_dynamic=1
                 amplfo_freq=5 amplfo_depth=3 amplfo_delay=0.5 amplfo_fade=1
                 pitchlfo_freq=6 pitchlfo_depth=20 pitchlfo_delay=0.25 pitchlfo_fade=0.75
                 gain_cc11=-12 volume_oncc2=-6 pan_oncc10=100 tune_oncc1=50 pitch_oncc21=-100 cutoff_cc74=2400
                 xfin_lovel=10 xfin_hivel=20 xfout_lovel=100 xfout_hivel=110 xf_velcurve=gain
                 xfin_lokey=40 xfin_hikey=45 xfout_lokey=80 xfout_hikey=85 xf_keycurve=power
                 offset=100 end=20000 loopstart=500 loopend=19000
                 cutoff=2000 resonance=6 fil_veltrack=1200 fil_keytrack=100 fil_keycenter=64
                 polyphony_group=5 offby=6 off_mode=time off_time=0.2 polyphony=4 note_polyphony=2
                 tune=-20 transpose=-12 amp_veltrack=80 region_label=First
    """))
    region = instrument.regions[0]
    assert instrument.problems == []
    assert (region.lochan, region.hichan, region.seq_length, region.seq_position) == (2, 3, 4, 2)
    assert (region.loprog, region.hiprog) == (4, 9)
    assert (region.trigger, region.rt_decay, region.cc_conditions) == ("release", 6, ((64, 64, 127),))
    assert (region.volume, region.amplitude, region.pan, region.tune, region.transpose) == (-3, 80, -25, -20, -12)
    assert (region.pitch_keytrack, region.pitch_veltrack, region.bend_up, region.bend_down) == (
        50, 1200, 1200, -1200)
    assert region.amp_veltrack == 80
    assert region.amp_envelope == Envelope(
        delay=0.1, start=5, attack=0.01, hold=0.2, decay=0.3, sustain=60, release=1.5, vel2delay=0.01,
        vel2attack=-0.005, vel2hold=0.02, vel2decay=0.03, vel2sustain=10, vel2release=0.5)
    # SFZ's filter envelope sustains at 0 and releases at once unless told otherwise.
    assert region.filter_envelope == Envelope(attack=0.2, sustain=0, release=0, vel2decay=0.1, depth=2400)
    assert region.amp_lfo == Lfo(frequency=5, depth=3, delay=0.5, fade=1)
    assert region.pitch_lfo == Lfo(frequency=6, depth=20, delay=0.25, fade=0.75)
    assert set(region.modulations) == {
        ControllerModulation("amplitude", 7, 50), ControllerModulation("volume", 11, -12),
        ControllerModulation("volume", 2, -6), ControllerModulation("pan", 10, 100),
        ControllerModulation("pitch", 1, 50), ControllerModulation("pitch", 21, -100),
        ControllerModulation("cutoff", 74, 2400)}
    assert region.crossfades == (ControllerCrossfade(1, 10, 40, 80, 120),)
    assert (region.xfin_lovel, region.xfin_hivel, region.xfout_lovel, region.xfout_hivel) == (10, 20, 100, 110)
    assert (region.xfin_lokey, region.xfin_hikey, region.xfout_lokey, region.xfout_hikey) == (40, 45, 80, 85)
    assert (region.xf_cccurve, region.xf_velcurve, region.xf_keycurve) == ("gain", "gain", "power")
    assert (region.offset, region.end, region.loop_mode, region.loop_start, region.loop_end) == (
        100, 20000, "loop_continuous", 500, 19000)
    assert (region.fil_type, region.cutoff, region.resonance) == ("hpf_2p", 2000, 6)
    assert (region.fil_veltrack, region.fil_keytrack, region.fil_keycenter) == (1200, 100, 64)
    assert (region.group, region.off_by, region.off_mode, region.off_time) == (5, 6, "time", 0.2)
    assert (region.polyphony, region.note_polyphony, region.label) == (4, 2, "First")


def test_filter_only_with_cutoff_and_substitutes_for_missing_types(tmp_path):
    instrument = load_sfz(write(tmp_path, "filters.sfz", """
        <region> sample=*noise fil_type=bpf_2p
        <region> sample=*noise cutoff=800
        <region> sample=*noise cutoff=800 fil_type=lpf_4p
        <region> sample=*noise cutoff=800 fil_type=pkf_2p
        <region> sample=*noise cutoff=800 fil_type=moog
    """))
    assert [region.fil_type for region in instrument.regions] == ["", "lpf_2p", "lpf_2p", "", "lpf_2p"]
    assert instrument.problems == [
        "filters.sfz:4: fil_type=lpf_4p: not supported; played as lpf_2p",
        "filters.sfz:5: fil_type=pkf_2p: not supported; played without a filter",
        "filters.sfz:6: fil_type=moog: not one of lpf_1p, hpf_1p, lpf_2p, hpf_2p, bpf_2p, brf_2p; ignored"]


def test_bad_values_are_clamped_or_ignored_and_reported(tmp_path):
    instrument = load_sfz(write(tmp_path, "values.sfz", """
        <group> lokey=40 volume=-3 trigger=legato
        <region> sample=*sine lokey=abc volume=60 pan=-300 seq_length=0 lorand=0.5 trigger=sometimes transpose=1.5
                 hivel= ampeg_attack=1e999 amplitude_oncc300=10 sw_last=h2
    """))
    region = instrument.regions[0]
    assert (region.lokey, region.volume, region.pan, region.seq_length, region.trigger, region.transpose) == (
        40, 48, -100, 1, "legato", 0)
    assert (region.hivel, region.amp_envelope.attack, region.modulations, region.sw_last) == (127, 0, (), -1)
    assert instrument.problems == [
        "values.sfz:3: lokey=abc: not a note number or name; ignored",
        "values.sfz:3: volume=60: above 48; lowered to it",
        "values.sfz:3: pan=-300: below -100; raised to it",
        "values.sfz:3: seq_length=0: below 1; raised to it",
        "values.sfz:3: trigger=sometimes: not one of attack, release, first, legato, release_key; ignored",
        "values.sfz:3: transpose=1.5: not a whole number; ignored",
        "values.sfz:4: hivel=: no value; ignored",
        "values.sfz:4: ampeg_attack=1e999: not a number; ignored",
        "values.sfz:4: amplitude_oncc300=10: controller 300 is beyond MIDI's 0..127; ignored",
        "values.sfz:4: sw_last=h2: not a note number or name; ignored"]


def test_each_unsupported_opcode_is_reported_once_where_it_is_written(tmp_path):
    write(tmp_path, "map.sfz", "<region> sample=*sine width=50\n")
    instrument = load_sfz(write(tmp_path, "main.sfz", """
        <group> amp_velcurve_127=1 amp_keytrack=0.5
        <region> sample=*sine key=60
        <region> sample=*sine key=61
        #include "map.sfz"
        #include "map.sfz"
    """))
    assert len(instrument.regions) == 4
    assert instrument.problems == ["main.sfz:2: unsupported opcode 'amp_velcurve_127' ignored",
                                   "main.sfz:2: unsupported opcode 'amp_keytrack' ignored",
                                   "map.sfz:1: unsupported opcode 'width' ignored"]


def test_comments_line_and_block(tmp_path):
    instrument = load_sfz(write(tmp_path, "comments.sfz", (
        "<region> sample=*sine /* lokey=1\n"
        "hikey=2 <region> sample=x.wav\n"
        "*/ key=64 // hikey=3 <region>\n"
        "// <region> sample=y.wav\n"
        "<region>/* inline */sample=*saw key=65\n")))
    assert [(region.lokey, region.hikey) for region in instrument.regions] == [(64, 64), (65, 65)]
    assert instrument.problems == []
    unterminated = load_sfz(write(tmp_path, "open.sfz", "<region> sample=*sine key=60\n/* never closed\n"
                                                        "<region> sample=*saw\n"))
    assert len(unterminated.regions) == 1
    assert unterminated.problems == ["open.sfz:2: /* comment never closed; the rest of the file is ignored"]


def test_malformed_text_is_reported_and_the_rest_read(tmp_path):
    instrument = load_sfz(write(tmp_path, "bad.sfz", """key=10
        <regoin> sample=*sine key=20
        <region> sample=*sine key=30 =60 stray
        <region sample=*saw key=40
        <effect> type=reverb
        <region> sample=*square
    """))
    assert [region.lokey for region in instrument.regions] == [40, 0]  # <region sample=... reads as opcodes of 30's
    assert instrument.problems == [
        "bad.sfz:1: key=10: before any header; ignored",
        "bad.sfz:2: <regoin> not an SFZ header; its opcodes are ignored",
        "bad.sfz:3: '=' without an opcode name: =60; ignored",
        "bad.sfz:3: unexpected text: stray; ignored",
        "bad.sfz:4: malformed header: <region; ignored",
        "bad.sfz:5: <effect> not supported; its opcodes are ignored"]


def test_text_that_is_not_utf8_is_read_as_latin1(tmp_path):
    path = tmp_path / "latin.sfz"
    path.write_bytes(b"<region> sample=*sine\n region_label=Caf\xe9\n")
    instrument = load_sfz(path)
    assert instrument.regions[0].label == "Café"
    assert instrument.problems == ["latin.sfz:2: not UTF-8; the file is read as Latin-1"]


def test_include_loops_missing_includes_and_folders(tmp_path):
    write(tmp_path, "a.sfz", '#include "b.sfz"\n<region> sample=*sine key=1\n')
    write(tmp_path, "b.sfz", '#include "a.sfz"\n#include "b.sfz"\n<region> sample=*saw key=2\n'
                             '#include "nowhere.sfz"\n#include nowhere.sfz\n')
    instrument = load_sfz(tmp_path / "a.sfz")
    assert [region.lokey for region in instrument.regions] == [2, 1]
    assert instrument.problems == [
        'b.sfz:1: #include "a.sfz": include loop (a.sfz → b.sfz → a.sfz); not included again',
        'b.sfz:2: #include "b.sfz": include loop (b.sfz → b.sfz); not included again',
        f'b.sfz:4: #include "nowhere.sfz": file not found (looked for {tmp_path / "nowhere.sfz"})',
        'b.sfz:5: #include nowhere.sfz: expected #include "file"; ignored']
    # From an included file, #include looks beside that file first, then beside the top file.
    write(tmp_path, "lib/maps/violin.sfz", '#include "range.sfz"\n#include "lib/shared.sfz"\n')
    write(tmp_path, "lib/maps/range.sfz", "<region> sample=*sine key=3\n")
    write(tmp_path, "lib/shared.sfz", "<region> sample=*sine key=4\n")
    nested = load_sfz(write(tmp_path, "violin.sfz", '#include "lib/maps/violin.sfz"\n'))
    assert [region.lokey for region in nested.regions] == [3, 4]
    assert nested.problems == []


def test_generated_samples_need_no_file(tmp_path):
    instrument = load_sfz(write(tmp_path, "waves.sfz", """
        <control> default_path=nowhere/
        <region> sample=*sine
        <region> sample=*tri
        <region> sample=*square
        <region> sample=*silence
        <region> sample=*bell
    """))
    assert [sample.path for sample in instrument.samples] == ["*sine", "*triangle", "*square", "*silence"]
    assert [region.sample for region in instrument.regions] == [0, 1, 2, 3, -1]
    assert instrument.problems == ["waves.sfz:7: sample=*bell: no such generated sample (there are *sine, *saw, "
                                   "*square, *triangle, *noise, *silence); the region is silent"]


def test_silent_and_controller_started_regions(tmp_path):
    instrument = load_sfz(write(tmp_path, "pedal.sfz", """
        <region> sample=*sine key=60 group=1
        <region> sample=*noise key=61 end=-1 off_by=1
        <region> sample=*noise on_locc64=127 on_hicc64=127
        <region> sample=*noise trigger=release start_locc64=0
        <region> key=62
    """))
    assert [(region.lokey, region.sample) for region in instrument.regions] == [(60, 0), (61, -1), (0, 1), (62, -1)]
    assert instrument.regions[1].end == -1
    assert instrument.problems == [
        "pedal.sfz:4: on_locc64=127: regions started by a controller are not supported; the region is left out",
        "pedal.sfz:4: on_hicc64=127: regions started by a controller are not supported; the region is left out",
        "pedal.sfz:5: start_locc64=0: disregarded in a release region",
        "pedal.sfz:6: region without sample=; it is silent"]


def test_control_opcodes_and_default_path_override(tmp_path):
    write(tmp_path, "moved/a.wav", "")
    text = """
        <control> default_path=samples/ set_cc7=100 lokey=3
        <global> default_path=elsewhere/
        <region> sample=a.wav
    """
    instrument = load_sfz(write(tmp_path, "moved.sfz", text))
    assert instrument.regions[0].sample == -1
    assert instrument.controllers == {7: 100 / 127}
    assert instrument.problems == [
        "moved.sfz:2: lokey=3: not a <control> opcode; ignored",
        "moved.sfz:3: default_path=elsewhere/: belongs under <control>; ignored",
        f"moved.sfz:4: sample not found: a.wav (looked for {tmp_path / 'samples' / 'a.wav'})"]
    overridden = load_sfz(tmp_path / "moved.sfz", default_path_override="moved/")
    assert [sample.path for sample in overridden.samples] == [str(tmp_path / "moved" / "a.wav")]


def test_initial_controller_values_from_the_corpus(sfizz):
    assert load_sfz(sfizz / "set_cc.sfz").controllers == {61: 122 / 127}
    instrument = load_sfz(sfizz / "set_hdcc.sfz")
    assert instrument.controllers == {61: 0.1234}
    assert any("set_hdcc142=0.5678" in problem for problem in instrument.problems)


def test_conflicting_keyswitch_settings_keep_the_first(tmp_path):
    instrument = load_sfz(write(tmp_path, "ks.sfz", """
        <region> sample=*sine sw_last=24 sw_label=Legato sw_default=24
        <region> sample=*sine sw_last=24 sw_label=Staccato sw_default=25
        <region> sample=*sine sw_label=Nothing
    """))
    assert (instrument.sw_default, instrument.sw_labels) == (24, {24: "Legato"})
    assert instrument.problems == [
        "ks.sfz:3: sw_default=25: another sw_default was set before (ks.sfz:2: sw_default=24); that one is kept",
        "ks.sfz:3: sw_label=Staccato: key 24 is already labelled (ks.sfz:2: sw_label=Legato); that label is kept",
        "ks.sfz:4: sw_label=Nothing: the region has no sw_last; the label names no key"]


def test_region_headers_inside_comments_are_not_regions(tmp_path):
    text = "<region> sample=*sine\n// <region> sample=*saw\n/* <region>\n<region> */ <region> sample=*saw\n"
    instrument = load_sfz(write(tmp_path, "commented.sfz", text))
    assert len(instrument.regions) == without_comments(text).count("<region>") == 2
