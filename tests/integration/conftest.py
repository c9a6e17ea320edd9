"""Fixtures for respq's integration tests.

`server`: a respq-server started for this test alone, on a free port, with the
test's temp dir as `dir` and `appendonly no`. It has host, port, pid, dir,
`raw()` (a RawConn), `client()` (redis-py), and `spawn(*args, config_file=None)`
to start more servers with extra arguments (each in its own subdirectory, each
stopped and checked at the end like the first).

At teardown every server still running gets SIGTERM (SIGKILL after 10 s); the test
then errors if a server's exit status was not 0 or its output holds a sanitizer
report ("ERROR: AddressSanitizer", "runtime error:", ...). Its output is in
<tmp>/server.stderr (and server.stdout).

Run with Debian's Python: /usr/bin/python3 -m pytest tests/integration
The binary is $RESPQ_SERVER or <repo>/src/respq-server.
"""

import itertools

import pytest

from respq_testlib import Server, ServerStartError


class ServerHandle:
    """The first server of a test plus a way to start more."""

    def __init__(self, tmp_path):
        self._tmp = tmp_path
        self._count = itertools.count(1)
        self.servers = []
        self.main = None

    def spawn(self, *args, config_file=None):
        """Starts another server with extra command-line arguments; returns it."""
        sub = self._tmp / ("server%d" % next(self._count))
        srv = Server(sub, args=args, config_file=config_file)
        self.servers.append(srv)
        try:
            srv.start()
        except ServerStartError as e:
            pytest.fail(str(e), pytrace=False)
        return srv

    # The first server's attributes, so tests can write server.port etc.
    def __getattr__(self, name):
        if name == "main" or self.main is None:
            raise AttributeError(name)
        return getattr(self.main, name)


@pytest.fixture
def server(tmp_path):
    handle = ServerHandle(tmp_path)
    handle.main = handle.spawn()
    yield handle
    problems = []
    for srv in handle.servers:
        srv.stop()
        for p in srv.problems():
            problems.append("server on port %s: %s" % (srv.port, p))
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def raw(server):
    """A raw connection to the test's server, closed at the end."""
    conn = server.raw()
    yield conn
    conn.close()


@pytest.fixture
def r(server):
    """A redis-py client to the test's server."""
    client = server.client()
    yield client
    client.close()
