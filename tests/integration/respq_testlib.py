"""Helpers for respq's integration tests: start and stop a real server, and talk to
it over a raw socket with a RESP2/RESP3 reader that keeps reply types apart.

Nothing here knows the tests; conftest.py builds the fixtures from it.

- `Server` runs one respq-server process on a free port with its own data
  directory. Its stdout and stderr go to files in that directory; `stop()` sends
  SIGTERM (SIGKILL after a timeout) and `problems()` lists what went wrong: a
  non-zero exit status, or a sanitizer report in the captured output.
- `RawConn` is a socket that sends bytes and reads replies with a timeout. It can
  read one reply as raw bytes (`read_reply_raw`) or decoded (`read_reply`), read an
  exact number of bytes, and tell whether the server closed the connection.
- `parse_reply` decodes RESP into Python values whose types say what came on the
  wire: bulk -> bytes, simple string -> Simple (a str), error -> Error (a str,
  without the '-'), integer -> int, null (`$-1`, `*-1`, `_`) -> None, array -> list,
  map -> RespMap (an ordered dict), set -> RespSet (a list), verbatim -> Verbatim.
"""

import errno
import os
import select
import signal
import socket
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"

# Texts that only appear in output when a sanitizer found something.
SANITIZER_MARKERS = (
    "ERROR: AddressSanitizer",
    "ERROR: LeakSanitizer",
    "runtime error:",
    "WARNING: MemorySanitizer",
    "ThreadSanitizer:",
)


def server_binary():
    """The respq-server to test: $RESPQ_SERVER, or <repo>/src/respq-server."""
    return os.environ.get("RESPQ_SERVER") or str(REPO / "src" / "respq-server")


def free_port():
    """A TCP port that was free a moment ago (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------
# RESP decoding
# ---------------------------------------------------------------------------


class NeedMore(Exception):
    """The buffer ends inside a reply."""


class Simple(str):
    """A RESP simple string (`+OK`)."""


class Error(str):
    """A RESP error reply, without the leading '-' (e.g. 'ERR unknown command ...')."""


class Verbatim(bytes):
    """A RESP3 verbatim string; `.fmt` is its 3-letter format ('txt')."""

    fmt = "txt"


class RespMap(dict):
    """A RESP3 map (`%N`); keeps wire order."""


class RespSet(list):
    """A RESP3 set (`~N`); keeps wire order."""


class Push(list):
    """A RESP3 push (`>N`)."""


def _line(buf, pos):
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise NeedMore()
    return buf[pos:end], end + 2


def parse_reply(buf, pos=0):
    """Decodes one reply starting at buf[pos]. Returns (value, next_pos); raises
    NeedMore when the reply is incomplete and ValueError on bytes that are not RESP."""
    if pos >= len(buf):
        raise NeedMore()
    kind = buf[pos:pos + 1]
    line, pos = _line(buf, pos + 1)
    if kind == b"+":
        return Simple(line.decode("utf-8", "replace")), pos
    if kind == b"-":
        return Error(line.decode("utf-8", "replace")), pos
    if kind in (b":", b"("):
        return int(line), pos
    if kind == b"_":
        if line != b"":
            raise ValueError("bad null %r" % line)
        return None, pos
    if kind == b",":
        return float(line), pos
    if kind == b"#":
        if line not in (b"t", b"f"):
            raise ValueError("bad boolean %r" % line)
        return line == b"t", pos
    if kind in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            if kind != b"$" or n != -1:
                raise ValueError("bad length %r" % line)
            return None, pos
        if len(buf) < pos + n + 2:
            raise NeedMore()
        data = bytes(buf[pos:pos + n])
        if buf[pos + n:pos + n + 2] != b"\r\n":
            raise ValueError("bulk not followed by CRLF")
        pos += n + 2
        if kind == b"$":
            return data, pos
        if kind == b"!":
            return Error(data.decode("utf-8", "replace")), pos
        if len(data) < 4 or data[3:4] != b":":
            raise ValueError("bad verbatim string %r" % data[:8])
        v = Verbatim(data[4:])
        v.fmt = data[:3].decode()
        return v, pos
    if kind in (b"*", b"~", b">"):
        n = int(line)
        if n < 0:
            if kind != b"*" or n != -1:
                raise ValueError("bad count %r" % line)
            return None, pos
        items = []
        for _ in range(n):
            v, pos = parse_reply(buf, pos)
            items.append(v)
        if kind == b"~":
            return RespSet(items), pos
        if kind == b">":
            return Push(items), pos
        return items, pos
    if kind in (b"%", b"|"):
        n = int(line)
        m = RespMap()
        for _ in range(n):
            k, pos = parse_reply(buf, pos)
            v, pos = parse_reply(buf, pos)
            m[_hashable(k)] = v
        if kind == b"|":  # an attribute: skip it, return the reply it annotates
            return parse_reply(buf, pos)
        return m, pos
    raise ValueError("unknown RESP type byte %r at %d" % (kind, pos))


def _hashable(v):
    if isinstance(v, list):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, dict):
        return tuple((k, _hashable(x)) for k, x in v.items())
    return v


def encode_command(*args):
    """A multibulk request for args (str, bytes or int)."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, int):
            a = str(a).encode()
        elif isinstance(a, str):
            a = a.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def pairs(v):
    """A RESP3 map, or a RESP2 flat array of field, value, ..., as a list of pairs."""
    if isinstance(v, dict):
        return list(v.items())
    assert isinstance(v, list) and len(v) % 2 == 0, v
    return [(v[i], v[i + 1]) for i in range(0, len(v), 2)]


def as_dict(v):
    """pairs() as a dict (keys decoded to str when they are bytes or simple strings)."""
    out = {}
    for k, x in pairs(v):
        if isinstance(k, bytes):
            k = k.decode()
        out[str(k)] = x
    return out


# ---------------------------------------------------------------------------
# Raw connection
# ---------------------------------------------------------------------------


class Closed(Exception):
    """The server closed the connection before a whole reply arrived."""

    def __init__(self, msg, data=b""):
        super().__init__(msg)
        self.data = data


class RawConn:
    """One TCP (or unix) connection with a byte-level view of the replies."""

    def __init__(self, host=HOST, port=None, timeout=5.0, unix_path=None):
        self.timeout = timeout
        if unix_path:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(unix_path)
        else:
            self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = bytearray()
        self.eof = False

    # -- sending --

    def send(self, data):
        """Sends all bytes (bytes, or str encoded as UTF-8)."""
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def send_cmd(self, *args):
        self.send(encode_command(*args))

    def send_until_closed(self, data, chunk=65536, timeout=10.0):
        """Sends data chunk by chunk, stopping early when the peer closes or resets.
        Returns the number of bytes the kernel accepted."""
        sent = 0
        deadline = time.monotonic() + timeout
        self.sock.setblocking(False)
        try:
            while sent < len(data):
                if time.monotonic() > deadline:
                    break
                _, w, _ = select.select([], [self.sock], [], 0.2)
                if not w:
                    # Drain replies meanwhile, and notice an EOF.
                    self._pump(0)
                    if self.eof:
                        break
                    continue
                try:
                    sent += self.sock.send(data[sent:sent + chunk])
                except (BrokenPipeError, ConnectionResetError):
                    break
                except BlockingIOError:
                    continue
        finally:
            self.sock.setblocking(True)
            self.sock.settimeout(self.timeout)
        return sent

    # -- receiving --

    def _pump(self, timeout):
        """Reads what is available within timeout seconds into self.buf.
        Returns False on timeout. Sets self.eof on EOF or reset."""
        if self.eof:
            return True
        r, _, _ = select.select([self.sock], [], [], max(timeout, 0))
        if not r:
            return False
        try:
            self.sock.setblocking(False)
            data = self.sock.recv(1 << 20)
        except BlockingIOError:
            return True
        except (ConnectionResetError, ConnectionAbortedError):
            data = b""
        except OSError as e:
            if e.errno in (errno.ECONNRESET, errno.EPIPE):
                data = b""
            else:
                raise
        finally:
            try:
                self.sock.setblocking(True)
                self.sock.settimeout(self.timeout)
            except OSError:
                pass
        if not data:
            self.eof = True
        else:
            self.buf += data
        return True

    def read_exact(self, n, timeout=None):
        """Exactly n bytes. Raises TimeoutError or Closed with what was read."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while len(self.buf) < n:
            if self.eof:
                data = bytes(self.buf)
                raise Closed("closed after %d of %d bytes: %r" % (len(data), n, data[:300]), data)
            left = deadline - time.monotonic()
            if left <= 0 or (not self._pump(left) and time.monotonic() >= deadline):
                raise TimeoutError("got %d of %d bytes: %r" % (len(self.buf), n, bytes(self.buf[:300])))
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_reply_raw(self, timeout=None):
        """The bytes of exactly one whole reply."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                _, end = parse_reply(self.buf, 0)
                out = bytes(self.buf[:end])
                del self.buf[:end]
                return out
            except NeedMore:
                pass
            if self.eof:
                data = bytes(self.buf)
                raise Closed("connection closed; unparsed bytes: %r" % data[:300], data)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no whole reply within timeout; have %r" % bytes(self.buf[:300]))
            self._pump(left)

    def read_reply(self, timeout=None):
        """One reply, decoded (see parse_reply)."""
        raw = self.read_reply_raw(timeout)
        return parse_reply(raw, 0)[0]

    def cmd(self, *args):
        """Sends a multibulk command and returns its decoded reply."""
        self.send_cmd(*args)
        return self.read_reply()

    def cmd_raw(self, *args):
        """Sends a multibulk command and returns its reply's exact bytes."""
        self.send_cmd(*args)
        return self.read_reply_raw()

    def read_all_until_close(self, timeout=None):
        """Everything until the server closes. Raises TimeoutError if it does not."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("connection still open; have %r" % bytes(self.buf[:300]))
            self._pump(left)
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def is_closed(self, timeout=5.0):
        """True if the server closes the connection within timeout (any unread
        replies are discarded), False if it is still open then."""
        try:
            self.read_all_until_close(timeout)
            return True
        except TimeoutError:
            return False

    def nothing_pending(self, wait=0.2):
        """True if no byte arrives within `wait` seconds and the connection is open."""
        self._pump(wait)
        return not self.buf and not self.eof

    def local_addr(self):
        host, port = self.sock.getsockname()[:2]
        return "%s:%d" % (host, port)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# ---------------------------------------------------------------------------
# Server process
# ---------------------------------------------------------------------------


class ServerStartError(Exception):
    pass


class Server:
    """One respq-server process on 127.0.0.1:<port>, data dir `dir`."""

    def __init__(self, dir, args=(), config_file=None, binary=None):
        self.host = HOST
        self.dir = Path(dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.args = list(args)
        self.config_file = config_file
        self.binary = binary or server_binary()
        self.proc = None
        self.port = None
        self.returncode = None
        self.stopped_by = None  # "SIGTERM", "SIGKILL", or None when it exited itself
        self.stdout_path = self.dir / "server.stdout"
        self.stderr_path = self.dir / "server.stderr"

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def start(self, ready_timeout=10.0):
        if not os.path.exists(self.binary):
            raise ServerStartError("server binary %s does not exist (build it, or set RESPQ_SERVER)"
                                   % self.binary)
        last = ""
        for attempt in range(3):  # the free port may be taken in between: retry
            self.port = self._explicit_port() or free_port()
            argv = [self.binary]
            if self.config_file:
                argv.append(str(self.config_file))
            argv += ["--port", str(self.port), "--bind", HOST, "--dir", str(self.dir),
                     "--appendonly", "no"]
            argv += [str(a) for a in self.args]
            self.argv = argv
            with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
                self.proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                             cwd=str(self.dir))
            deadline = time.monotonic() + ready_timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    socket.create_connection((HOST, self.port), timeout=0.5).close()
                    return self
                except OSError:
                    time.sleep(0.02)
            if self.proc.poll() is None:
                self.kill()
                raise ServerStartError("server did not accept connections within %.0fs: %s\n%s"
                                       % (ready_timeout, argv, self.output()[-3000:]))
            self.returncode = self.proc.returncode
            last = self.output()[-3000:]
            if self._explicit_port():
                break
        raise ServerStartError("server exited with status %s at start-up: %s\n%s"
                               % (self.proc.returncode, self.argv, last))

    def _explicit_port(self):
        for i, a in enumerate(self.args):
            if a == "--port" and i + 1 < len(self.args):
                return int(self.args[i + 1])
        return None

    # -- clients --

    def raw(self, timeout=5.0):
        """A new RawConn to this server."""
        return RawConn(self.host, self.port, timeout=timeout)

    def client(self, **kw):
        """A redis-py client (redis.Redis) to this server."""
        import redis
        kw.setdefault("socket_timeout", 30)
        return redis.Redis(host=self.host, port=self.port, **kw)

    # -- stopping --

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout=10.0):
        """Waits for the process to exit by itself; returns its status or None."""
        try:
            self.returncode = self.proc.wait(timeout)
            return self.returncode
        except subprocess.TimeoutExpired:
            return None

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after timeout. Returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.stopped_by = "SIGTERM"
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self.returncode = self.proc.returncode
        return self.returncode

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.stopped_by = "SIGKILL"
            self.proc.kill()
            self.proc.wait()
        self.returncode = self.proc.returncode if self.proc else None

    def output(self):
        """Everything the server printed (stdout then stderr)."""
        text = ""
        for p in (self.stdout_path, self.stderr_path):
            if p.exists():
                text += p.read_bytes().decode("utf-8", "replace")
        return text

    def problems(self):
        """What makes this run unclean: a bad exit status or a sanitizer report."""
        out = []
        if self.stopped_by == "SIGKILL":
            out.append("server did not exit after SIGTERM and was killed")
        elif self.returncode not in (0, None):
            out.append("server exit status %s (expected 0)" % self.returncode)
        text = self.output()
        for m in SANITIZER_MARKERS:
            if m in text:
                i = text.index(m)
                out.append("sanitizer report in server output: %s" % text[max(0, i - 200):i + 2000])
                break
        return out
