"""Loaded by every Python process of a grading kernel in the sandbox's fallback mode (no namespaces).

``sandbox.py`` puts this folder first on ``PYTHONPATH`` and the paths to hide in
``ASCEND_LAB_HIDDEN_PATHS``; Python imports ``sitecustomize`` at start-up, so the audit hook below
is in place before any learner code runs, in the kernel and in its Python children (``torchrun``).

An audit hook (PEP 578) cannot be removed once added. It refuses:

* opening, listing, renaming or linking paths under the hidden folders (the course's source
  notebooks with hidden tests, the gradebook, other submissions, the repository's ``solutions/``);
* connecting or sending to any address but loopback (``torchrun`` over 127.0.0.1 keeps working).

What it cannot stop: code that does not go through Python's audited functions - ``ctypes``
calls into libc, or a non-Python program started with ``subprocess`` (``cat``, ``curl``). That
is why the namespace sandbox is the default wherever Linux allows it.
"""

import json
import os
import sys

_HIDDEN = tuple(os.path.realpath(p) for p in json.loads(os.environ.get("ASCEND_LAB_HIDDEN_PATHS", "[]")))
_PATH_EVENTS = {"open": 0, "os.listdir": 0, "os.scandir": 0, "os.chdir": 0, "os.rename": 0, "os.remove": 0,
                "os.rmdir": 0, "os.mkdir": 0, "os.link": 0, "os.symlink": 0, "os.truncate": 0, "os.chmod": 0,
                "os.chown": 0, "os.utime": 0, "shutil.copyfile": 0, "shutil.copytree": 0, "shutil.rmtree": 0,
                "sqlite3.connect": 0, "os.exec": 0, "os.posix_spawn": 0, "os.startfile": 0}
_SECOND_PATH = {"os.rename", "os.link", "os.symlink", "shutil.copyfile", "shutil.copytree"}
_LOOPBACK = ("127.", "::1", "localhost", "0:0:0:0:0:0:0:1")


def _hidden(path) -> bool:
    if isinstance(path, int) or path is None:
        return False
    try:
        real = os.path.realpath(os.fsdecode(path))
    except (TypeError, ValueError):
        return False
    return any(real == h or real.startswith(h + os.sep) for h in _HIDDEN)


def _remote(address) -> bool:
    if not isinstance(address, tuple) or not address:
        return False  # AF_UNIX paths are checked like files below
    host = str(address[0])
    return not (host.startswith(_LOOPBACK) or host in ("", "0.0.0.0"))


def _audit(event, args):
    if event in _PATH_EVENTS:
        candidates = [args[0]] if args else []
        if event in _SECOND_PATH and len(args) > 1:
            candidates.append(args[1])
        if event in ("os.exec", "os.posix_spawn") and len(args) > 1:
            candidates += list(args[1] or [])
        if any(_hidden(c) for c in candidates):
            raise PermissionError(f"the grading sandbox hides this path from submissions ({event})")
    elif event in ("socket.connect", "socket.sendto", "socket.sendmsg") and len(args) > 1:
        address = args[1]
        if _remote(address):
            raise PermissionError("the grading sandbox allows network connections to loopback only")
        if isinstance(address, (str, bytes)) and _hidden(address):
            raise PermissionError("the grading sandbox hides this socket from submissions")


if _HIDDEN or os.environ.get("ASCEND_LAB_SANDBOX") == "rlimits":
    sys.addaudithook(_audit)
