"""Live output through PortAudio with a compiled callback.

The live callback is the kernel's `audio_callback` entry point (kernel/entries.py), a compiled
function with PortAudio's PaStreamCallback signature, opened through sounddevice's own PortAudio
handle. The offline renderer (engine/offline.py) calls the same function, so both produce the
same samples.
"""

import threading
import time
from typing import Callable

from .devices import AudioDeviceError, DeviceChoice
from .memorylock import MemoryLock, hold_memory_lock, release_memory_lock
from ..engine.entries import kernel_entries
from ..kernel.state import C_COUNT_MISSED_CYCLES, K_LAST_CALLBACK_NS

PA_FLOAT32 = 0x00000001
PA_CLIP_OFF = 0x00000001  # the kernel limits and clamps itself
PA_DITHER_OFF = 0x00000002
PA_FRAMES_PER_BUFFER_UNSPECIFIED = 0
JACK_HOST_API = "JACK Audio Connection Kit"


class LiveStream:
    """A PortAudio stream running the compiled callback over an engine's state."""

    CLOSE_TIMEOUT_SECONDS = 5.0  # a healthy stream stops within a few periods

    def __init__(self, state, device: DeviceChoice, block_size: int):
        import sounddevice  # PortAudio, as sounddevice loaded and initialised it
        self._ffi, self._lib = sounddevice._ffi, sounddevice._lib
        self.state = state
        self.device = device
        self.block_size = block_size
        self._stream = None
        self._started = False
        self._keepalive = []
        self.memory_lock: MemoryLock | None = None  # while open

    def _check(self, error_code: int, doing: str):
        if error_code < 0:
            raise AudioDeviceError(f"{doing}: {self._ffi.string(self._lib.Pa_GetErrorText(error_code)).decode()}")

    def _parameters(self, device: int, channels: int, latency: float):
        return self._ffi.new("PaStreamParameters*", {
            "device": device, "channelCount": channels, "sampleFormat": PA_FLOAT32,
            "suggestedLatency": latency, "hostApiSpecificStreamInfo": self._ffi.NULL})

    def open(self):
        ffi, lib = self._ffi, self._lib
        settings = self.state.settings
        output = self._parameters(self.device.index, settings.output_channels,
                                  lib.Pa_GetDeviceInfo(self.device.index).defaultLowOutputLatency)
        input_ = ffi.NULL
        if self.device.input_index is not None:
            input_ = self._parameters(self.device.input_index, settings.input_channels,
                                      lib.Pa_GetDeviceInfo(self.device.input_index).defaultLowInputLatency)
        callback = ffi.cast("PaStreamCallback*", kernel_entries().audio_callback_address())
        user_data = ffi.cast("void*", self.state.table_address)
        stream = ffi.new("PaStream**")
        self._keepalive = [output, input_, callback, user_data, stream]
        # JACK fixes the block size itself; asking PortAudio for one makes it buffer a
        # block more on duplex streams. The kernel renders any callback size in chunks.
        frames_per_buffer = PA_FRAMES_PER_BUFFER_UNSPECIFIED if self.device.host_api == JACK_HOST_API \
            else self.block_size
        self._check(lib.Pa_OpenStream(stream, input_, output, float(settings.sample_rate), frames_per_buffer,
                                      PA_CLIP_OFF | PA_DITHER_OFF, callback, user_data),
                    f"cannot open {self.device.name!r} at {settings.sample_rate} Hz, block {self.block_size}")
        self._stream = stream[0]
        self.memory_lock = hold_memory_lock()
        self.state.config[C_COUNT_MISSED_CYCLES] = 1
        self.state.run_plugin_workers_live(True)

    def start(self):
        if self._stream is None:
            self.open()
        # The audio thread is not running: a pause between stop() and start() is no missed cycle.
        self.state.kernel[K_LAST_CALLBACK_NS] = 0
        self._check(self._lib.Pa_StartStream(self._stream), "cannot start the audio stream")
        self._started = True

    def stop(self):
        if self._stream is not None:
            self._started = False
            self._check(self._lib.Pa_StopStream(self._stream), "cannot stop the audio stream")

    @property
    def lost(self) -> bool:
        """Started, and no longer run by PortAudio: its JACK server shut down under it."""
        return self._started and self._stream is not None and self._lib.Pa_IsStreamActive(self._stream) != 1

    def abandon(self):
        """Forget a lost stream without asking PortAudio anything more: stopping or closing it would wait on
        the dead server. PortAudio itself is abandoned too, and sounddevice given a fresh one."""
        from .jackserver import abandon_portaudio
        self._stream, self._started = None, False
        self._ended()
        abandon_portaudio()

    def close(self):
        """Stop and close the stream; a stream whose server died, even as it closes, is abandoned."""
        if self._stream is None:
            return
        if self.lost:
            self.abandon()
            return
        stream = self._stream
        closing = threading.Thread(target=lambda: (self._lib.Pa_AbortStream(stream), self._lib.Pa_CloseStream(stream)),
                                   name="liveengine-stream-close", daemon=True)
        closing.start()
        closing.join(self.CLOSE_TIMEOUT_SECONDS)
        if closing.is_alive():
            self.abandon()
            return
        self._stream, self._started = None, False
        self._ended()

    def _ended(self):
        self.state.config[C_COUNT_MISSED_CYCLES] = 0
        self.state.run_plugin_workers_live(False)
        if self.memory_lock is not None:
            self.memory_lock = None
            release_memory_lock()

    def stream_time(self) -> float:
        """The host's clock for this stream, in seconds (for JACK: its frame counter)."""
        return self._lib.Pa_GetStreamTime(self._stream)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()


class KeptStream:
    """A show's live stream, kept across the loss of its JACK server.

    When the server shuts down under the stream, the stream is abandoned (PortAudio can no longer
    stop it) and reopened on the same engine state as soon as the server accepts clients again,
    checked once a second; a private server of the show's own (``run --jack-dummy``) is restarted.
    The engine's sample clock goes on from where it stopped, so the master timecode, the cues and
    the parts keep their places. `check()` does all this from the run loop; `report(text, error)`
    tells the operator.
    """

    RETRY_SECONDS = 1.0

    def __init__(self, state, choose_device: Callable[[], DeviceChoice], block_size: int, report,
                 private_server=None):
        self.state = state
        self.choose_device = choose_device
        self.block_size = block_size
        self.report = report
        self.private_server = private_server
        self.stream: LiveStream | None = None
        self.losses = 0
        self._next_try = 0.0
        self._waiting_since = 0.0
        self._last_problem = None

    @property
    def device(self) -> DeviceChoice:
        return self.stream.device

    @property
    def lost(self) -> bool:
        return self.stream is None

    def start(self):
        self.stream = LiveStream(self.state, self.choose_device(), self.block_size)
        self.stream.start()

    def check(self):
        if self.stream is not None:
            if not self.stream.lost:
                return
            self.stream.abandon()
            self.stream = None
            self.losses += 1
            self._waiting_since = time.monotonic()
            self._last_problem = None
            if self.private_server is None:
                from .jackserver import default_server_name
                self.report(f"ERROR: the JACK server {default_server_name()!r} shut down: no sound until it "
                            "returns. The show keeps its place; the engine reconnects when the server is back.",
                            error=True)
            else:
                self.report(f"ERROR: the private JACK server {self.private_server.name!r} died: no sound; "
                            "restarting it.", error=True)
        if time.monotonic() >= self._next_try:
            self._next_try = time.monotonic() + self.RETRY_SECONDS
            self._reconnect()

    def _reconnect(self):
        from .jackserver import JackServerError, default_server_name, reinitialize_portaudio, server_accepts_clients
        try:
            if self.private_server is not None:
                self.private_server.start()  # a dead server is cleaned up, then started again
            elif server_accepts_clients(default_server_name(), timeout=self.RETRY_SECONDS):
                reinitialize_portaudio()  # PortAudio sees only a server that ran when it initialised
            else:
                return
            self.start()
        except (AudioDeviceError, JackServerError) as error:
            if self.stream is not None:
                self.stream.close()
                self.stream = None
            problem = str(error).split("\n")[0]
            if problem != self._last_problem:  # said once, not every second
                self._last_problem = problem
                self.report(f"cannot reconnect the audio yet: {problem}; trying again every second", error=True)
            return
        self.report(f"audio reconnected after {time.monotonic() - self._waiting_since:.1f} s: "
                    f"[{self.device.index}] {self.device.name} ({self.device.host_api})", error=True)

    def close(self):
        if self.stream is not None:
            self.stream.close()
