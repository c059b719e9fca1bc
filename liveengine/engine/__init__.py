"""The kernel's Python face: the engine, its producers, the stream, telemetry. Other packages use
only what this module exports (the kernel itself is `liveengine.kernel`)."""

from ..kernel import events
from .core import CueEvent, Engine, LateEvent, NotificationPump, Producer, RingFullError, TimecodeEvent
from ..kernel.state import (CUE_TEMPLATE_ROWS, MAX_CUES, MAX_PARTS, PICKUP_SLOTS, BusLayout, EngineSettings,
                            TimecodeInput, TimecodeMaster)
from .devices import AudioDeviceError, choose_device, describe_devices, realtime_threads
from .stemloader import StemError, StemFile, StemLoader, wait_for_a_block
from .offline import (Ending, OfflineLoop, OfflineRenderer, OutputFileError, Written, collect_audio, peak_dbfs,
                      write_audio)
from .stream import KeptStream, LiveStream, audio_callback
from .telemetry import BusLevel, Meter, Telemetry, TimecodeStatus

__all__ = [
    "events", "CUE_TEMPLATE_ROWS", "MAX_CUES", "MAX_PARTS", "PICKUP_SLOTS",
    "Engine", "EngineSettings", "BusLayout", "TimecodeInput", "TimecodeMaster", "Producer", "RingFullError",
    "NotificationPump", "CueEvent", "LateEvent", "TimecodeEvent",
    "OfflineRenderer", "OfflineLoop", "Ending", "OutputFileError", "Written", "write_audio", "collect_audio", "peak_dbfs",
    "KeptStream", "LiveStream", "audio_callback", "AudioDeviceError", "choose_device",
    "describe_devices",
    "realtime_threads",
    "StemError", "StemFile", "StemLoader", "wait_for_a_block",
    "BusLevel", "Meter", "Telemetry", "TimecodeStatus",
]
