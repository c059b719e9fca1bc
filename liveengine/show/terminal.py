"""The operator's terminal during a live show: one status line at the bottom, messages above it.

Every message from every thread (cue decisions, keyboards, patch reloads, warnings logged by
any part of liveengine) goes through one `Terminal`: it ends the status line (carriage return,
erase to the end of the line), prints the message whole, then redraws the status. Nothing is
written over the status line or appended to it. On a pipe or a file there is no line to keep:
messages are plain lines and the status is a line of its own every few seconds.

A status line wider than the terminal would wrap, and erasing would clear only its last row:
it is cut to the terminal's width (read at each redraw, so a resized window is followed).

A show's terminal writes from a thread of its own (`background`): a terminal that stops taking
output (a frozen ssh session, a pipe nobody reads, a paused terminal) must not stop the thread that
printed, be it the run loop that feeds the cues or the OSC server logging a warning. What it prints
meanwhile waits, up to WAITING_LIMIT messages; beyond, messages are dropped and counted, and the
terminal is told how many once it takes output again.
"""

import collections
import logging
import shutil
import sys
import threading

ERASE_LINE = "\r\x1b[K"


WAITING_LIMIT = 1000  # messages held for a terminal that does not take them; more are dropped
CLOSE_SECONDS = 5.0  # at the show's end, how long what waits may take to reach the terminal


class Terminal:
    def __init__(self, out=None, errors=None, interactive: bool | None = None, width=None,
                 background: bool = False):
        """`width()`: the terminal's columns (default: as the terminal says). `background`: write from a
        thread of its own, so that no caller waits for the terminal."""
        self.out = out if out is not None else sys.stdout
        self.errors = errors if errors is not None else sys.stderr
        self.interactive = self.out.isatty() if interactive is None else interactive
        self.width = width if width is not None else lambda: shutil.get_terminal_size().columns
        self._lock = threading.Lock()
        self._status = ""  # what the status line shows now ("" while none is drawn)
        self._writer = _BackgroundWriter(self.errors) if background else None

    def message(self, text: str, error: bool = False):
        """Print `text` above the status line; to standard error when `error`."""
        with self._lock:
            self._write([*self._erase_status(), (self.errors if error else self.out, text + "\n"),
                         *self._draw_status()])

    def status(self, text: str):
        """Show `text` as the status line (on a pipe: print it as a line)."""
        with self._lock:
            if self.interactive:
                self._status = text[:max(1, self.width() - 1)]  # the cursor stays on its row
                self._write([(self.out, ERASE_LINE + self._status)])
            else:
                self._write([(self.out, text + "\n")])

    def close(self):
        """End the status line: what follows starts on a line of its own, below the last status. What
        waits for the terminal is given CLOSE_SECONDS to reach it."""
        with self._lock:
            if self.interactive and self._status:
                self._write([(self.out, "\n")])
            self._status = ""
        if self._writer is not None:
            self._writer.close(CLOSE_SECONDS)

    def _write(self, pieces):
        if self._writer is not None:
            self._writer.put(pieces)
        else:
            _write_pieces(pieces)

    def _erase_status(self):
        return [(self.out, ERASE_LINE)] if self.interactive and self._status else []

    def _draw_status(self):
        return [(self.out, self._status)] if self.interactive and self._status else []

    def log_handler(self, when=None) -> logging.Handler:
        """A logging handler printing warnings through this terminal, each prefixed by `when()`
        (the show's timecode) when given."""
        return _TerminalHandler(self, when)


class _TerminalHandler(logging.Handler):
    def __init__(self, terminal: Terminal, when):
        super().__init__(logging.WARNING)
        self.terminal = terminal
        self.when = when

    def emit(self, record: logging.LogRecord):
        try:
            text = record.getMessage()
            prefix = f"{self.when()} " if self.when is not None else ""
            label = "ERROR" if record.levelno >= logging.ERROR else "WARNING"
            self.terminal.message(f"{prefix}{label}: {text}", error=True)
        except Exception:  # a broken message must not stop the show; logging reports it
            self.handleError(record)


def _write_pieces(pieces):
    """Write each (stream, text) of one message, in order, then flush what was written to."""
    for stream, text in pieces:
        stream.write(text)
    for stream in {id(stream): stream for stream, _ in pieces}.values():
        stream.flush()


class _BackgroundWriter:
    """A thread that writes a terminal's messages (each a list of (stream, text)) in order."""

    def __init__(self, notice_stream):
        self._notice_stream = notice_stream
        self._waiting = collections.deque()
        self._dropped = 0
        self._closing = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="liveengine-terminal", daemon=True)
        self._thread.start()

    def put(self, pieces):
        with self._changed:
            if len(self._waiting) >= WAITING_LIMIT:
                self._dropped += 1
                return
            self._waiting.append(pieces)
            self._changed.notify()

    def close(self, timeout: float):
        with self._changed:
            self._closing = True
            self._changed.notify()
        self._thread.join(timeout)

    def _run(self):
        while True:
            with self._changed:
                while not self._waiting and not self._closing:
                    self._changed.wait()
                if not self._waiting:
                    return
                pieces = self._waiting.popleft()
                dropped = 0
                if not self._waiting:  # caught up: say what could not wait
                    dropped, self._dropped = self._dropped, 0
            if dropped:
                pieces = [*pieces, (self._notice_stream, f"({dropped} messages not shown: the terminal did not "
                                                         "take them in time)\n")]
            try:
                _write_pieces(pieces)
            except (OSError, ValueError):  # the terminal is gone (closed, hung up): nothing more to show
                return
