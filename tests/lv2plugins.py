"""Real LV2 plugins from Debian for the plugin host's tests: which ones, from which package (a test
skips, saying so, only where liblilv or the package is missing), and what the kernel will do with
an instance, done from Python through cffi: write an atom:Sequence of MIDI events, call `run`; and
plugin bundles of descriptions only, for plugins liveengine must refuse."""

import os

import numpy as np
import pytest

from liveengine.instruments import lilv
from liveengine.instruments.lilv import ffi

EPIANO = "http://drobilla.net/plugins/mda/EPiano"
DX10 = "http://drobilla.net/plugins/mda/DX10"
FIL4_STEREO = "http://gareus.org/oss/lv2/fil4#stereo"
DPL_STEREO = "http://gareus.org/oss/lv2/dpl#stereo"
CONVOLV_STEREO = "http://gareus.org/oss/lv2/convoLV2#Stereo"
ZEROCONVOLV_MONO = "http://gareus.org/oss/lv2/zeroconvolv#Mono"
ZEROCONVOLV_STEREO = "http://gareus.org/oss/lv2/zeroconvolv#Stereo"
DEBIAN_PACKAGES = {EPIANO: "mda-lv2", DX10: "mda-lv2", FIL4_STEREO: "x42-plugins", DPL_STEREO: "x42-plugins",
                   CONVOLV_STEREO: "x42-plugins", ZEROCONVOLV_MONO: "x42-plugins", ZEROCONVOLV_STEREO: "x42-plugins"}

WORKER_STATUS = "LV2_Worker_Status(void*, uint32_t, const void*)"


def require(*uris: str):
    """Skip the test, naming what is missing, unless liblilv and every plugin in `uris` are installed."""
    from liveengine.instruments import lv2
    try:
        installed = lv2.world().descriptions
    except lilv.LilvUnavailable as error:
        pytest.skip(str(error))
    for uri in uris:
        if uri not in installed:
            pytest.skip(f"the LV2 plugin <{uri}> is not installed (Debian package {DEBIAN_PACKAGES[uri]})")


def write_midi(instance, host, events: list[tuple[int, bytes]]):
    """Fill the instance's MIDI input with one atom:Sequence of midi:MidiEvents at their frames."""
    buffer = instance.midi_input
    words = buffer.view(np.uint32)
    words[1] = host.map_uri(lilv.ATOM_SEQUENCE)
    words[2:4] = 0  # LV2_Atom_Sequence_Body: unit (frames), pad
    offset = 16
    midi_event = host.map_uri(lilv.MIDI_EVENT)
    for frame, message in events:
        buffer[offset:offset + 8].view(np.int64)[0] = frame
        buffer[offset + 8:offset + 16].view(np.uint32)[:] = (len(message), midi_event)
        buffer[offset + 16:offset + 16 + len(message)] = list(message)
        offset += 16 + (len(message) + 7) // 8 * 8
    words[0] = offset - 8  # the sequence's body: everything after its LV2_Atom header


def run(instance, frames: int):
    """One call of the plugin's `run`, through the address the kernel calls."""
    instance.reset_atom_outputs()
    ffi.cast("void(*)(void*, uint32_t)", instance.run_address)(ffi.cast("void*", instance.handle), frames)


class WorkRecorder:
    """A stand-in for the kernel's schedule_work: a C callback that keeps each request, its handle, and
    `schedule`, the (function address, handle address) pair `PluginHost.instantiate` takes."""

    HANDLE = 0x5EED

    def __init__(self):
        self.requests: list[tuple[int, bytes]] = []
        self.callback = ffi.callback(WORKER_STATUS, self._schedule_work)
        self.schedule = (int(ffi.cast("uintptr_t", self.callback)), self.HANDLE)

    def _schedule_work(self, handle, size, data):
        self.requests.append((int(ffi.cast("uintptr_t", handle)), bytes(ffi.buffer(data, size))))
        return 0

    def work_all(self, instance):
        """Do every request as the worker thread will: `work`, then each response through `work_response`."""
        responses = []

        @ffi.callback(WORKER_STATUS)
        def respond(handle, size, data):
            responses.append(bytes(ffi.buffer(data, size)))
            return 0
        handle = ffi.cast("void*", instance.handle)
        work = ffi.cast("LV2_Worker_Status(*)(void*, LV2_Worker_Respond_Function, void*, uint32_t, const void*)",
                        instance.work_address)
        work_response = ffi.cast("LV2_Worker_Status(*)(void*, uint32_t, const void*)", instance.work_response_address)
        requests, self.requests = self.requests, []
        for _, request in requests:
            assert work(handle, respond, ffi.NULL, len(request), request) == 0
        for response in responses:
            assert work_response(handle, len(response), response) == 0


SYSTEM_LV2_FOLDERS = "/usr/lib/lv2"  # where Debian's packages install their bundles


def write_stereo_effect_bundle(folder, uri: str, name: str, *, required: tuple[str, ...] = (),
                               hard_rt_capable: bool = True):
    """A plugin bundle of descriptions only (no binary: liveengine refuses it before loading one), found
    through LV2_PATH: a stereo effect called `name`, requiring the host features `required`."""
    features = [f"lv2:requiredFeature <{feature}>" for feature in required]
    if hard_rt_capable:
        features.append("lv2:optionalFeature lv2:hardRTCapable")
    bundle = folder / f"{name.lower().replace(' ', '-')}.lv2"
    bundle.mkdir(parents=True)
    (bundle / "manifest.ttl").write_text(
        "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f"<{uri}> a lv2:Plugin ; lv2:binary <plugin.so> ; rdfs:seeAlso <plugin.ttl> .\n")
    audio = (("Input", "in_l"), ("Input", "in_r"), ("Output", "out_l"), ("Output", "out_r"))
    ports = ", ".join(f"[ a lv2:{direction}Port, lv2:AudioPort ; lv2:index {index} ; lv2:symbol \"{symbol}\" ; "
                      f"lv2:name \"{symbol}\" ]" for index, (direction, symbol) in enumerate(audio))
    (bundle / "plugin.ttl").write_text(
        "@prefix doap: <http://usefulinc.com/ns/doap#> .\n"
        "@prefix lv2: <http://lv2plug.in/ns/lv2core#> .\n"
        f"<{uri}> a lv2:Plugin, lv2:ReverbPlugin ; doap:name \"{name}\" ;\n"
        + "".join(f"    {feature} ;\n" for feature in features)
        + f"    lv2:port {ports} .\n")


def lv2_path_with(folder) -> str:
    """LV2_PATH for a child process that finds the bundles in `folder` beside the installed plugins."""
    return os.pathsep.join([str(folder), os.environ.get("LV2_PATH") or SYSTEM_LV2_FOLDERS])
