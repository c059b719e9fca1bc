"""LV2 descriptions read from the installed Debian plugins, and what liveengine refuses to host."""

import dataclasses

import pytest

from liveengine.instruments import lilv, lv2
from lv2plugins import CONVOLV_STEREO, DPL_STEREO, EPIANO, require

BLOCK_SIZES = (32, 64, 256, 1024)


def test_mda_epiano_is_an_instrument_with_its_presets_and_controls():
    require(EPIANO)
    epiano = lv2.describe(EPIANO)
    assert epiano.name == "MDA ePiano" and epiano.class_label == "Instrument" and epiano.is_instrument
    assert epiano.kind == "instrument"
    assert {preset.label for preset in epiano.presets} == {"Autopan", "Bright", "Default", "Mellow", "Tremolo"}
    assert epiano.audio_inputs == () and len(epiano.audio_outputs) == 2 and epiano.midi_input is not None
    decay = epiano.control("env_decay")
    assert (decay.name, decay.default, decay.minimum, decay.maximum, decay.is_input) == \
        ("Envelope Decay", 0.5, 0.0, 1.0, True)
    assert epiano.latency_port is None and epiano.hard_rt_capable
    assert epiano.required_features == (lilv.URID_MAP,)
    for block in BLOCK_SIZES:
        assert lv2.refusal(epiano, block) is None


def test_x42_dpl_is_an_effect_with_a_latency_port():
    require(DPL_STEREO)
    dpl = lv2.describe(DPL_STEREO)
    assert not dpl.is_instrument and dpl.kind == "effect" and dpl.class_label == "Limiter"
    assert len(dpl.audio_inputs) == 2 and len(dpl.audio_outputs) == 2 and dpl.midi_input is None
    latency = next(port for port in dpl.control_ports if port.index == dpl.latency_port)
    assert latency.symbol == "latency" and not latency.is_input and latency.integer
    assert lv2.refusal(dpl, 256) is None


@pytest.mark.parametrize("block", BLOCK_SIZES)
def test_convolv_needs_the_worker_and_blocks_of_at_least_64_frames(block):
    require(CONVOLV_STEREO)
    convolver = lv2.describe(CONVOLV_STEREO)
    assert lilv.WORKER_SCHEDULE in convolver.required_features and convolver.has_worker_interface
    assert (convolver.min_block_length, convolver.max_block_length) == (64, 8192)
    assert not convolver.fixed_block_length and not convolver.power_of_2_block_length
    assert [port.symbol for port in convolver.atom_ports] == ["control", "notify"]
    reasons = lv2.refusal(convolver, block)
    if block < 64:
        assert reasons == ["it needs blocks of at least 64 frames (buf-size:minBlockLength), "
                           f"above the block size {block}"]
    else:
        assert reasons is None


REFUSALS = {
    "a feature liveengine does not give": (
        lambda plugin: {"required_features": plugin.required_features + ("http://lv2plug.in/ns/ext/log#log",)},
        "it requires the host feature <http://lv2plug.in/ns/ext/log#log>, which liveengine does not give"),
    "not real-time safe": (
        lambda plugin: {"hard_rt_capable": False},
        "it does not declare lv2:hardRTCapable, so it may block the audio thread"),
    "a fixed block length": (
        lambda plugin: {"required_features": plugin.required_features + (lilv.BUF_SIZE_FIXED_BLOCK_LENGTH,)},
        "it needs every block to have the same length (buf-size:fixedBlockLength)"),
    "a power-of-two block length": (
        lambda plugin: {"required_features": plugin.required_features + (lilv.BUF_SIZE_POWER_OF_2_BLOCK_LENGTH,)},
        "it needs blocks of a power-of-two length (buf-size:powerOf2BlockLength)"),
    "a CV port": (
        lambda plugin: {"unconnectable_ports": ("'mod' (a CV port)",)},
        "it has the port 'mod' (a CV port), which liveengine cannot connect"),
    "no audio output": (
        lambda plugin: {"audio_outputs": ()},
        "it has no audio output"),
    "a maximum block below the show's": (
        lambda plugin: {"max_block_length": 128},
        "it takes blocks of at most 128 frames (buf-size:maxBlockLength), below the block size 256"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_each_reason_to_refuse_a_plugin_is_named(case):
    require(EPIANO)
    change, expected = REFUSALS[case]
    epiano = lv2.describe(EPIANO)
    reasons = lv2.refusal(dataclasses.replace(epiano, **change(epiano)), 256)
    assert len(reasons) == 1 and reasons[0].startswith(expected)


def test_every_reason_is_given_at_once_and_named_with_the_plugin():
    require(CONVOLV_STEREO)
    convolver = lv2.describe(CONVOLV_STEREO)
    crippled = dataclasses.replace(convolver, hard_rt_capable=False, audio_outputs=())
    refused = lv2.PluginRefused.naming(crippled, lv2.refusal(crippled, 32))
    assert len(refused.reasons) == 3
    assert str(refused).startswith(f"cannot host the LV2 plugin LV2 Convolution Stereo <{CONVOLV_STEREO}>: ")
    assert all(reason in str(refused) for reason in refused.reasons)


def test_an_unknown_uri_is_named_with_the_closest_installed_ones():
    require(EPIANO)
    with pytest.raises(lv2.PluginError) as error:
        lv2.describe("http://drobilla.net/plugins/mda/EPaino")
    assert str(error.value).startswith("no LV2 plugin <http://drobilla.net/plugins/mda/EPaino> is installed "
                                       f"(did you mean <{EPIANO}>")
    with pytest.raises(lv2.PluginError, match=r"^no LV2 plugin <urn:nothing> is installed; `liveengine plugins`"):
        lv2.describe("urn:nothing")


def test_an_unknown_preset_or_control_lists_what_the_plugin_has():
    require(EPIANO)
    epiano = lv2.describe(EPIANO)
    assert epiano.preset("Bright").uri == "http://drobilla.net/plugins/mda/presets#EPiano-bright"
    assert epiano.preset("http://drobilla.net/plugins/mda/presets#EPiano-bright").label == "Bright"
    with pytest.raises(lv2.PluginError) as error:
        epiano.preset("Brite")
    assert str(error.value) == (f"MDA ePiano <{EPIANO}> has no preset 'Brite' (did you mean 'Bright'?); "
                                "its presets are: 'Autopan', 'Bright', 'Default', 'Mellow', 'Tremolo'")
    with pytest.raises(lv2.PluginError) as error:
        epiano.control("decay")
    assert str(error.value).startswith(f"MDA ePiano <{EPIANO}> has no control input 'decay'; its controls are: "
                                       "env_decay, env_release, hardness,")


def test_discovery_describes_every_installed_plugin_once():
    require(EPIANO, DPL_STEREO)
    descriptions = lv2.discover()
    uris = [description.uri for description in descriptions]
    assert len(uris) == len(set(uris)) and {EPIANO, DPL_STEREO} <= set(uris)
    assert lv2.discover() == descriptions  # read once: the same descriptions again


def test_without_liblilv_the_error_names_the_debian_package(monkeypatch):
    monkeypatch.setattr(lilv, "LIBRARY", "liblilv-absent.so.0")
    lilv.library.cache_clear()
    try:
        with pytest.raises(lilv.LilvUnavailable) as error:
            lilv.library()
    finally:
        lilv.library.cache_clear()
    assert "sudo apt install liblilv-0-0" in str(error.value)
