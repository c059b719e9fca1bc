"""The conductor's operations typed at the terminal (or piped in): one command a line.

    go              fire the cue standing by
    standby 1M3     stand by on cue 1M3 (the next GO fires it)
    back            stand by on the GO cue before the one standing by
    jump 1M3        stop everything and stand by on 1M3 (as timecode master, locate just before it)
    fire 1M3 [BAR]  fire 1M3 now, from bar BAR of its music (a rehearsal pickup)
    stop [SECONDS]  stop all, fading over SECONDS (default 3)
    panic           every note off at once
    quit            end the show: every note off, then the engine stops
"""

import logging
import re
import sys
import threading

COMMANDS = "go | standby CUE | back | jump CUE | fire CUE [BAR] | stop [SECONDS] | panic | quit"
QUIT = "quit"
_BAR = re.compile(r"[0-9]+")

log = logging.getLogger("liveengine.console")


def carry_out(line: str, runner) -> str | None:
    """Hand one typed command to the cue runner; returns a complaint when it is not one."""
    words = line.split()
    if not words:
        return None
    name, arguments = words[0].lower(), words[1:]
    if name == "go" and not arguments:
        runner.go()
    elif name == "back" and not arguments:
        runner.back()
    elif name == "panic" and not arguments:
        runner.panic()
    elif name in ("standby", "jump") and len(arguments) == 1:
        getattr(runner, name)(arguments[0])
    elif name == "fire" and len(arguments) in (1, 2):
        # Plain ASCII digits: isdigit() also takes "²" and "١", which int() refuses or reads otherwise.
        if len(arguments) == 2 and not _BAR.fullmatch(arguments[1]):
            return f"fire: expected a bar number from 1 (digits 0-9), got {arguments[1]!r}"
        runner.fire(arguments[0], int(arguments[1]) if len(arguments) == 2 else None)
    elif name == "stop" and len(arguments) <= 1:
        try:
            fade = float(arguments[0]) if arguments else 3.0
        except ValueError:
            return f"stop: expected a fade in seconds, got {arguments[0]!r}"
        if not 0 <= fade <= 600:
            return f"stop: the fade must be 0 to 600 seconds, got {fade:g}"
        runner.stop_all(fade)
    else:
        return f"not a command: {line.strip()!r}; commands: {COMMANDS}"
    return None


def read_commands(runner, stream=None, report=None, on_quit=None) -> threading.Thread:
    """A daemon thread that reads commands from `stream` (standard input) until it ends, or until
    `quit`, which calls `on_quit()`. Complaints go to `report(text)` (standard error by default)."""
    source = stream if stream is not None else sys.stdin
    if hasattr(source, "reconfigure"):
        source.reconfigure(errors="replace")  # bytes that are not text become "\ufffd", not the end of reading

    def complain(text):
        print(text, file=sys.stderr, flush=True)

    report = report if report is not None else complain

    def read():
        for line in source:
            if line.lower().split() == [QUIT] and on_quit is not None:
                on_quit()
                return
            try:
                complaint = carry_out(line, runner)
            except Exception as error:  # a line no check foresaw must not end the conductor's commands
                log.debug("typed command %r failed", line, exc_info=True)
                complaint = f"cannot carry out {line.strip()!r}: {error}"
            if complaint:
                report(complaint)

    thread = threading.Thread(target=read, name="liveengine-console", daemon=True)
    thread.start()
    return thread
