"""OSC over UDP and TCP (OSC 1.1: SLIP-framed packets on TCP): who may talk, how much, and how
replies go back.

One network thread waits on every socket with the system's poller (epoll on Linux: any number
of descriptors), turns datagrams and SLIP frames into messages with python-osc's parser, and
hands them to one worker thread, which carries them out (the surface, `surface.py`, through the address space of `routes.py`).
Nothing a client sends runs in the network thread, and no client's backlog holds up anyone's: in
each of the thread's rounds a TCP connection hands on at most FRAMES_PER_TURN frames (the rest wait
in its buffer, unread data in the system's), so every socket is read again within a round however
many connections flood. A TCP reply that the client cannot take at once waits in that connection's
own bounded buffer, written when the client reads; a client whose buffer overflows is disconnected.

A client is its IP address. A client not on the allow-list is refused (logged once). Each client
has a budget of messages a second (a bundle costs all its messages; a bundle of more than 64 is
refused before it is parsed) and a queue of its own: the worker takes one message from each
waiting client in turn, so a flooding client's backlog delays no one else's /ping or /go.
Whatever is refused is counted per client and summarised, a line per client at most every
SUMMARY_SECONDS, never a line per message.

TCP connections are capped per client and in all, closed once idle for `idle_seconds`, and
refused while the process is near its limit of open files, so samples still load and stream.
"""

import collections
import dataclasses
import errno
import ipaddress
import itertools
import logging
import os
import resource
import selectors
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
MAX_BUNDLE_MESSAGES = 64  # a bigger bundle is refused whole, unparsed
MAX_BUNDLE_DEPTH = 8  # bundles inside bundles; deeper is malformed
MAX_TCP_FRAME = 65536  # bytes of one SLIP frame; a client sending more is disconnected
LISTEN_BACKLOG = 512  # connections the system completes before the network thread takes them: a burst is not dropped
CLIENT_QUEUE_CAPACITY = 1024  # a client's messages waiting for the worker; beyond, dropped and counted
QUEUE_CAPACITY = 4096  # all clients' messages waiting for the worker
UDP_RECEIVE_BUFFER = 4 << 20  # bytes: a burst from a console waits here while the reader catches up
MAX_REPLY_BACKLOG = 256 << 10  # bytes of replies a TCP client has not read; beyond, it is disconnected
DESCRIPTOR_RESERVE = 256  # file descriptors kept free for the show's samples, MIDI and audio
DESCRIPTOR_LIMIT_WANTED = 65536  # the soft limit raised toward the hard one, up to this
ACCEPT_PAUSE_SECONDS = 1.0  # out of descriptors: stop accepting TCP connections this long
SUMMARY_SECONDS = 10.0  # at most one line per client this often about what it had refused
POLL_SECONDS = 0.5  # the network thread looks at idle connections and summaries this often
# Frames a TCP connection hands on in one round of the network thread. With 200 connections each
# holding 100 queries read at once, a round took 0.5-1 s and a console's /ping waited for it.
FRAMES_PER_TURN = 8

# What is counted against a client, in the order its summary names them.
OVER_RATE = "messages over the rate limit"
OVERSIZED = f"bundles over {MAX_BUNDLE_MESSAGES} messages or frames over {MAX_TCP_FRAME} bytes"
MALFORMED = "malformed packets"
QUEUE_FULL = "messages dropped with its queue full"
CONNECTIONS_OVER = "TCP connections over the limits"
SHORT_OF_FILES = "TCP connections refused to keep file descriptors for the show"
NOT_READING = "TCP connections dropped for not reading their replies"
IDLE = "idle TCP connections closed"
REPLIES_LOST = "UDP replies lost with the send buffer full"
TALLIES = (OVER_RATE, OVERSIZED, MALFORMED, QUEUE_FULL, CONNECTIONS_OVER, SHORT_OF_FILES, NOT_READING, IDLE,
           REPLIES_LOST)


@dataclasses.dataclass
class OscCounters:
    received: int = 0  # packets
    malformed: int = 0
    oversized: int = 0
    rate_limited: int = 0  # messages
    refused: int = 0  # packets and connections from clients not on the allow-list
    queue_overflow: int = 0


class OscClient:
    """Where a message came from, and the way back to it. Sending never waits: a UDP reply the
    system cannot take is lost and counted, a TCP reply waits in its connection's buffer."""

    def __init__(self, server: "OscServer", host: str, port: int, connection: "Connection | None" = None):
        self.server = server
        self.host = host
        self.port = port
        self.connection = connection  # TCP; None for UDP

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
        """False when the client cannot take it (gone, or too far behind in reading)."""
        if self.connection is None:
            return self.server.send_datagram(packet, (self.host, self.port))
        return self.connection.send(slip.encode(packet))


class Connection:
    """One TCP client's socket: the bytes of a frame still coming, and the replies it has not
    taken yet. Replies are sent from any thread; only the network thread reads, and closes."""

    def __init__(self, server: "OscServer", sock: socket.socket, host: str, port: int):
        self.server = server
        self.sock = sock
        self.client = OscClient(server, host, port, self)
        self.incoming = bytearray()
        self.outgoing = bytearray()
        self.last_heard = time.monotonic()
        self.overflowed = False  # the client read too little: the network thread disconnects it
        self.closed = False
        self.lock = threading.Lock()

    def send(self, data: bytes) -> bool:
        with self.lock:
            if self.closed or self.overflowed:
                return False
            if not self.outgoing:  # the usual case: the system takes it now
                try:
                    data = data[self.sock.send(data):]
                except BlockingIOError:
                    pass
                except OSError:  # the client is gone; the network thread sees it too
                    return False
                if not data:
                    return True
            was_waiting = bool(self.outgoing)
            if len(self.outgoing) + len(data) > MAX_REPLY_BACKLOG:
                self.overflowed = True
            else:
                self.outgoing += data
        if not was_waiting or self.overflowed:  # else the network thread is writing already
            self.server.wake_for(self)
        return not self.overflowed

    def write_backlog(self) -> bool:
        """Send what the client can take now; True once everything is sent."""
        with self.lock:
            if self.outgoing:
                try:
                    del self.outgoing[:self.sock.send(self.outgoing)]
                except BlockingIOError:  # OSError else: the network thread drops the connection
                    pass
            return not self.outgoing

    def close(self):
        with self.lock:
            self.closed = True
            self.sock.close()


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


_BUNDLE = b"#bundle\0"


def count_messages(packet, limit: int = MAX_BUNDLE_MESSAGES, depth: int = 0) -> int | None:
    """How many messages the packet holds, bundles inside it included, reading only the sizes of
    its elements and counting no further than one past `limit`; None when the bundle's structure
    is broken. So a bundle too big is refused before anything in it is parsed."""
    packet = memoryview(packet)
    if packet[:8] != _BUNDLE:
        return 1
    if depth >= MAX_BUNDLE_DEPTH or len(packet) < 16:
        return None
    count, at = 0, 16  # after "#bundle\0" and the time tag
    while at < len(packet) and count <= limit:
        size = int.from_bytes(packet[at:at + 4], "big")
        at += 4
        if size == 0 or at + size > len(packet):
            return None
        inside = count_messages(packet[at:at + size], limit - count, depth + 1)
        if inside is None:
            return None
        count += inside
        at += size
    return count


class TokenBucket:
    def __init__(self, rate: float, burst: float):
        self.rate, self.burst = rate, burst
        self.tokens, self.last = burst, time.monotonic()

    def take(self, count: int = 1) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= count:
            self.tokens -= count
            return True
        return False


class FairQueue:
    """Messages waiting for the worker: a bounded queue per client, served one message a client
    in turn, so the client with the longest backlog waits longest. Beyond `total` messages in all,
    only clients below their fair share of it may add one."""

    def __init__(self, per_client: int = CLIENT_QUEUE_CAPACITY, total: int = QUEUE_CAPACITY):
        self.per_client, self.total = per_client, total
        self._waiting: dict[str, collections.deque] = {}
        self._turns: collections.deque[str] = collections.deque()  # clients with messages, next first
        self._size = 0
        self._closed = False
        self._ready = threading.Condition()

    def put(self, client: str, item) -> bool:
        """False when that client's queue, or the whole, is full."""
        with self._ready:
            waiting = self._waiting.setdefault(client, collections.deque())
            # When the whole is full, a client still has its share: flooders cannot crowd out a /ping.
            fair_share = max(1, self.total // len(self._waiting))
            if len(waiting) >= self.per_client or (self._size >= self.total and len(waiting) >= fair_share):
                if not waiting:
                    del self._waiting[client]
                return False
            if not waiting:
                self._turns.append(client)
            waiting.append(item)
            self._size += 1
            self._ready.notify()
            return True

    def get(self):
        """The next client's next message; None once closed."""
        with self._ready:
            while not self._turns and not self._closed:
                self._ready.wait()
            if self._closed:
                return None
            client = self._turns.popleft()
            waiting = self._waiting[client]
            item = waiting.popleft()
            self._size -= 1
            if waiting:
                self._turns.append(client)
            else:
                del self._waiting[client]
            return item

    def close(self):
        with self._ready:
            self._closed = True
            self._ready.notify_all()


def _descriptors_in_use(newest: socket.socket) -> int:
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # less the one listing them
    except OSError:  # no /proc: descriptors are numbered from the lowest free one
        return newest.fileno() + 1


def raise_descriptor_limit() -> int:
    """Raise the process's soft limit of open files toward its hard limit (never lower it);
    returns the soft limit now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = DESCRIPTOR_LIMIT_WANTED if hard == resource.RLIM_INFINITY else min(hard, DESCRIPTOR_LIMIT_WANTED)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return soft


class OscServer:
    """`handle(client, address, args)` runs in the worker thread for every accepted message; it may
    be replaced while the server runs (a show answers differently before it starts)."""

    def __init__(self, handle, port: int = DEFAULT_PORT, bind: tuple[str, ...] = ("127.0.0.1",),
                 allow: tuple[str, ...] = ("127.0.0.1",), messages_per_second: float = 500.0, *,
                 max_connections: int = 64, max_connections_per_client: int = 16, idle_seconds: float = 300.0):
        self.handle = handle
        self.port = port
        self.bind = bind
        self.allow = tuple(ipaddress.ip_network(entry, strict=False) for entry in allow)
        self.messages_per_second = messages_per_second
        self.max_connections = max_connections
        self.max_connections_per_client = max_connections_per_client
        self.idle_seconds = idle_seconds
        self.counters = OscCounters()
        self.refused_hosts: set[str] = set()
        self.tallies: dict[str, collections.Counter] = {}  # per client: what it had refused, for the summary
        self._unsaid: dict[str, collections.Counter] = {}  # per client: refused since its last log line
        self._last_said: dict[str, float] = {}
        self._buckets: dict[str, TokenBucket] = {}
        self._udp: list[socket.socket] = []
        self._listeners: list[socket.socket] = []
        self._connections: dict[socket.socket, Connection] = {}
        self._per_host: collections.Counter = collections.Counter()
        self._selector: selectors.BaseSelector | None = None
        self._wake_reader, self._wake_writer = None, None
        self._woken: set[Connection] = set()  # connections with replies to write, or to drop
        self._unfinished: set[Connection] = set()  # connections with whole frames read, not yet handed on
        self._lock = threading.Lock()  # what the sending threads hand the network thread
        self._descriptor_limit = 0
        self._accepting_again = 0.0  # monotonic time; 0 while accepting
        self._pause_said = -SUMMARY_SECONDS
        self._replies_lost = collections.Counter()  # per host, counted by the sending threads
        self._queue = FairQueue()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.on_refused = None  # called with the host, once per refused host

    def start(self) -> "OscServer":
        """Open every socket (raises OSError, e.g. the port is taken) and start the threads."""
        self._descriptor_limit = raise_descriptor_limit()
        self._selector = selectors.DefaultSelector()
        try:
            self._wake_reader, self._wake_writer = socket.socketpair()
            for sock in (self._wake_reader, self._wake_writer):
                sock.setblocking(False)
            self._selector.register(self._wake_reader, selectors.EVENT_READ, self._read_wakeup)
            for host in self.bind:
                family = socket.AF_INET6 if ":" in host else socket.AF_INET
                udp = socket.socket(family, socket.SOCK_DGRAM)
                self._udp.append(udp)
                udp.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_RECEIVE_BUFFER)
                udp.bind((host, self.port))
                udp.setblocking(False)
                self._selector.register(udp, selectors.EVENT_READ, self._read_datagrams)
                listener = socket.socket(family, socket.SOCK_STREAM)
                self._listeners.append(listener)
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                listener.bind((host, self.port))
                listener.listen(LISTEN_BACKLOG)
                listener.setblocking(False)
                self._selector.register(listener, selectors.EVENT_READ, self._accept)
        except OSError:
            self._close_sockets()
            raise
        for target, name in ((self._run_network, "liveengine-osc-network"), (self._work, "liveengine-osc-worker")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self):
        """Stop the threads and close every socket; once stopped, stopping again does nothing."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._queue.close()
        self._wake()
        for thread in self._threads:
            thread.join(timeout=2.0)
        self._close_sockets()

    def __enter__(self) -> "OscServer":
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _close_sockets(self):
        for connection in list(self._connections.values()):
            connection.close()
        for sock in self._udp + self._listeners + [self._wake_reader, self._wake_writer]:
            if sock is not None:
                sock.close()
        self._udp.clear()
        self._listeners.clear()
        self._connections.clear()
        if self._selector is not None:
            self._selector.close()

    @property
    def connections(self) -> int:
        return len(self._connections)

    def send_datagram(self, packet: bytes, address: tuple[str, int]) -> bool:
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        sock = next((udp for udp in self._udp if udp.family == family), self._udp[0])
        try:
            sock.sendto(packet, address)
            return True
        except OSError:  # the send buffer is full, or the address cannot be reached: never wait
            with self._lock:
                self._replies_lost[address[0]] += 1
            return False

    def wake_for(self, connection: Connection):
        """A connection has replies waiting (or has overflowed): the network thread sees to it."""
        with self._lock:
            self._woken.add(connection)
        self._wake()

    def _wake(self):
        try:
            self._wake_writer.send(b"\0")
        except (OSError, AttributeError):  # already woken (its buffer full), or not started
            pass

    def refusal_lines(self) -> list[str]:
        """What each client had refused, a line per client, for the run's summary."""
        self._collect_replies_lost()
        return [f"{host}: {_tally_text(tally)}" for host, tally in sorted(self.tallies.items())]

    # The network thread.

    def _run_network(self):
        while not self._stopping.is_set():
            waiting = list(self._unfinished)  # their turn this round: after the sockets that are ready
            for key, events in self._selector.select(0.0 if waiting else POLL_SECONDS):
                key.data(key.fileobj, events)
            for connection in waiting:
                if not connection.closed:
                    self._take_frames(connection)
            now = time.monotonic()
            self._close_idle(now)
            if self._accepting_again and now >= self._accepting_again:
                self._accepting_again = 0.0
                for listener in self._listeners:
                    self._selector.register(listener, selectors.EVENT_READ, self._accept)
            self._summarise(now)

    def _read_wakeup(self, sock: socket.socket, events: int):
        try:
            while sock.recv(4096):
                pass
        except BlockingIOError:
            pass
        with self._lock:
            woken, self._woken = self._woken, set()
        for connection in woken:
            if connection.closed:
                continue
            if connection.overflowed:
                self._count(connection.client.host, NOT_READING)
                self._drop(connection)
            else:
                self._selector.modify(connection.sock, selectors.EVENT_READ | selectors.EVENT_WRITE, self._serve)

    def _read_datagrams(self, sock: socket.socket, events: int):
        for _ in range(256):  # then let the other sockets have a turn
            try:
                packet, (host, port, *_) = sock.recvfrom(65536)
            except OSError:  # nothing more to read, or an ICMP error from an earlier reply
                return
            if self._admitted(host):
                self._take(OscClient(self, host, port), packet)

    def _accept(self, listener: socket.socket, events: int):
        for _ in range(64):  # then let the other sockets have a turn
            try:
                sock, (host, port, *_) = listener.accept()
            except OSError as error:
                if error.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    self._pause_accepting(error)
                return
            refusal = self._connection_refused(host, sock)
            if refusal is not None:
                sock.close()
                if refusal:
                    self._count(host, refusal)
                continue
            sock.setblocking(False)
            connection = Connection(self, sock, host, port)
            self._connections[sock] = connection
            self._per_host[host] += 1
            self._selector.register(sock, selectors.EVENT_READ, self._serve)

    def _connection_refused(self, host: str, sock: socket.socket) -> str | None:
        """Why a new connection is refused ("" when off the allow-list: that is said once
        apart), or None."""
        if not self._admitted(host):
            return ""
        if len(self._connections) >= self.max_connections or self._per_host[host] >= self.max_connections_per_client:
            return CONNECTIONS_OVER
        if _descriptors_in_use(sock) > self._descriptor_limit - DESCRIPTOR_RESERVE:
            return SHORT_OF_FILES
        return None

    def _pause_accepting(self, error: OSError):
        """No descriptor for the connection waiting: the listener would stay readable, so stop
        listening for a moment rather than spin."""
        now = time.monotonic()
        if now - self._pause_said >= SUMMARY_SECONDS:
            log.warning("OSC: cannot take a TCP connection (%s): not listening for %g s",
                        error.strerror, ACCEPT_PAUSE_SECONDS)
            self._pause_said = now
        if not self._accepting_again:
            for listener in self._listeners:
                self._selector.unregister(listener)
        self._accepting_again = now + ACCEPT_PAUSE_SECONDS

    def _serve(self, sock: socket.socket, events: int):
        connection = self._connections.get(sock)
        if connection is None:
            return
        try:
            if events & selectors.EVENT_WRITE and connection.write_backlog():
                self._selector.modify(sock, selectors.EVENT_READ, self._serve)
            if events & selectors.EVENT_READ:
                self._read_stream(connection)
        except OSError:
            self._drop(connection)

    def _read_stream(self, connection: Connection):
        if connection in self._unfinished:
            return  # what it sent waits in the system until its frames read so far are handed on
        try:
            data = connection.sock.recv(65536)
        except BlockingIOError:
            return
        if not data:
            self._drop(connection)
            return
        connection.last_heard = time.monotonic()
        connection.incoming += data
        self._take_frames(connection)

    def _take_frames(self, connection: Connection):
        """Hand on the connection's whole frames read so far, FRAMES_PER_TURN at most: the rest wait for its
        next turn, in the next round."""
        client = connection.client
        for packet in itertools.islice(take_slip_packets(connection.incoming), FRAMES_PER_TURN):
            if packet is None:
                self.counters.malformed += 1
                self._count(client.host, MALFORMED)
            else:
                self._take(client, packet)
        if slip.END in connection.incoming:
            self._unfinished.add(connection)
            return
        self._unfinished.discard(connection)
        if len(connection.incoming) > MAX_TCP_FRAME:  # what is left is a frame still coming
            self.counters.oversized += 1
            self._count(client.host, OVERSIZED)
            self._drop(connection)

    def _drop(self, connection: Connection):
        if self._connections.pop(connection.sock, None) is None:
            return
        self._per_host[connection.client.host] -= 1
        if not self._per_host[connection.client.host]:
            del self._per_host[connection.client.host]
        self._selector.unregister(connection.sock)
        self._unfinished.discard(connection)
        connection.close()

    def _close_idle(self, now: float):
        for connection in [c for c in self._connections.values() if now - c.last_heard > self.idle_seconds]:
            self._count(connection.client.host, IDLE, say=False)
            self._drop(connection)

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
        count = count_messages(packet)
        if count is None:
            self.counters.malformed += 1
            self._count(client.host, MALFORMED)
            return
        if count > MAX_BUNDLE_MESSAGES:
            self.counters.oversized += 1
            self._count(client.host, OVERSIZED)
            return
        bucket = self._buckets.get(client.host)
        if bucket is None:  # a whole bundle fits in the burst, whatever the rate
            burst = max(self.messages_per_second, MAX_BUNDLE_MESSAGES)
            bucket = self._buckets[client.host] = TokenBucket(self.messages_per_second, burst)
        cost = max(count, 1)  # an empty bundle costs a message too
        if not bucket.take(cost):
            self.counters.rate_limited += cost
            self._count(client.host, OVER_RATE, cost)
            return
        try:
            # python-osc raises more than ParseError on some malformed input; none of it may get further.
            messages = osc_packet.OscPacket(packet).messages
        except Exception:  # noqa: BLE001 - any parse failure is the client's malformed packet
            self.counters.malformed += 1
            self._count(client.host, MALFORMED)
            return
        for timed in messages:
            if not self._queue.put(client.host, (client, timed.message.address, list(timed.message.params))):
                self.counters.queue_overflow += 1
                self._count(client.host, QUEUE_FULL)

    # What clients had refused: counted, and summarised.

    def _count(self, host: str, what: str, count: int = 1, say: bool = True):
        self.tallies.setdefault(host, collections.Counter())[what] += count
        if say:
            self._unsaid.setdefault(host, collections.Counter())[what] += count

    def _collect_replies_lost(self):
        with self._lock:
            lost, self._replies_lost = self._replies_lost, collections.Counter()
        for host, count in lost.items():
            self._count(host, REPLIES_LOST, count)

    def _summarise(self, now: float):
        """A line per client with refusals not yet said, at most one per SUMMARY_SECONDS."""
        self._collect_replies_lost()
        for host in [host for host in self._unsaid if now - self._last_said.get(host, -SUMMARY_SECONDS)
                     >= SUMMARY_SECONDS]:
            log.warning("OSC client %s: %s", host, _tally_text(self._unsaid.pop(host)))
            self._last_said[host] = now

    def carry_out(self, client, address: str, args: list) -> bool:
        """Queue a message from outside the network (the web pages' actions) for the worker, which owns
        the surface's ring; False when the queue is full."""
        return self._queue.put(client.host, (client, address, args))

    # The worker thread.

    def _work(self):
        while (item := self._queue.get()) is not None:
            client, address, args = item
            try:
                self.handle(client, address, args)
            except Exception:  # noqa: BLE001 - one bad command must not end the surface
                log.exception("OSC %s %s failed", address, args)


def _tally_text(tally: collections.Counter) -> str:
    return ", ".join(f"{tally[what]:,} {what}" for what in TALLIES if tally[what])
