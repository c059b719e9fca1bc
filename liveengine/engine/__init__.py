"""The kernel's Python face: the engine, its producers, the handover, typed notifications, offline
rendering, telemetry. Other packages use only what this module exports (the kernel itself is
`liveengine.kernel`; the live stream and the audio devices are `liveengine.drivers`, stem streaming is
`liveengine.loader`)."""

from ..kernel import events
from .core import Engine, NotificationPump, Producer, RingFullError
from .handover import Handover, HandoverError
from .notifications import (Acknowledged, ChaseChange, CueEvent, CueOutcome, HandedOver, HandoverOutcome, LateEvent,
                            Notification, NoteRefused, PartsStopped, PartStarted, PictureSpeed, Refusal, Resource,
                            SampleNotReady,
                            SampleWanted, StopReason, Subscription, TimecodeEvent)
from ..kernel.state import (CUE_TEMPLATE_ROWS, MAX_CUES, MAX_PARTS, PICKUP_SLOTS, BusLayout, EngineSettings,
                            TimecodeInput, TimecodeMaster)
from .offline import (Ending, OfflineLoop, OfflineRenderer, OutputFileError, Written, collect_audio, peak_dbfs,
                      write_audio)
from .telemetry import BusLevel, Meter, Telemetry, TimecodeStatus

__all__ = [
    "events", "CUE_TEMPLATE_ROWS", "MAX_CUES", "MAX_PARTS", "PICKUP_SLOTS",
    "Engine", "EngineSettings", "BusLayout", "TimecodeInput", "TimecodeMaster", "Producer", "RingFullError",
    "NotificationPump", "Handover", "HandoverError", "Resource",
    "Notification", "Subscription", "Acknowledged", "ChaseChange", "CueEvent", "CueOutcome", "HandedOver",
    "HandoverOutcome", "LateEvent", "NoteRefused", "PartsStopped", "PartStarted", "PictureSpeed", "Refusal",
    "SampleNotReady",
    "SampleWanted", "StopReason", "TimecodeEvent",
    "OfflineRenderer", "OfflineLoop", "Ending", "OutputFileError", "Written", "write_audio", "collect_audio", "peak_dbfs",
    "BusLevel", "Meter", "Telemetry", "TimecodeStatus",
]
