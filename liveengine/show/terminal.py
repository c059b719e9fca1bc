"""The operator's terminal during a live show: one status line at the bottom, messages above it.

Every message from every thread (cue decisions, keyboards, patch reloads, warnings logged by
any part of liveengine) goes through one `Terminal`: it ends the status line (carriage return,
erase to the end of the line), prints the message whole, then redraws the status. Nothing is
written over the status line or appended to it. On a pipe or a file there is no line to keep:
messages are plain lines and the status is a line of its own every few seconds.

A status line wider than the terminal would wrap, and erasing would clear only its last row:
it is cut to the terminal's width (read at each redraw, so a resized window is followed).
"""

import logging
import shutil
import sys
import threading

ERASE_LINE = "\r\x1b[K"


class Terminal:
    def __init__(self, out=None, errors=None, interactive: bool | None = None, width=None):
        """`width()`: the terminal's columns (default: as the terminal says)."""
        self.out = out if out is not None else sys.stdout
        self.errors = errors if errors is not None else sys.stderr
        self.interactive = self.out.isatty() if interactive is None else interactive
        self.width = width if width is not None else lambda: shutil.get_terminal_size().columns
        self._lock = threading.Lock()
        self._status = ""  # what the status line shows now ("" while none is drawn)

    def message(self, text: str, error: bool = False):
        """Print `text` above the status line; to standard error when `error`."""
        with self._lock:
            self._erase_status()
            stream = self.errors if error else self.out
            stream.write(text + "\n")
            stream.flush()
            self._draw_status()

    def status(self, text: str):
        """Show `text` as the status line (on a pipe: print it as a line)."""
        with self._lock:
            if self.interactive:
                self._status = text[:max(1, self.width() - 1)]  # the cursor stays on its row
                self.out.write(ERASE_LINE + self._status)
            else:
                self.out.write(text + "\n")
            self.out.flush()

    def close(self):
        """End the status line: what follows starts on a line of its own, below the last status."""
        with self._lock:
            if self.interactive and self._status:
                self.out.write("\n")
                self.out.flush()
            self._status = ""

    def _erase_status(self):
        if self.interactive and self._status:
            self.out.write(ERASE_LINE)
            self.out.flush()

    def _draw_status(self):
        if self.interactive and self._status:
            self.out.write(self._status)
            self.out.flush()

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
