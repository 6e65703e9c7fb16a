"""`loyalty-gateway serve` as a real process, for the tests that run it (test_serve_process, test_store_durability).

A Gateway is started in its own process group (session), so `kill()` SIGKILLs the parent and every worker it forked
at once; its worker PIDs are read from /proc, and `request()` can say which worker answered a call (the process
holding the server end of the connection). Every wait has a timeout and every process is killed by a fixture's
teardown: a hung gateway fails a test, never the suite."""
from __future__ import annotations

import http.client
import json as jsonlib
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import gateway

PY = sys.executable
PREFIX = "loyalty-gateway: error: "
SERVING = re.compile(rf"loyalty-gateway {re.escape(gateway.__version__)} serving (.+) on (http://127\.0\.0\.1:(\d+))"
                     rf"(?: \((\d+) workers\))?")
TIME = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
GB_BALANCE = "/api/v4.0/integrations/customers/user-123/balance"
GB = {"apikey": "demo-gameball-apikey", "secretkey": "demo-gameball-secretkey"}
TIMEOUT = 20


def clean_env(**variables: str) -> dict:
    """This environment without LOYALTY_GATEWAY_* and PYTHONUNBUFFERED (the gateway must flush by itself)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOYALTY_GATEWAY_") and k != "PYTHONUNBUFFERED"}
    env.update(variables)
    return env


# --- /proc ---------------------------------------------------------------------------------------------------------

def _stat(pid: int) -> list[str] | None:
    """/proc/<pid>/stat split after the command name (field 3, the state, is [0]); None when gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    return raw[raw.rindex(")") + 2:].split()


def alive(pid: int) -> bool:
    """Running (a zombie, dead but not yet reaped, is not)."""
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def children(pid: int) -> list[int]:
    """The live processes whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                found.append(int(entry))
    return sorted(found)


def cpu_ticks(pid: int) -> int:
    """utime + stime of `pid`, in clock ticks (0 when gone)."""
    fields = _stat(pid)
    return int(fields[11]) + int(fields[12]) if fields is not None else 0


def _socket_inodes(pid: int) -> set[int]:
    out = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                out.add(int(target[8:-1]))
    except (FileNotFoundError, PermissionError):
        pass
    return out


def _tcp_rows():
    """The fields of every row of the kernel's TCP socket tables (IPv4 and IPv6)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        yield from (line.split() for line in lines)


def _server_inode(server_port: int, client_port: int) -> int | None:
    """The inode of the server end of the TCP connection 127.0.0.1:client_port -> :server_port."""
    for f in _tcp_rows():
        local, remote, inode = f[1], f[2], int(f[9])
        if int(local.rsplit(":", 1)[1], 16) == server_port and int(remote.rsplit(":", 1)[1], 16) == client_port \
                and inode:
            return inode
    return None


def port_free(port: int) -> bool:
    """No socket of any process is bound to `port` (listening or not) on this machine."""
    for f in _tcp_rows():
        if int(f[1].rsplit(":", 1)[1], 16) == port and f[3] == "0A":      # 0A: LISTEN
            return False
    return True


def wait_until(predicate, timeout: float, what: str, every: float = 0.05):
    """Poll `predicate` until it returns something true; fail the test naming `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        got = predicate()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        time.sleep(every)


# --- a gateway process -----------------------------------------------------------------------------------------------

class Gateway:
    """A `serve` process in its own process group: the serving line read, stdout pumped into a queue line by line,
    stderr into a file."""

    def __init__(self, tmp_path: Path, *args: str, env: dict | None = None, command: list[str] | None = None):
        self._stderr = tmp_path / f"stderr-{id(self)}.txt"
        self._lines: queue.Queue = queue.Queue()
        with self._stderr.open("w") as err:
            self.proc = subprocess.Popen((command or [PY, "-m", "gateway"]) + ["serve", *args], cwd=tmp_path,
                                         env=env if env is not None else clean_env(), stdout=subprocess.PIPE,
                                         stderr=err, text=True, start_new_session=True)
        self.pid = self.proc.pid
        threading.Thread(target=self._pump, daemon=True).start()
        try:
            first = self.line()
            m = SERVING.fullmatch(first or "")
            assert m, f"unexpected first line {first!r}; stderr: {self.stderr()}"
        except BaseException:
            self.kill()
            raise
        self.tenants, self.url, self.port = m.group(1), m.group(2), int(m.group(3))
        self.worker_count = int(m.group(4)) if m.group(4) else None
        self._workers: list[int] | None = None

    def _pump(self) -> None:
        try:
            for line in self.proc.stdout:
                self._lines.put(line.rstrip("\n"))
        except (OSError, ValueError):      # closed by kill()
            pass
        self._lines.put(None)

    def line(self, timeout: float = TIMEOUT) -> str | None:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no line on stdout within {timeout}s; stderr: {self.stderr()}") from None

    def stderr(self) -> str:
        return self._stderr.read_text()

    # --- processes ---
    def workers(self) -> list[int]:
        """The worker PIDs (children of the parent) of a `--workers N` gateway, as forked at start."""
        if self._workers is None:
            self._workers = children(self.pid)
        return list(self._workers)

    # --- HTTP ---
    def get(self, path: str, headers: dict | None = None) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def post(self, path: str, body=None, headers: dict | None = None, method: str = "POST") -> tuple[int, object]:
        """One call (a fresh connection): a dict/list body goes as JSON, bytes/str as they are; the answer's JSON
        decoded (its text when it is not JSON)."""
        status, raw, _ = self.request(method, path, body, headers)
        try:
            return status, jsonlib.loads(raw)
        except ValueError:
            return status, raw.decode()

    def request(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, bytes, int | None]:
        """One call on a fresh connection: (status, raw body, the PID of the process that answered it: a worker
        of a `--workers N` gateway, or the gateway itself)."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = jsonlib.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        elif isinstance(body, str):
            body = body.encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=TIMEOUT)
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
            # the server end of a keep-alive connection is still open: find the process holding it
            inode = _server_inode(self.port, conn.sock.getsockname()[1]) if conn.sock is not None else None
            who = None
            if inode is not None:
                for pid in (self.workers() or [self.pid]):
                    if inode in _socket_inodes(pid):
                        who = pid
                        break
            return resp.status, raw, who
        finally:
            conn.close()

    def on_each_worker(self, method: str, path: str, body=None, headers: dict | None = None,
                       tries: int = 64) -> dict[int, tuple[int, object]]:
        """The same (read-only!) call on fresh connections until every worker has answered it at least once:
        {worker pid: (status, decoded answer)} (the last answer of each). Fails if some worker never answers."""
        expected = set(self.workers() or [self.pid])
        answers: dict[int, tuple[int, object]] = {}
        for _ in range(tries):
            status, raw, who = self.request(method, path, body, headers)
            try:
                decoded = jsonlib.loads(raw)
            except ValueError:
                decoded = raw.decode()
            answers[who] = (status, decoded)
            if expected <= set(answers):
                break
        assert set(answers) == expected, (f"{method} {path}: answered by {sorted(map(str, answers))} in {tries} "
                                          f"fresh connections, not by each of {sorted(expected)}")
        return answers

    def pinned(self, tries: int = 64) -> dict[int, "Pinned"]:
        """One open keep-alive connection to each worker: {worker pid: Pinned}. A keep-alive connection stays
        with the worker that accepted it, so every call on it is answered by that worker. Close them after."""
        expected = set(self.workers() or [self.pid])
        out: dict[int, Pinned] = {}
        for _ in range(tries):
            conn = Pinned(self.port)
            status, _ = conn.call("GET", "/__admin/health")
            assert status == 200
            inode = _server_inode(self.port, conn.sock.getsockname()[1])
            who = next((pid for pid in expected if inode in _socket_inodes(pid)), None)
            if who is None or who in out:
                conn.close()
            else:
                out[who] = conn
            if set(out) == expected:
                return out
        for conn in out.values():
            conn.close()
        raise AssertionError(f"no connection to each of the workers {sorted(expected)} in {tries} tries")

    def connections_by_worker(self) -> dict[int, int]:
        """How many TCP connections to the port each worker (or the gateway) holds open right now."""
        established = set()
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                lines = Path(table).read_text().splitlines()[1:]
            except FileNotFoundError:
                continue
            for line in lines:
                f = line.split()
                if int(f[1].rsplit(":", 1)[1], 16) == self.port and f[3] == "01":     # 01: ESTABLISHED
                    established.add(int(f[9]))
        return {pid: len(_socket_inodes(pid) & established) for pid in (self.workers() or [self.pid])}

    # --- stopping ---
    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, list[str]]:
        """Signal, wait, and return (exit status, the stdout lines written after the ones already read)."""
        self.proc.send_signal(sig)
        code = self.proc.wait(TIMEOUT)
        rest = []
        while (line := self.line()) is not None:
            rest.append(line)
        return code, rest

    def kill(self) -> None:
        """SIGKILL the whole process group (parent and workers) and reap the parent. Idempotent."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(TIMEOUT)
        if self.proc.stdout is not None and not self.proc.stdout.closed:
            try:
                self.proc.stdout.close()
            except OSError:
                pass


class Pinned(http.client.HTTPConnection):
    """A keep-alive connection to a gateway: `call()` answers (status, decoded body)."""

    def __init__(self, port: int):
        super().__init__("127.0.0.1", port, timeout=TIMEOUT)
        self.connect()

    def call(self, method: str, path: str, body=None, headers: dict | None = None) -> tuple[int, object]:
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = jsonlib.dumps(body).encode()
            headers.setdefault("Content-Type", "application/json")
        self.request(method, path, body=body, headers=headers)
        resp = self.getresponse()
        raw = resp.read()
        try:
            return resp.status, jsonlib.loads(raw)
        except ValueError:
            return resp.status, raw.decode()


class Refusal:
    """A `serve` that must not start, started at once (several may run side by side); `lines()` waits for it:
    exit 2, nothing on stdout, stderr only `loyalty-gateway: error:` lines and no traceback."""

    def __init__(self, tmp_path: Path, *args: str, env: dict | None = None):
        self.started = time.monotonic()
        self.elapsed: float | None = None       # start to exit (at most: measured when `lines()` saw the exit)
        self.proc = subprocess.Popen([PY, "-m", "gateway", "serve", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=env if env is not None else clean_env(), start_new_session=True)
        self._out: tuple[int, str, str] | None = None

    def lines(self) -> list[str]:
        """The messages, without the prefix."""
        if self._out is None:
            try:
                stdout, stderr = self.proc.communicate(timeout=TIMEOUT)
            finally:
                self.kill()
            self.elapsed = time.monotonic() - self.started
            self._out = (self.proc.returncode, stdout, stderr)
        code, stdout, stderr = self._out
        assert "Traceback" not in stderr, stderr
        assert (code, stdout) == (2, ""), (code, stdout, stderr)
        lines = stderr.splitlines()
        assert lines and all(line.startswith(PREFIX) for line in lines), stderr
        return [line.removeprefix(PREFIX) for line in lines]

    def kill(self) -> None:
        """It started after all, or hung: never left behind."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.communicate(timeout=TIMEOUT)


def fails(tmp_path: Path, *args: str, env: dict | None = None) -> list[str]:
    """A `serve` that must not start: exit 2, nothing on stdout, stderr only `loyalty-gateway: error:` lines
    and no traceback. Returns the messages."""
    return Refusal(tmp_path, *args, env=env).lines()


def assert_clean_stop(g: Gateway, sig: int = signal.SIGTERM) -> list[str]:
    code, rest = g.stop(sig)
    assert code == 0
    assert g.stderr() == ""       # no traceback, no "Task was destroyed", nothing
    return rest

