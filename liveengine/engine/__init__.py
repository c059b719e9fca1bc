"""The kernel's Python face: the engine, its producers, the handover, typed notifications, the stream,
telemetry. Other packages use only what this module exports (the kernel itself is `liveengine.kernel`)."""

from ..kernel import events
from .core import Engine, NotificationPump, Producer, RingFullError
from .handover import Handover, HandoverError
from .notifications import (Acknowledged, ChaseChange, CueEvent, CueOutcome, HandedOver, HandoverOutcome, LateEvent,
                            Notification, NoteRefused, PartsStopped, PartStarted, Refusal, Resource, SampleNotReady,
                            SampleWanted, StopReason, Subscription, TimecodeEvent)
from ..kernel.state import (CUE_TEMPLATE_ROWS, MAX_CUES, MAX_PARTS, PICKUP_SLOTS, BusLayout, EngineSettings,
                            TimecodeInput, TimecodeMaster)
from .devices import AudioDeviceError, choose_device, describe_devices, realtime_threads
from .stemloader import StemError, StemFile, StemLoader, wait_for_a_block
from .stream import KeptStream, LiveStream, OfflineRenderer, audio_callback
from .telemetry import BusLevel, Meter, Telemetry, TimecodeStatus

__all__ = [
    "events", "CUE_TEMPLATE_ROWS", "MAX_CUES", "MAX_PARTS", "PICKUP_SLOTS",
    "Engine", "EngineSettings", "BusLayout", "TimecodeInput", "TimecodeMaster", "Producer", "RingFullError",
    "NotificationPump", "Handover", "HandoverError", "Resource",
    "Notification", "Subscription", "Acknowledged", "ChaseChange", "CueEvent", "CueOutcome", "HandedOver",
    "HandoverOutcome", "LateEvent", "NoteRefused", "PartsStopped", "PartStarted", "Refusal", "SampleNotReady",
    "SampleWanted", "StopReason", "TimecodeEvent",
    "KeptStream", "LiveStream", "OfflineRenderer", "audio_callback", "AudioDeviceError", "choose_device",
    "describe_devices",
    "realtime_threads",
    "StemError", "StemFile", "StemLoader", "wait_for_a_block",
    "BusLevel", "Meter", "Telemetry", "TimecodeStatus",
]
