"""The sample position and the timecode are read as a pair of one block (engine/telemetry.py): a reader that
finds the audio thread part-way through publishing them (its count of publications odd) waits for the whole
of it, and never pairs the new timecode with the old position."""

import threading
import time

from liveengine.engine.telemetry import PAIR_WAIT_SECONDS, position_and_timecode
from liveengine.kernel.state import (
    T_POSITION,
    T_PUBLISHING,
    T_TIMECODE_POSITION,
    EngineSettings,
    EngineState,
)


def test_a_pair_read_while_the_audio_thread_is_held_up_mid_publication_waits_for_the_whole_pair():
    state = EngineState(EngineSettings())
    state.telemetry[T_POSITION] = 4096
    state.telemetry_float[T_TIMECODE_POSITION] = 100.0
    state.telemetry[T_PUBLISHING] = 2
    assert position_and_timecode(state)[0] == 4096 and position_and_timecode(state)[1].position == 100.0

    # The audio thread opened the next publication and wrote its timecode, then was held up.
    state.telemetry[T_PUBLISHING] = 3
    state.telemetry_float[T_TIMECODE_POSITION] = 100.5

    def finish():
        time.sleep(PAIR_WAIT_SECONDS / 5)
        state.telemetry[T_POSITION] = 4160
        state.telemetry[T_PUBLISHING] = 4

    audio_thread = threading.Thread(target=finish)
    audio_thread.start()
    position, timecode = position_and_timecode(state)
    audio_thread.join()
    assert (position, timecode.position) == (4160, 100.5)
