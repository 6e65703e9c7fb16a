"""`serve --workers N`: N processes answering one port (SO_REUSEPORT: the kernel spreads connections over them),
each with its own copy of the tenants, all over one shared store file (store/sqlite).

The parent reserves the port, forks the workers (no store connection or event loop crosses the fork), prints the
serving line once every worker is listening, forwards SIGINT/SIGTERM to them, and stops them all if one dies. A
worker whose parent is gone (killed with SIGKILL) stops by itself: it holds the read end of a pipe only the parent
writes to, and its end-of-file means the parent is dead; no orphan keeps serving the port."""
from __future__ import annotations

import os
import select
import signal
import socket
import sys
import threading
from typing import Callable


def supported() -> bool:
    return hasattr(socket, "SO_REUSEPORT") and hasattr(os, "fork")


def _reserve(host: str, port: int) -> socket.socket:
    """A bound, not listening, SO_REUSEPORT socket: the port is ours (port 0: a free one) and the workers'
    sockets share it; it receives no connection itself."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, port))
    return s


def _watch_parent(lifeline: int) -> None:
    """In a worker: SIGTERM itself (a clean stop) once the parent's end of `lifeline` is closed."""
    def wait() -> None:
        while True:
            try:
                if not os.read(lifeline, 1):
                    break
            except InterruptedError:
                continue
            except OSError:
                break
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=wait, name="parent-watch", daemon=True).start()


def serve(n: int, host: str, port: int, start: Callable[[int, Callable[[], None]], int],
          announce: Callable[[int], None], fail: Callable[[list[str]], int]) -> int:
    """Run `start(port, ready)` in n forked workers; `ready()` is what a worker calls once it listens;
    `announce(port)` prints the serving line once all of them do; `fail(lines)` reports a start-up problem."""
    try:
        reserved = _reserve(host, port)
    except OSError as exc:
        return fail([f"cannot listen on {host}:{port}: {exc.strerror or exc}"])
    port = reserved.getsockname()[1]
    read_end, write_end = os.pipe()
    life_read, life_write = os.pipe()       # never written: closed when the parent dies
    children: list[int] = []
    sys.stdout.flush()
    sys.stderr.flush()
    for _ in range(n):
        pid = os.fork()
        if pid == 0:                                   # a worker
            os.close(read_end)
            os.close(life_write)
            reserved.close()
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            _watch_parent(life_read)
            code = 1
            try:
                code = start(port, lambda: os.write(write_end, b"r"))
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        children.append(pid)
    os.close(write_end)
    os.close(life_read)
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True
        for pid in children:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    ready = 0       # no deadline: loading a large store takes as long as it takes; a worker that fails ends
    while ready < n and not stopping:
        r, _, _ = select.select([read_end], [], [], 0.5)
        if r:
            got = os.read(read_end, n)
            if not got:          # every worker closed the pipe: they all failed to start
                break
            ready += len(got)
        elif any(os.waitpid(pid, os.WNOHANG)[0] for pid in children):
            break
    if ready == n:
        announce(port)
    else:
        stop(None, None)
    code = 0
    alive = set(children)
    while alive:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        alive.discard(pid)
        exit_code = os.waitstatus_to_exitcode(status)
        if not stopping:                 # a worker died on its own: the others stop too
            how = f"signal {-exit_code}" if exit_code < 0 else f"status {exit_code}"
            print(f"loyalty-gateway: error: worker {pid} ended ({how}); stopping the others", file=sys.stderr,
                  flush=True)
            stop(None, None)
            code = exit_code if exit_code > 0 else 1
        elif exit_code not in (0, -signal.SIGTERM) and code == 0:
            code = exit_code if exit_code > 0 else 1
    reserved.close()
    os.close(life_write)
    if ready < n and code == 0:
        code = 2
    return code
