#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""A zygote for the Python peers of the shell suites.

  pyzygote.py SOCKET MODULE...

Imports each MODULE (from PYTHONPATH) once, with what its preload()
imports, then serves runs on the Unix socket SOCKET (a file: it is
reachable from every network namespace).  pyzygote-run
(selftests/lib/pyzygote_run.c) asks for one: MODULE ARGS..., its working
directory, and its stdin, stdout, stderr and network namespace.  A child
forked from the zygote enters that namespace, takes those descriptors
and directory, and runs MODULE.main() with sys.argv = [MODULE, ARGS...];
its exit status (128 + N for signal N) goes back to pyzygote-run, which
exits with it.  The signals pyzygote-run receives are passed on to the
child; a pyzygote-run that goes away (SIGKILL) takes its child with it.

Why: python3 with python3-cryptography takes one to two seconds to start
under TCG and several on the debug kernel, and the suites start a peer
a few times per case; a fork of a warm interpreter takes a fraction.
The zygote prints "ready" once it listens.
"""

import array
import ctypes
import importlib
import os
import select
import signal
import socket
import struct
import sys
import traceback

CLONE_NEWNET = 0x40000000
NFDS = 4		# stdin, stdout, stderr, network namespace
STATUS = struct.Struct("i")

libc = ctypes.CDLL(None, use_errno=True)


def recv_request(conn):
    """The words (cwd, module, args) and the descriptors of a request."""
    fds = array.array("i")
    msg, anc, flags, _ = conn.recvmsg(
        1 << 16, socket.CMSG_SPACE(NFDS * fds.itemsize))
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
    words = msg.split(b"\0")
    if (flags & (socket.MSG_TRUNC | socket.MSG_CTRUNC) or len(fds) != NFDS
            or len(words) < 2):
        for fd in fds:
            os.close(fd)
        raise ValueError("malformed request")
    return [w.decode("utf-8", "surrogateescape") for w in words], list(fds)


def exit_code(code):
    """What sys.exit(code) makes a process exit with."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xff
    print(code, file=sys.stderr)
    return 1


def run_child(mod, words, fds, others):
    """In the forked child: run mod.main() as pyzygote-run's process would
    have.  Never returns."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)	# not the zygote's
    code = 1
    try:
        for fd in others:
            os.close(fd)
        if libc.setns(fds[3], CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "setns: " + os.strerror(err))
        for i in range(3):
            os.dup2(fds[i], i)
        for fd in fds:
            os.close(fd)
        os.chdir(words[0])
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False, buffering=1,
                          errors="backslashreplace")
        sys.argv = [mod.__file__] + words[2:]
        code = exit_code(mod.main())
    except SystemExit as e:
        code = exit_code(e.code)
    except BaseException:	# as python3 would: the traceback, status 1
        traceback.print_exc()
        code = 1
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except Exception:
            pass
    os._exit(code)


def serve(path, modules):
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    srv.bind(path)
    srv.listen(128)
    kids = {}		# connection -> (pid, pidfd)
    pidfds = {}		# pidfd -> (pid, connection or None)
    # Stopped (the suite's cleanup), it takes the running children along.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    print("ready", flush=True)
    try:
        loop(srv, modules, kids, pidfds)
    finally:
        for pfd in pidfds:
            signal.pidfd_send_signal(pfd, signal.SIGKILL)


def loop(srv, modules, kids, pidfds):
    while True:
        for x in select.select([srv] + list(kids) + list(pidfds), [], [])[0]:
            if x is srv:
                conn = srv.accept()[0]
                try:
                    words, fds = recv_request(conn)
                except (OSError, ValueError):
                    conn.close()
                    continue
                mod = modules.get(words[1])
                if mod is None:
                    os.write(fds[2], b"pyzygote: no module %s here\n"
                             % words[1].encode())
                    for fd in fds:
                        os.close(fd)
                    conn.send(STATUS.pack(127))
                    conn.close()
                    continue
                others = [srv.fileno(), conn.fileno()]
                others += [c.fileno() for c in kids] + list(pidfds)
                pid = os.fork()
                if pid == 0:
                    run_child(mod, words, fds, others)
                for fd in fds:
                    os.close(fd)
                pfd = os.pidfd_open(pid)
                kids[conn] = (pid, pfd)
                pidfds[pfd] = (pid, conn)
            elif x in kids:
                pid, pfd = kids[x]
                try:
                    data = x.recv(64)
                except OSError:
                    data = b""
                if len(data) == STATUS.size:
                    signal.pidfd_send_signal(pfd, STATUS.unpack(data)[0])
                    continue
                # pyzygote-run is gone: so is its child.
                signal.pidfd_send_signal(pfd, signal.SIGKILL)
                del kids[x]
                pidfds[pfd] = (pid, None)
                x.close()
            elif x in pidfds:
                pid, conn = pidfds.pop(x)
                os.close(x)
                code = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
                if conn is None:
                    continue
                del kids[conn]
                try:
                    conn.send(STATUS.pack(code if code >= 0 else 128 - code))
                except OSError:
                    pass
                conn.close()


def main():
    if len(sys.argv) < 3:
        print("usage: pyzygote.py SOCKET MODULE...", file=sys.stderr)
        return 2
    modules = {}
    for name in sys.argv[2:]:
        mod = importlib.import_module(name)
        if hasattr(mod, "preload"):
            mod.preload()
        modules[name] = mod
    serve(sys.argv[1], modules)
    return 0


if __name__ == "__main__":
    sys.exit(main())
