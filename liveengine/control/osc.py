"""OSC over UDP and TCP (OSC 1.1: SLIP-framed packets on TCP): who may talk, how much, and how
replies go back.

One network thread reads every socket (select), turns datagrams and SLIP frames into
messages with python-osc's parser, and hands them to one worker thread through a bounded
queue; the worker carries them out (the address space is `surface.py`). So nothing a client
sends runs in the network thread, a slow command never stops the reading, and a flood fills
the queue, not the memory. A client is its IP address: a client not on the allow-list is
refused (logged once), and each client has a token bucket, so one flooding client cannot
starve the others.
"""

import dataclasses
import ipaddress
import logging
import queue
import select
import socket
import threading
import time

from pythonosc import osc_message_builder, osc_packet, slip
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder

log = logging.getLogger("liveengine.osc")


class _QuietOscParser(logging.Filter):
    """python-osc logs every unknown type tag on the root logger; a flood of garbage must not
    flood the operator's terminal. Malformed input is counted by the server instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "pythonosc" not in record.pathname


logging.getLogger().addFilter(_QuietOscParser())

DEFAULT_PORT = 53100
MAX_BUNDLE_MESSAGES = 64  # a bigger bundle is refused whole
MAX_TCP_FRAME = 65536  # bytes of one SLIP frame; a client sending more is disconnected
QUEUE_CAPACITY = 4096  # messages waiting for the worker; beyond, they are dropped and counted
UDP_RECEIVE_BUFFER = 4 << 20  # bytes: a burst from a console waits here while the reader catches up
SEND_TIMEOUT_SECONDS = 0.05  # a TCP client that does not read its replies is dropped, not waited for


@dataclasses.dataclass
class OscCounters:
    received: int = 0
    malformed: int = 0
    oversized: int = 0
    rate_limited: int = 0
    refused: int = 0
    queue_overflow: int = 0


class OscClient:
    """Where a message came from, and the way back to it."""

    def __init__(self, server: "OscServer", host: str, port: int, connection: socket.socket | None = None):
        self.server = server
        self.host = host
        self.port = port
        self.connection = connection  # TCP; None for UDP
        self._send_lock = threading.Lock()

    @property
    def key(self) -> tuple:
        return ("tcp" if self.connection else "udp", self.host, self.port)

    def __repr__(self) -> str:
        return f"{self.key[0]}:{self.host}:{self.port}"

    def send(self, address: str, *args) -> bool:
        return self.send_packet(message(address, *args))

    def send_bundle(self, messages: list[tuple]) -> bool:
        bundle = OscBundleBuilder(IMMEDIATELY)
        for address, *args in messages:
            bundle.add_content(build(address, *args))
        return self.send_packet(bundle.build().dgram)

    def send_packet(self, packet: bytes) -> bool:
        """False when the client cannot take it (gone, or not reading)."""
        try:
            if self.connection is None:
                self.server.send_datagram(packet, (self.host, self.port))
            else:
                with self._send_lock:
                    self.connection.sendall(slip.encode(packet))
            return True
        except OSError:
            if self.connection is not None:
                self.server.drop_connection(self.connection)
            return False


def build(address: str, *args):
    builder = osc_message_builder.OscMessageBuilder(address)
    for value in args:
        builder.add_arg(value)
    return builder.build()


def message(address: str, *args) -> bytes:
    return build(address, *args).dgram


def take_slip_packets(pending: bytearray):
    """The packets of the SLIP frames complete in `pending` (taken out of it; the rest stays for
    more bytes), None for a frame that does not decode. Frames end with END; one may start with one too."""
    while (end := pending.find(slip.END)) >= 0:
        frame = bytes(pending[:end])
        del pending[:end + 1]
        if frame:
            try:
                yield slip.decode(frame + slip.END)
            except (slip.ProtocolError, ValueError):
                yield None


class TokenBucket:
    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.last = burst, time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class OscServer:
    """`handle(client, address, args)` runs in the worker thread for every accepted message; it may
    be replaced while the server runs (a show answers differently before it starts)."""

    def __init__(self, handle, port: int = DEFAULT_PORT, bind: tuple[str, ...] = ("127.0.0.1",),
                 allow: tuple[str, ...] = ("127.0.0.1",), messages_per_second: float = 500.0):
        self.handle = handle
        self.port = port
        self.bind = bind
        self.allow = tuple(ipaddress.ip_network(entry, strict=False) for entry in allow)
        self.messages_per_second = messages_per_second
        self.counters = OscCounters()
        self.refused_hosts: set[str] = set()
        self._buckets: dict[str, TokenBucket] = {}
        self._udp: list[socket.socket] = []
        self._listeners: list[socket.socket] = []
        self._connections: dict[socket.socket, tuple[OscClient, bytearray]] = {}
        self._queue: queue.Queue = queue.Queue(QUEUE_CAPACITY)
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.on_refused = None  # called with the host, once per refused host

    def start(self) -> "OscServer":
        """Open every socket (raises OSError, e.g. the port is taken) and start the threads."""
        try:
            for host in self.bind:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                udp = socket.socket(family, socket.SOCK_DGRAM)
                self._udp.append(udp)
                udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
                udp.bind((host, self.port))
                listener = socket.socket(family, socket.SOCK_STREAM)
                self._listeners.append(listener)
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind((host, self.port))
                listener.listen(16)
        except OSError:
            self._close_sockets()
            raise
        for target, name in ((self._read_network, "liveengine-osc-network"), (self._work, "liveengine-osc-worker")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        """Stop the threads and close every socket; once stopped, stopping again does nothing."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._close_sockets()

    def __enter__(self) -> "OscServer":
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _close_sockets(self):
        for sock in self._udp + self._listeners + list(self._connections):
            sock.close()
        self._udp.clear()
        self._listeners.clear()
        self._connections.clear()

    def send_datagram(self, packet: bytes, address: tuple[str, int]):
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        sock = next((udp for udp in self._udp if udp.family == family), self._udp[0])
        sock.sendto(packet, address)

    def drop_connection(self, connection: socket.socket):
        self._connections.pop(connection, None)
        try:
            connection.close()
        except OSError:
            pass

    # The network thread.

    def _read_network(self):
        while not self._stopping.is_set():
            sockets = self._udp + self._listeners + list(self._connections)
            try:
                readable, _, _ = select.select(sockets, [], [], 0.1)
            except (OSError, ValueError):  # a connection closed under us: look again
                continue
            for sock in readable:
                if sock in self._udp:
                    self._read_datagram(sock)
                elif sock in self._listeners:
                    self._accept(sock)
                else:
                    self._read_stream(sock)

    def _read_datagram(self, sock: socket.socket):
        try:
            packet, (host, port, *_) = sock.recvfrom(65536)
        except OSError:
            return
        if self._admitted(host):
            self._take(OscClient(self, host, port), packet)

    def _accept(self, listener: socket.socket):
        try:
            connection, (host, port, *_) = listener.accept()
        except OSError:
            return
        if not self._admitted(host):
            connection.close()
            return
        connection.settimeout(SEND_TIMEOUT_SECONDS)
        self._connections[connection] = (OscClient(self, host, port, connection), bytearray())

    def _read_stream(self, connection: socket.socket):
        client, pending = self._connections.get(connection, (None, None))
        if client is None:
            return
        try:
            data = connection.recv(65536)
        except (socket.timeout, BlockingIOError):
            return
        except OSError:
            data = b""
        if not data:
            self.drop_connection(connection)
            return
        pending += data
        for packet in take_slip_packets(pending):
            if packet is None:
                self.counters.malformed += 1
            else:
                self._take(client, packet)
        if len(pending) > MAX_TCP_FRAME:
            self.counters.oversized += 1
            log.warning("OSC client %s sent a frame over %d bytes: disconnected", client, MAX_TCP_FRAME)
            self.drop_connection(connection)

    def _admitted(self, host: str) -> bool:
        address = ipaddress.ip_address(host.split("%")[0])
        if any(address in network for network in self.allow):
            return True
        self.counters.refused += 1
        if host not in self.refused_hosts:
            self.refused_hosts.add(host)
            log.warning("OSC client %s refused: not on the allow-list", host)
            if self.on_refused is not None:
                self.on_refused(host)
        return False

    def _take(self, client: OscClient, packet: bytes):
        self.counters.received += 1
        bucket = self._buckets.get(client.host)
        if bucket is None:
            bucket = self._buckets[client.host] = TokenBucket(self.messages_per_second, self.messages_per_second)
        if not bucket.take():
            self.counters.rate_limited += 1
            return
        try:
            # python-osc raises more than ParseError on some malformed input; none of it may get further.
            messages = osc_packet.OscPacket(packet).messages
        except Exception:  # noqa: BLE001 - any parse failure is the client's malformed packet
            self.counters.malformed += 1
            return
        if len(messages) > MAX_BUNDLE_MESSAGES:
            self.counters.oversized += 1
            return
        for timed in messages:
            try:
                self._queue.put_nowait((client, timed.message.address, list(timed.message.params)))
            except queue.Full:
                self.counters.queue_overflow += 1

    # The worker thread.

    def _work(self):
        while True:
            item = self._queue.get()
            if item is None or self._stopping.is_set():
                return
            client, address, args = item
            try:
                self.handle(client, address, args)
            except Exception:  # noqa: BLE001 - one bad command must not end the surface
                log.exception("OSC %s %s failed", address, args)

