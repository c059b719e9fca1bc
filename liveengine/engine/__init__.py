"""The real-time core. Other packages use only what this module exports."""

from . import events
from .core import CueEvent, Engine, LateEvent, NotificationPump, Producer, RingFullError, TimecodeEvent
from .state import CUE_TEMPLATE_ROWS, MAX_CUES, MAX_PARTS, BusLayout, EngineSettings, TimecodeInput, TimecodeOutput
from .devices import AudioDeviceError, choose_device, describe_devices, realtime_threads
from .stemloader import StemError, StemFile, StemLoader, wait_for_a_block
from .stream import LiveStream, OfflineRenderer, audio_callback
from .telemetry import Meter, Telemetry, TimecodeStatus

__all__ = ["events", "StemError", "StemFile", "StemLoader", "wait_for_a_block", "CUE_TEMPLATE_ROWS", "MAX_CUES", "MAX_PARTS", "CueEvent", "Engine", "EngineSettings", "BusLayout", "TimecodeInput", "TimecodeOutput", "TimecodeEvent", "TimecodeStatus", "Producer", "RingFullError", "LateEvent", "NotificationPump",
           "LiveStream", "OfflineRenderer", "AudioDeviceError", "audio_callback", "choose_device",
           "describe_devices", "realtime_threads", "Meter", "Telemetry"]
