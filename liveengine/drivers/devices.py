"""Audio devices: which one a show plays on, what exists, and whether the audio thread runs real-time.

sounddevice is imported only where a device is needed: importing it initialises
PortAudio, which offline rendering never needs (and a private JACK server re-initialises).
"""

import os
from dataclasses import dataclass


class AudioDeviceError(RuntimeError):
    """The audio device cannot be opened as asked; the message says what exists instead."""


@dataclass(frozen=True)
class DeviceChoice:
    index: int
    name: str
    host_api: str
    input_index: int | None


def describe_devices() -> str:
    import sounddevice
    devices = sounddevice.query_devices()
    if len(devices) == 0:
        return "  (none)"
    apis = sounddevice.query_hostapis()
    return "\n".join(
        f"  [{d['index']}] {d['name']} ({apis[d['hostapi']]['name']}, "
        f"{d['max_output_channels']} out, {d['max_input_channels']} in)" for d in devices)


def choose_device(device: str | int | None, output_channels: int, input_channels: int) -> DeviceChoice:
    """The output device (and input device, if inputs are wanted) for a show, or a clear error."""
    import sounddevice
    hint = ("\nDevices found:\n" + describe_devices() +
            "\nOn a machine without a sound card, add --jack-dummy to run on a private JACK server.")
    try:
        output = sounddevice.query_devices(device, "output")
    except (ValueError, sounddevice.PortAudioError) as error:
        wanted = "the default output device" if device is None else f"output device {device!r}"
        raise AudioDeviceError(f"cannot use {wanted}: {error}{hint}") from None
    if output["max_output_channels"] < output_channels:
        raise AudioDeviceError(f"device {output['name']!r} has {output['max_output_channels']} outputs, "
                               f"the show needs {output_channels}{hint}")
    input_index = None
    if input_channels:
        # Prefer inputs on the same device (one clock); else the default input device.
        if output["max_input_channels"] >= input_channels:
            input_index = output["index"]
        else:
            try:
                candidate = sounddevice.query_devices(None, "input")
            except (ValueError, sounddevice.PortAudioError):
                candidate = None
            if candidate is None or candidate["max_input_channels"] < input_channels:
                raise AudioDeviceError(f"no input device with {input_channels} channels{hint}")
            input_index = candidate["index"]
    api = sounddevice.query_hostapis(output["hostapi"])["name"]
    return DeviceChoice(output["index"], output["name"], api, input_index)


def realtime_threads() -> list[tuple[int, str, int]]:
    """(thread id, policy, priority) for every thread of this process that runs SCHED_FIFO or SCHED_RR."""
    found = []
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: state is field 3, so rt_priority (40) and policy (41) are at 37 and 38.
        priority, policy = int(fields[37]), int(fields[38])
        if policy in (os.SCHED_FIFO, os.SCHED_RR):
            found.append((int(tid), "SCHED_FIFO" if policy == os.SCHED_FIFO else "SCHED_RR", priority))
    return found
