"""A control-plane thread that repeats one step until it is stopped."""

import threading


class BackgroundLoop:
    """Runs `step()` over and over in a daemon thread, between __enter__ and __exit__;
    `finish()` runs once after the last step."""

    def __init__(self, name: str):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def step(self):
        raise NotImplementedError

    def finish(self):
        pass

    def _run(self):
        while not self._stop.is_set():
            self.step()
        self.finish()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
