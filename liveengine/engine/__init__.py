"""The real-time core. Other packages use only what this module exports."""

from .core import Engine, LateEvent, NotificationPump, Producer, RingFullError
from .state import BusLayout, EngineSettings
from .stream import AudioDeviceError, LiveStream, OfflineRenderer, audio_callback, choose_device, realtime_threads
from .telemetry import Meter, Telemetry

__all__ = ["Engine", "EngineSettings", "BusLayout", "Producer", "RingFullError", "LateEvent", "NotificationPump",
           "LiveStream", "OfflineRenderer", "AudioDeviceError", "audio_callback", "choose_device",
           "realtime_threads", "Meter", "Telemetry"]
