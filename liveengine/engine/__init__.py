"""The real-time core. Other packages use only what this module exports."""

from . import events
from .core import CueEvent, Engine, LateEvent, NotificationPump, Producer, RingFullError, TimecodeEvent
from .state import BusLayout, EngineSettings, TimecodeInput, TimecodeOutput
from .devices import AudioDeviceError, choose_device, describe_devices, realtime_threads
from .stream import LiveStream, OfflineRenderer, audio_callback
from .telemetry import Meter, Telemetry, TimecodeStatus

__all__ = ["events", "CueEvent", "Engine", "EngineSettings", "BusLayout", "TimecodeInput", "TimecodeOutput", "TimecodeEvent", "TimecodeStatus", "Producer", "RingFullError", "LateEvent", "NotificationPump",
           "LiveStream", "OfflineRenderer", "AudioDeviceError", "audio_callback", "choose_device",
           "describe_devices", "realtime_threads", "Meter", "Telemetry"]
