"""The kernel's Python face: the engine, its producers, offline rendering, telemetry. Other packages use
only what this module exports (the kernel itself is `liveengine.kernel`; the live stream and the audio
devices are `liveengine.drivers`, stem streaming is `liveengine.loader`)."""

from ..kernel import events
from .core import CueEvent, Engine, LateEvent, NotificationPump, Producer, RingFullError, TimecodeEvent
from ..kernel.state import (CUE_TEMPLATE_ROWS, MAX_CUES, MAX_PARTS, PICKUP_SLOTS, BusLayout, EngineSettings,
                            TimecodeInput, TimecodeMaster)
from .offline import (Ending, OfflineLoop, OfflineRenderer, OutputFileError, Written, collect_audio, peak_dbfs,
                      write_audio)
from .telemetry import BusLevel, Meter, Telemetry, TimecodeStatus

__all__ = [
    "events", "CUE_TEMPLATE_ROWS", "MAX_CUES", "MAX_PARTS", "PICKUP_SLOTS",
    "Engine", "EngineSettings", "BusLayout", "TimecodeInput", "TimecodeMaster", "Producer", "RingFullError",
    "NotificationPump", "CueEvent", "LateEvent", "TimecodeEvent",
    "OfflineRenderer", "OfflineLoop", "Ending", "OutputFileError", "Written", "write_audio", "collect_audio", "peak_dbfs",
    "BusLevel", "Meter", "Telemetry", "TimecodeStatus",
]
