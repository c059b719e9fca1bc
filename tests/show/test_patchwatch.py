"""A synth patch file saved during the show reloads into its instrument; a broken one is refused."""

import os

import numpy as np

from liveengine.show.reader import load_show
from liveengine.show.patchwatch import PatchWatcher
from liveengine.engine import OfflineRenderer
from liveengine.kernel.synthpatch import P_CUTOFF
from liveengine.show.rig import build_rig

PATCH = """
[patch]
name = "Edited lead"
gain_db = -12
[[oscillators]]
wave = "saw"
[filter]
cutoff_hz = {cutoff}
"""

SHOW = """
[show]
name = "Patch editing"
[instruments.lead]
type = "synth"
patch = "lead.toml"
"""


def rig_with_patch(tmp_path, cutoff):
    (tmp_path / "lead.toml").write_text(PATCH.format(cutoff=cutoff))
    (tmp_path / "show.toml").write_text(SHOW)
    return build_rig(load_show(tmp_path / "show.toml"))


def save(path, text):
    path.write_text(text)
    stat = path.stat()  # a later modification time than the first save, however fast the disk
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_a_saved_patch_reloads_while_a_note_sounds_without_a_click(tmp_path):
    rig = rig_with_patch(tmp_path, 800)
    engine = rig.engine
    lead = rig.instrument_numbers["lead"]
    reports = []
    watcher = PatchWatcher(rig, engine.producer("control"), report=reports.append)
    keys = engine.producer("keyboards")
    renderer = OfflineRenderer(engine.state, 64)
    keys.note_on(0, 1, lead, 57, 0.8, "keys")
    before = renderer.render(9600)[:, 0]

    save(tmp_path / "lead.toml", PATCH.format(cutoff=4000))
    watcher.step()
    after = renderer.render(9600)[:, 0]

    assert reports == [f"instrument lead: reloaded {tmp_path / 'lead.toml'}"]
    assert engine.state.patches[lead, P_CUTOFF] == 4000
    # Brighter after the reload: more of the saw's upper partials pass.
    def upper_energy(signal):
        spectrum = np.abs(np.fft.rfft(signal * np.hanning(len(signal))))
        return spectrum[len(spectrum) // 8:].sum() / spectrum.sum()
    assert upper_energy(after[4800:]) > 2 * upper_energy(before[4800:])
    # No click where the new patch took over: no step larger than the sound's own steepest.
    joined = np.concatenate([before, after])
    steps = np.abs(np.diff(joined))
    assert steps[9590:9700].max() <= 1.05 * max(steps[4800:9590].max(), steps[9700:].max())


def test_a_broken_patch_is_reported_and_the_instrument_keeps_its_patch(tmp_path):
    rig = rig_with_patch(tmp_path, 800)
    lead = rig.instrument_numbers["lead"]
    reports = []
    watcher = PatchWatcher(rig, rig.engine.producer("control"), report=reports.append)
    save(tmp_path / "lead.toml", PATCH.format(cutoff="\"bright\""))
    watcher.step()
    OfflineRenderer(rig.engine.state, 64).render(64)
    assert len(reports) == 1 and "was not reloaded, it keeps its patch" in reports[0]
    assert "cutoff_hz" in reports[0]
    assert rig.engine.state.patches[lead, P_CUTOFF] == 800


def test_a_patch_saved_again_before_the_last_reload_is_swapped_in_reloads_once_that_is_done(tmp_path):
    rig = rig_with_patch(tmp_path, 800)
    engine = rig.engine
    lead = rig.instrument_numbers["lead"]
    reports = []
    watcher = PatchWatcher(rig, engine.producer("control"), report=reports.append)
    renderer = OfflineRenderer(engine.state, 64)
    save(tmp_path / "lead.toml", PATCH.format(cutoff=4000))
    watcher.step()
    staged = engine.state.staged_patches[lead].copy()
    save(tmp_path / "lead.toml", PATCH.format(cutoff=2000))
    watcher.step()  # the first reload is not swapped in yet: its staged patch is left as it is
    np.testing.assert_array_equal(engine.state.staged_patches[lead], staged)
    renderer.render(64)
    engine.poll()  # the audio thread swapped it in
    assert engine.state.patches[lead, P_CUTOFF] == 4000
    watcher.step()  # the second save, tried again
    renderer.render(64)
    assert engine.state.patches[lead, P_CUTOFF] == 2000
    assert reports == [f"instrument lead: reloaded {tmp_path / 'lead.toml'}"] * 2
