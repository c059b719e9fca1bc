"""Instantiating real Debian LV2 plugins with liveengine's host features, and running them from Python
through the very addresses and buffers the kernel will use."""

import math

import numpy as np
import pytest

from liveengine.engine.plugins import PluginHost
from liveengine.instruments import lilv, lv2
from liveengine.instruments.lv2 import PluginError, PluginRefused
from lv2plugins import CONVOLV_STEREO, DPL_STEREO, EPIANO, FIL4_STEREO, ZEROCONVOLV_MONO, WorkRecorder, require, run, \
    write_midi

NOTE_ON = bytes([0x90, 60, 100])


@pytest.fixture(scope="module")
def host():
    require()
    return PluginHost.shared()


@pytest.mark.parametrize("sample_rate", (44100, 48000, 96000))
@pytest.mark.parametrize("block, frame", [(64, 0), (64, 37), (256, 1), (256, 200), (1024, 777)])
def test_epiano_sounds_from_the_frame_its_note_on_is_stamped_with(host, sample_rate, block, frame):
    require(EPIANO)
    with host.instantiate(EPIANO, sample_rate, block) as epiano:
        assert epiano.active
        write_midi(epiano, host, [(frame, NOTE_ON)])
        run(epiano, block)
        for channel in epiano.audio_outputs:
            assert np.flatnonzero(channel)[0] == frame
            assert np.abs(channel).max() > 0.01


def test_epiano_buffers_are_laid_out_as_the_kernel_expects(host):
    require(EPIANO)
    with host.instantiate(EPIANO, 48000, 256) as epiano:
        assert epiano.audio_outputs.shape == (2, 256) and epiano.audio_outputs.dtype == np.float32
        assert epiano.audio_inputs.shape == (0, 256)
        assert epiano.controls.shape == (epiano.description.port_count,) and epiano.controls.dtype == np.float32
        assert epiano.midi_input.nbytes >= 8192 and epiano.midi_input.ctypes.data % 8 == 0
        assert tuple(epiano.midi_input.view(np.uint32)[:4]) == (8, host.map_uri(lilv.ATOM_SEQUENCE), 0, 0)
        assert epiano.handle and epiano.run_address
        assert (epiano.work_address, epiano.work_response_address, epiano.end_run_address) == (0, 0, 0)
        assert epiano.latency_port == -1 and epiano.latency() == 0


def test_fil4_passes_audio_and_its_gain_control_reaches_it(host):
    require(FIL4_STEREO)
    sample_rate, block = 48000, 256
    tone = np.sin(2 * np.pi * 1000 * np.arange(block * 160) / sample_rate).astype(np.float32)
    levels = {}
    for gain_db in (0.0, -6.0):
        with host.instantiate(FIL4_STEREO, sample_rate, block, controls={"gain": gain_db}) as eq:
            out = []
            for start in range(0, tone.size, block):
                eq.audio_inputs[:] = tone[start:start + block]
                run(eq, block)
                out.append(eq.audio_outputs.copy())
            # fil4 eases into its settings over about 0.3 s; then 96 blocks hold exactly 512 cycles
            settled = np.concatenate(out, axis=1)[:, block * 64:]
            levels[gain_db] = 20 * np.log10(np.sqrt(np.mean(settled ** 2, axis=1)) / np.sqrt(0.5))
    assert np.all(np.abs(levels[0.0]) < 0.05)
    assert np.all(np.abs(levels[-6.0] + 6.0) < 0.05)


def test_a_preset_by_label_or_uri_sets_its_values_and_controls_win_over_it(host):
    require(EPIANO)
    with host.instantiate(EPIANO, 48000, 256) as plain:
        assert plain.control("hardness") == 0.5 and plain.control("treble_boost") == 0.5
    with host.instantiate(EPIANO, 48000, 256, preset="Bright") as bright:
        assert bright.control("hardness") == 1.0 and bright.control("treble_boost") == pytest.approx(0.8)
    with host.instantiate(EPIANO, 48000, 256, preset="http://drobilla.net/plugins/mda/presets#EPiano-bright",
                          controls={"hardness": 0.25, "env_decay": 0.125}) as adjusted:
        assert adjusted.control("hardness") == 0.25 and adjusted.control("env_decay") == 0.125
        assert adjusted.control("treble_boost") == pytest.approx(0.8)


@pytest.mark.parametrize("controls, message", [
    ({"decay": 0.5}, f"MDA ePiano <{EPIANO}> has no control input 'decay'; its controls are: env_decay, "),
    ({"env_decay": 1.5}, "MDA ePiano: the control 'env_decay' (Envelope Decay) takes 0 .. 1, not 1.5"),
    ({"env_decay": -0.1}, "MDA ePiano: the control 'env_decay' (Envelope Decay) takes 0 .. 1, not -0.1"),
    ({"env_decay": math.nan}, "MDA ePiano: the control 'env_decay' (Envelope Decay) takes a finite number, not nan"),
    ({"env_decay": "loud"}, "MDA ePiano: the control 'env_decay' (Envelope Decay) takes a number, not 'loud'"),
])
def test_a_control_that_does_not_fit_is_refused_with_what_would(host, controls, message):
    require(EPIANO)
    with pytest.raises(PluginError) as error:
        host.instantiate(EPIANO, 48000, 256, controls=controls)
    assert str(error.value).startswith(message)


def test_an_unknown_preset_lists_the_plugins_presets(host):
    require(EPIANO)
    with pytest.raises(PluginError) as error:
        host.instantiate(EPIANO, 48000, 256, preset="Warm")
    assert str(error.value) == (f"MDA ePiano <{EPIANO}> has no preset 'Warm'; "
                                "its presets are: 'Autopan', 'Bright', 'Default', 'Mellow', 'Tremolo'")


def test_a_plugin_needing_longer_blocks_is_refused_with_its_name_uri_and_reason(host):
    require(CONVOLV_STEREO)
    with pytest.raises(PluginRefused) as error:
        host.instantiate(CONVOLV_STEREO, 48000, 32, schedule=WorkRecorder().schedule)
    assert str(error.value) == (f"cannot host the LV2 plugin LV2 Convolution Stereo <{CONVOLV_STEREO}>: it needs "
                                "blocks of at least 64 frames (buf-size:minBlockLength), above the block size 32")


def test_a_plugin_needing_the_worker_is_not_loaded_without_it(host):
    require(CONVOLV_STEREO)
    with pytest.raises(PluginError, match=r"LV2 Convolution Stereo <.*> needs the LV2 worker"):
        host.instantiate(CONVOLV_STEREO, 48000, 256)


@pytest.mark.parametrize("sample_rate", (44100, 48000, 96000))
def test_dpl_reports_its_latency_after_a_run(host, sample_rate):
    require(DPL_STEREO)
    with host.instantiate(DPL_STEREO, sample_rate, 256) as limiter:
        assert limiter.latency_port == limiter.description.latency_port
        assert limiter.latency() == {44100: 56, 48000: 64, 96000: 128}[sample_rate]


def test_convolv_loads_with_the_worker_and_its_interface_is_found(host):
    require(CONVOLV_STEREO)
    worker = WorkRecorder()
    with host.instantiate(CONVOLV_STEREO, 48000, 256, schedule=worker.schedule) as convolver:
        assert convolver.work_address and convolver.work_response_address
        assert set(convolver.atom_inputs) == {0} and set(convolver.atom_outputs) == {1}
        assert convolver.atom_output_header(1) == (convolver.atom_outputs[1].nbytes - 8,
                                                    host.map_uri("http://lv2plug.in/ns/ext/atom#Chunk"))
        run(convolver, 256)
        # the plugin turned the chunk it was given into its (empty) notification sequence
        assert tuple(convolver.atom_outputs[1].view(np.uint32)[:2]) == (8, host.map_uri(lilv.ATOM_SEQUENCE))


def test_a_preset_restored_through_the_worker_convolves_once_the_work_is_done(host):
    """zeroconvolv loads its preset's impulse response in the worker: the request reaches the
    schedule function given, with its handle; once `work` and `work_response` have run, a click
    comes out delayed by the latency the plugin reports."""
    require(ZEROCONVOLV_MONO)
    worker = WorkRecorder()
    with host.instantiate(ZEROCONVOLV_MONO, 48000, 256, preset="No-OP Mono", schedule=worker.schedule) as convolver:
        assert [handle for handle, _ in worker.requests] == [WorkRecorder.HANDLE]
        worker.work_all(convolver)
        latency = convolver.latency()
        assert latency == 64
        convolver.audio_inputs[:] = 0
        convolver.audio_inputs[0, 5] = 1.0
        run(convolver, 256)
        assert np.argmax(np.abs(convolver.audio_outputs[0])) == 5 + latency
        assert convolver.audio_outputs[0, 5 + latency] == pytest.approx(1.0, abs=1e-4)


def test_close_is_idempotent_and_forgets_the_addresses(host):
    require(EPIANO)
    epiano = host.instantiate(EPIANO, 48000, 256)
    epiano.activate()  # active already: nothing to do
    epiano.close()
    epiano.close()
    assert (epiano.handle, epiano.run_address) == (0, 0) and not epiano.active
    with pytest.raises(PluginError, match="is closed"):
        epiano.activate()


def test_urids_are_shared_and_unmap_back(host):
    uri = "http://lv2plug.in/ns/ext/midi#MidiEvent"
    assert PluginHost.shared() is host
    assert host.map_uri(uri) == host.map_uri(uri) > 0
    assert host.unmap_urid(host.map_uri(uri)) == uri and host.unmap_urid(0) is None


@pytest.mark.parametrize("sample_rate, block", [(44100, 64), (96000, 1024)])
def test_every_plugin_liveengine_says_it_hosts_loads_runs_and_closes(host, sample_rate, block):
    """What `liveengine plugins` lists as hostable must be: each installed one is instantiated with
    the worker, run, its work done, run again, and freed."""
    require(EPIANO, FIL4_STEREO)
    failed, hosted = [], 0
    for description in lv2.discover():
        if lv2.refusal(description, block):
            continue
        worker = WorkRecorder()
        try:
            with host.instantiate(description.uri, sample_rate, block, schedule=worker.schedule) as plugin:
                run(plugin, block)
                worker.work_all(plugin)
                run(plugin, block)
                assert np.all(np.isfinite(plugin.audio_outputs))
            hosted += 1
        except Exception as error:  # every plugin is tried; the assertion names each that failed
            failed.append(f"<{description.uri}>: {error!r}")
    assert failed == [] and hosted >= 2
