"""Live patch editing: a synth patch file saved during the show is reloaded into its instrument.

The watcher looks at the patch files' modification times twice a second. A file that
changed is read and checked; a good patch is swapped in by the audio thread between two
segments (sounding notes play on and glide to the new values: no click), and a patch
with a mistake is reported and the instrument keeps the patch it has.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from ..background import BackgroundLoop
from ..engine import HandoverError, Producer
from ..instruments.synth import PatchError, load_patch
from .rig import Rig

POLL_SECONDS = 0.5


class PatchWatcher(BackgroundLoop):
    def __init__(self, rig: Rig, producer: Producer, report: Callable[[str], None]):
        super().__init__("liveengine-patches")
        self.rig = rig
        self.producer = producer
        self.report = report
        self.reloads = 0
        self._watched: dict[str, tuple[Path, float | None]] = {}
        for name, instrument in rig.show.instruments.items():
            if instrument.type == "synth" and name not in rig.instrument_problems:
                self._watched[name] = (instrument.file, _modified(instrument.file))

    def step(self):
        for name, (path, seen) in self._watched.items():
            modified = _modified(path)
            if modified is None or modified == seen:
                continue
            if self.reload(name, path):
                self._watched[name] = (path, modified)
        time.sleep(POLL_SECONDS)

    def reload(self, name: str, path: Path) -> bool:
        """Reload `name`'s patch from `path`; False while its previous reload is still being swapped
        in (the next step tries again)."""
        try:
            patch = load_patch(path)
        except PatchError as error:
            self.report(f"instrument {name}: {path} was not reloaded, it keeps its patch:\n  " +
                        "\n  ".join(error.problems))
            return True
        try:
            self.rig.engine.reload_synth(self.rig.instrument_numbers[name], patch, self.producer,
                                         tempo_bpm=self.rig.show.tempo_bpm)
        except HandoverError:
            return False
        self.reloads += 1
        self.report(f"instrument {name}: reloaded {path}")
        return True


def _modified(path: Path) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None  # being saved (some editors replace the file): looked at again next time
