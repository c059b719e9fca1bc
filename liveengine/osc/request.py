"""`liveengine osc HOST:PORT ADDRESS [ARGS...]`: one message to a running engine, and its reply.

liblo's oscsend sends from a port it closes at once, so the engine's reply (to the port the
message came from) reaches no one. This sends from a socket it keeps, waits for the reply and
prints its JSON. Queries and /subscribe go as they are: the engine always answers them. Any
other address goes as /seq/{n}{ADDRESS}: the engine answers that always too (without /replies 1,
which would switch replies on for every client on this machine) and carries it out once however
often it comes, so over UDP the message is sent again until the reply arrives or time is up.

Arguments are typed as oscsend types them, by a first argument of type tags with a value for
each i, h, f, d and s among them (`ff -6 2`; T, F and N take none), or else each by its look:
an integer is i, another number f, anything else a string.
"""

import json
import re
import secrets
import select
import socket
import sys
import time

from pythonosc import osc_packet, slip
from pythonosc.osc_message_builder import BuildError, OscMessageBuilder

from .monitor import resolve_target
from .routes import ADDRESS_SPACE
from .server import take_slip_packets

RESEND_SECONDS = 0.25  # over UDP, a request not answered by then is sent again
DATAGRAM_MAX = 65536

_VALUES = {"i": int, "h": int, "f": float, "d": float, "s": str}
_CONSTANTS = {"T": True, "F": False, "N": None}
_INTEGER = re.compile(r"[-+]?[0-9]+")
_NUMBER = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
_INT32 = range(-2**31, 2**31)


def typed_arguments(words: list[str]) -> list[tuple[str, object]]:
    """(OSC type tag, value) for each argument typed on the command line; ValueError says which
    argument does not fit its tag."""
    if words and _are_type_tags(words[0], len(words) - 1):
        tags, values = words[0], iter(enumerate(words[1:], 1))
        typed = []
        for tag in tags:
            if tag in _CONSTANTS:
                typed.append((tag, _CONSTANTS[tag]))
                continue
            position, word = next(values)
            try:
                typed.append((tag, _VALUES[tag](word)))
            except ValueError:
                kind = {"i": "an integer", "h": "an integer", "f": "a number", "d": "a number"}[tag]
                raise ValueError(f"argument {position} ({word!r}) is not {kind}, as its type {tag!r} says") from None
        return typed
    return [_typed_by_look(word) for word in words]


def _are_type_tags(word: str, values_after: int) -> bool:
    return bool(word) and all(tag in _VALUES or tag in _CONSTANTS for tag in word) \
        and sum(tag in _VALUES for tag in word) == values_after


def _typed_by_look(word: str) -> tuple[str, object]:
    if _INTEGER.fullmatch(word):
        return ("i" if int(word) in _INT32 else "h"), int(word)
    if _NUMBER.fullmatch(word):
        return "f", float(word)
    return "s", word


def request_packet(address: str, arguments: list[tuple[str, object]]) -> tuple[bytes, str]:
    """The datagram to send for `address`, and the address of the reply it asks for."""
    if address not in ADDRESS_SPACE.always_answered and not address.startswith("/seq/"):
        address = f"/seq/{secrets.randbelow(10**18)}{address}"
    builder = OscMessageBuilder(address)
    for tag, value in arguments:
        builder.add_arg(value, tag)
    try:
        return builder.build().dgram, f"/reply{address}"
    except BuildError as error:  # e.g. an integer beyond 64 bits
        raise ValueError(str(error)) from None


def _reply_in(packet: bytes, reply_address: str) -> str | None:
    """The reply's JSON text, if `packet` carries it (a feed bundle or anything else does not)."""
    try:
        messages = osc_packet.OscPacket(packet).messages
    except Exception:  # noqa: BLE001 - python-osc raises more than ParseError; whatever it is, it is not the reply
        return None
    for timed in messages:
        if timed.message.address == reply_address:
            params = list(timed.message.params)
            return params[0] if len(params) == 1 and isinstance(params[0], str) else json.dumps(params)
    return None


def request_udp(target: tuple, family: int, packet: bytes, reply_address: str, timeout: float) -> str | None:
    """The reply's JSON text, or None if none came in time; the packet is sent again every RESEND_SECONDS."""
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", 0))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            sock.sendto(packet, target)
            resend_at = min(deadline, time.monotonic() + RESEND_SECONDS)
            while (wait := resend_at - time.monotonic()) > 0:
                if not select.select([sock], [], [], wait)[0]:
                    continue
                try:
                    datagram, _ = sock.recvfrom(DATAGRAM_MAX)
                except OSError:  # e.g. an ICMP error for an earlier datagram: keep listening
                    continue
                reply = _reply_in(datagram, reply_address)
                if reply is not None:
                    return reply
    return None


def request_tcp(target: tuple, packet: bytes, reply_address: str, timeout: float) -> str | None:
    """The reply's JSON text, or None if none came in time or the engine closed the connection."""
    deadline = time.monotonic() + timeout
    with socket.create_connection(target[:2], timeout=timeout) as sock:
        sock.sendall(slip.encode(packet))
        pending = bytearray()
        while (wait := deadline - time.monotonic()) > 0:
            sock.settimeout(wait)
            try:
                data = sock.recv(DATAGRAM_MAX)
            except TimeoutError:
                return None
            if not data:
                return None
            pending += data
            for packet in take_slip_packets(pending):
                reply = _reply_in(packet, reply_address) if packet is not None else None
                if reply is not None:
                    return reply
    return None


def run_request(host: str, port: int, address: str, words: list[str], timeout: float, tcp: bool = False,
                out=sys.stdout) -> int:
    """Send one message and print the reply's JSON: 0 when it says "ok"; 1 when it says what was
    wrong, or (with a message on standard error) when none came within `timeout` seconds."""
    where = f"{host}:{port}"
    if not address.startswith("/"):
        print(f"liveengine osc: an OSC address starts with '/', got {address!r}", file=sys.stderr)
        return 1
    try:
        packet, reply_address = request_packet(address, typed_arguments(words))
    except ValueError as error:
        print(f"liveengine osc: {error}", file=sys.stderr)
        return 1
    try:
        family, target = resolve_target(host, port)
        if tcp:
            reply = request_tcp(target, packet, reply_address, timeout)
        else:
            reply = request_udp(target, family, packet, reply_address, timeout)
    except socket.gaierror as error:
        print(f"liveengine osc: cannot resolve {where}: {error.strerror or error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"liveengine osc: cannot reach {where} over {'TCP' if tcp else 'UDP'}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    if reply is None:
        print(f"liveengine osc: no reply from {where} within {timeout:g} s: is the engine running with OSC on "
              "that port, and this machine on its [osc] allow list?", file=sys.stderr)
        return 1
    print(reply, file=out, flush=True)
    try:
        status = json.loads(reply).get("status")
    except (ValueError, AttributeError):
        status = None
    return 0 if status == "ok" else 1
