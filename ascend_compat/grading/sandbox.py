"""Run untrusted code - a learner's grading kernel - in a sandbox made of plain Linux features.

The autograder starts every notebook's kernel through this launcher (``SandboxedKernelManager`` in
:mod:`.safe_execute` prefixes the kernel command with it)::

    python -I -S .../sandbox.py POLICY.json -- python -m ipykernel_launcher -f kernel.json

It is a script on purpose: it imports only the standard library (``-S`` skips site-packages), so
starting it costs milliseconds and nothing of the course is imported in the trusted process.

Two isolation levels, chosen by :func:`namespaces_available` (``isolation="auto"``):

``namespaces`` (Linux with unprivileged user namespaces; needs no root, no setuid helper)
    The kernel runs in new *user, mount, PID, network and IPC namespaces*:

    * **files** - a fresh root file system (``pivot_root`` onto a tmpfs) that holds only read-only
      bind mounts of the system (``/usr``, ``/etc``, ...), the Python installation and packages,
      the ``ascend_compat`` package and ``datasets/``; a writable *copy* of the notebook's folder;
      a small private ``/tmp``; a new ``/proc`` that shows only the sandbox's processes. The
      repository's ``solutions/`` and ``.git``, the nbgrader course (source notebooks with hidden
      tests, gradebook, other students' submissions) and the home directory are simply not there.
    * **network** - a network namespace with only a loopback interface (brought up), so
      ``torchrun`` with gloo on 127.0.0.1 works and nothing else is reachable. The kernel talks to
      nbgrader through Unix sockets (ZeroMQ ``ipc`` transport) in a private folder.
    * **privileges** - the kernel runs as an unprivileged user inside the namespace (uid 1000;
      mapped to ``nobody`` when the grader itself is root), without capabilities, so it cannot
      undo a mount; processes outside the sandbox are invisible, so it cannot signal the grader.
    * **limits** - see below; ``RLIMIT_NPROC`` is counted per user namespace, so a fork bomb
      exhausts only its own sandbox, not the user's other processes.

``rlimits`` (fallback: where user namespaces are blocked - Docker's default seccomp profile,
Ubuntu 24.04's AppArmor restriction - and on macOS)
    Resource limits and a working copy of the notebook folder as above, plus a Python audit hook
    (:mod:`.kernel_guard`) in the kernel and in Python child processes that refuses to open
    hidden paths and to connect anywhere but loopback. That stops a casual attempt, not a
    determined one: ``ctypes`` or a non-Python program (``cat``, ``curl``) is not audited, and
    ``RLIMIT_NPROC`` then counts all processes of the user (it is not applied to root at all).

Limits in both modes (``setrlimit``, inherited by every child): ``RLIMIT_DATA`` (memory: heap and
private writable mappings - not ``RLIMIT_AS``, which counts the address space torch reserves and
breaks it), ``RLIMIT_NPROC`` (processes *and threads*), ``RLIMIT_CPU`` (CPU seconds, a backstop),
``RLIMIT_FSIZE`` (largest file written), ``RLIMIT_CORE`` = 0; plus a wall-clock limit per kernel,
i.e. per notebook: the launcher kills the whole sandbox when it is exceeded. Memory limits are per
process: N processes may use N times the limit (no cgroup is needed, none is used).
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import platform
import resource
import shutil
import signal
import socket
import stat
import struct
import sys
import tempfile
import time

# --- Linux system calls (ctypes: Python 3.11 has no os.unshare / mount) ----------------------------

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND, MS_REC = 32, 1024, 2048, 4096, 16384
MS_PRIVATE, MS_RELATIME = 1 << 18, 1 << 21
MNT_DETACH = 2
PR_SET_PDEATHSIG = 1
SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203, "s390x": 217}

# statvfs flags -> the mount flags a bind remount must keep (a user namespace cannot drop them).
_KEPT_FLAGS = ((os.ST_NOSUID, MS_NOSUID), (os.ST_NODEV, MS_NODEV), (os.ST_NOEXEC, MS_NOEXEC),
               (os.ST_NOATIME, MS_NOATIME), (os.ST_NODIRATIME, MS_NODIRATIME), (os.ST_RELATIME, MS_RELATIME))

SANDBOX_UID = SANDBOX_GID = 1000  # who the kernel is inside the namespace
NOBODY = 65534                    # whom that maps to when the grader runs as root

_libc = ctypes.CDLL(None, use_errno=True)


def _call(what: str, result: int) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _unshare(flags: int) -> None:
    _call("unshare", _libc.unshare(ctypes.c_int(flags)))


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = (lambda s: None if s is None else s.encode())
    _call(f"mount {target}", _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)))


def _pivot_root(new_root: str, put_old: str) -> None:
    number = SYS_PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(errno.ENOSYS, f"pivot_root: unknown system call number on {platform.machine()}")
    _call("pivot_root", _libc.syscall(ctypes.c_long(number), new_root.encode(), put_old.encode()))


def _die_with_parent() -> None:
    if hasattr(_libc, "prctl"):  # Linux; elsewhere the launcher's orphan check (_wait) does it
        _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _loopback_up() -> None:
    """``ip link set lo up`` in the new network namespace (SIOCGIFFLAGS / SIOCSIFFLAGS)."""
    import fcntl

    siocgifflags, siocsifflags, iff_up = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH22x", b"lo", 0)
        flags = struct.unpack("16sH22x", fcntl.ioctl(sock, siocgifflags, request))[1]
        fcntl.ioctl(sock, siocsifflags, struct.pack("16sH22x", b"lo", flags | iff_up))


# --- the policy ----------------------------------------------------------------------------------

DEFAULT_LIMITS = {
    "memory_bytes": 4 << 30,      # RLIMIT_DATA per process
    "processes": 256,             # RLIMIT_NPROC: processes + threads in the sandbox
    "cpu_seconds": 1800,          # RLIMIT_CPU per process (the wall clock below usually wins)
    "wall_seconds": 900.0,        # the kernel's lifetime: one notebook
    "file_bytes": 1 << 30,        # RLIMIT_FSIZE
    "tmp_bytes": 512 << 20,       # size of the private /tmp and /dev/shm (tmpfs counts as memory)
    "open_files": 4096,           # RLIMIT_NOFILE
    "workdir_bytes": 256 << 20,   # the notebook folder copied into the sandbox
}

SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/sys")

# Environment variables a kernel may keep (names or prefixes); the rest (tokens, keys, proxies) go.
KEPT_ENV_NAMES = {"PATH", "LANG", "LANGUAGE", "TZ", "TERM", "PYTHONHASHSEED", "PYTHONIOENCODING",
                  "PYTHONUNBUFFERED", "PYTHONWARNINGS", "PYTHONPATH", "MPLBACKEND", "CUDA_VISIBLE_DEVICES",
                  "LD_LIBRARY_PATH", "TOOLCHAIN_HOME"}  # the last two: CANN's set_env.sh on an Ascend machine
KEPT_ENV_PREFIXES = ("LC_", "ASCEND_", "TORCH", "OMP_", "MKL_", "OPENBLAS_", "KMP_", "GLOO_", "NBGRADER_")
# Not JPY_PARENT_PID: the kernel's parent is the sandbox, and ipykernel would exit when it sees a
# different parent. The sandbox dies with the grader instead (PR_SET_PDEATHSIG).


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def visible_mounts(visible: list[str], hidden: list[str]) -> list[str]:
    """The paths to bind into the sandbox: ``visible`` minus anything under a ``hidden`` path.

    A visible folder that *contains* a hidden one (the repository root containing ``solutions/``)
    is replaced by its children, recursively, so the hidden one is left out. A symlink (``/lib ->
    usr/lib``) is kept as a symlink and its target becomes visible too. Folders are real paths,
    without duplicates or paths already covered by another.
    """
    hidden = sorted({os.path.realpath(h) for h in hidden})
    links, folders = set(), []
    todo = [os.path.abspath(p) for p in visible if p and os.path.lexists(p)]
    while todo:
        path = todo.pop(0)
        if os.path.islink(path):
            target = os.path.realpath(path)
            if not any(_under(target, h) for h in hidden):
                links.add(os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path)))
                todo.append(target)
            continue
        path = os.path.realpath(path)
        if not os.path.exists(path) or any(_under(path, h) for h in hidden):
            continue
        if any(_under(h, path) for h in hidden) and os.path.isdir(path):
            todo[:0] = [os.path.join(path, name) for name in sorted(os.listdir(path))]
            continue
        folders.append(path)
    folders = sorted(set(folders))
    folders = [p for p in folders if not any(_under(p, q) and p != q for q in folders)]
    links = [p for p in sorted(links) if not any(_under(p, q) for q in folders)]
    return folders + links


def python_paths() -> list[str]:
    """Where this Python and its packages live (what a kernel needs to import anything).

    Only the installation prefixes and package folders of ``sys.path``: a script's folder or the
    current directory on ``sys.path`` (a course directory, /tmp) must not become visible.
    """
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    paths = set(prefixes)
    for entry in sys.path:
        if not entry or not os.path.isabs(entry) or not os.path.exists(entry):
            continue
        name = os.path.basename(entry.rstrip("/"))
        if any(_under(entry, p) for p in prefixes) or name in ("site-packages", "dist-packages") \
                or name.endswith((".zip", ".egg")):
            paths.add(entry)
    return sorted(paths)


def namespaces_available() -> bool:
    """Can this process create the sandbox's namespaces? (tried in a throw-away child)."""
    if sys.platform != "linux":
        return False
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            _unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC)
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


# --- the launcher --------------------------------------------------------------------------------

def _copy_workdir(source: str, target: str, budget: int, owner: int | None) -> None:
    """Copy regular files and folders only (a submitted symlink to /etc or to the course is dropped)."""
    os.makedirs(target, exist_ok=True)
    used = 0
    for folder, dirs, files in os.walk(source, followlinks=False):
        relative = os.path.relpath(folder, source)
        destination = os.path.normpath(os.path.join(target, relative))
        os.makedirs(destination, exist_ok=True)
        dirs[:] = [d for d in dirs if not os.path.islink(os.path.join(folder, d))]
        for name in files:
            path = os.path.join(folder, name)
            info = os.lstat(path)
            if not stat.S_ISREG(info.st_mode) or used + info.st_size > budget:
                continue
            used += info.st_size
            shutil.copyfile(path, os.path.join(destination, name), follow_symlinks=False)
    if owner is not None:
        for folder, dirs, files in os.walk(target):
            os.chown(folder, owner, owner)
            for name in files:
                os.chown(os.path.join(folder, name), owner, owner)


def _kernel_environment(policy: dict, home: str) -> dict:
    env = {key: value for key, value in os.environ.items()
           if key in KEPT_ENV_NAMES or key.startswith(KEPT_ENV_PREFIXES)}
    env.update({
        "HOME": home, "TMPDIR": "/tmp" if policy["isolation"] == "namespaces" else os.path.dirname(home),
        "ASCEND_LAB_HOME": os.path.join(home, ".ascend_lab"),  # check() records nothing for the learner
        "MPLCONFIGDIR": os.path.join(home, ".matplotlib"), "IPYTHONDIR": os.path.join(home, ".ipython"),
        "XDG_CACHE_HOME": os.path.join(home, ".cache"), "JUPYTER_RUNTIME_DIR": os.path.join(home, ".jupyter-runtime"),
        "ASCEND_LAB_SANDBOX": policy["isolation"],
    })
    if policy["isolation"] == "namespaces":
        env["GLOO_SOCKET_IFNAME"] = "lo"  # gloo would pick the host name's address, which is not here
    for name in policy.get("env_remove", []):
        env.pop(name, None)
    env.update(policy.get("env", {}))
    return env


def _set_limits(limits: dict, nproc_offset: int = 0) -> None:
    def cap(kind, value):
        if value is None:
            return
        soft, hard = resource.getrlimit(kind)
        value = int(value) if hard == resource.RLIM_INFINITY else min(int(value), hard)
        resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_DATA, limits["memory_bytes"])
    cap(resource.RLIMIT_CPU, limits["cpu_seconds"])
    cap(resource.RLIMIT_FSIZE, limits["file_bytes"])
    cap(resource.RLIMIT_NOFILE, limits["open_files"])
    cap(resource.RLIMIT_CORE, 0)
    if limits["processes"] is not None:
        cap(resource.RLIMIT_NPROC, limits["processes"] + nproc_offset)


def _bind(source: str, root: str, writable: bool = False) -> None:
    target = root + source
    if os.path.islink(source):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.lexists(target):
            os.symlink(os.readlink(source), target)
        return
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)
        if not os.path.exists(target):
            open(target, "w").close()
    _mount(source, target, None, MS_BIND | MS_REC)
    if not writable:
        kept = os.statvfs(source).f_flag
        flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID
        flags |= sum(ms for st, ms in _KEPT_FLAGS if kept & st)
        _mount(None, target, None, flags)


def _accelerator_devices() -> list[str]:
    """NPU (Ascend driver: davinci*, davinci_manager, devmm_svm, hisi_hdc) and GPU device nodes, if any.

    On a real Ascend machine torch_npu in the kernel needs them; CANN itself lives under /usr/local.
    """
    names = []
    for name in sorted(os.listdir("/dev")):
        if name.startswith(("davinci", "nvidia")) or name in ("devmm_svm", "hisi_hdc", "svm0"):
            names.append(name)
    return names


def _build_root(policy: dict, root: str, workdir: str, cwd: str) -> None:
    """The sandbox's file system, assembled in ``root`` (a fresh tmpfs) before pivot_root."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks back to the host
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m")
    tmp_size = f"size={policy['limits']['tmp_bytes']}"
    os.makedirs(root + "/tmp")
    _mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,{tmp_size}")
    os.makedirs(root + "/dev")
    _mount("tmpfs", root + "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=1m")
    for device in ("null", "zero", "full", "random", "urandom", "tty", *_accelerator_devices()):
        if os.path.exists("/dev/" + device):
            open(root + "/dev/" + device, "w").close()
            try:
                _mount("/dev/" + device, root + "/dev/" + device, None, MS_BIND)
            except OSError:
                os.unlink(root + "/dev/" + device)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                         ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
        os.symlink(target, root + "/dev/" + name)
    os.makedirs(root + "/dev/shm")
    _mount("tmpfs", root + "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,{tmp_size}")
    # Read-only system and Python, then the private read-write folders (some live under /tmp).
    for path in policy["mounts"]:
        _bind(path, root)
    for path in policy.get("writable", []):
        _bind(path, root, writable=True)
    os.makedirs(root + cwd, exist_ok=True)
    _mount(workdir, root + cwd, None, MS_BIND | MS_REC)
    _mount(None, root + cwd, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV)
    os.makedirs(root + "/proc", exist_ok=True)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(root + "/.old-root")
    _pivot_root(root, root + "/.old-root")
    os.chdir("/")
    _mount(None, "/.old-root", None, MS_REC | MS_PRIVATE)
    _call("umount /.old-root", _libc.umount2(b"/.old-root", ctypes.c_int(MNT_DETACH)))
    os.rmdir("/.old-root")


def _reap_until(child: int) -> int:
    """PID 1 of the sandbox: reap every orphan; return when ``child`` (the kernel) has exited."""
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 1
        except InterruptedError:
            continue
        if pid == child:
            return _exit_code(status)


def _forward_signals(kernel: int) -> None:
    """PID 1 passes the kernel manager's interrupt (and terminate) on to the kernel's process group.

    PID 1 of a namespace only receives signals it handles, so these handlers are also what lets
    the kernel manager's SIGINT through at all.
    """
    def forward(number, _frame):
        try:
            os.killpg(kernel, number)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGINT, forward)
    signal.signal(signal.SIGTERM, forward)


def _exit_code(status: int) -> int:
    """A wait status as a shell would report it: the exit code, or 128 + the signal that killed it."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status)


def _exec_kernel(command: list[str], env: dict, log: str | None = None) -> None:
    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD):
        signal.signal(number, signal.SIG_DFL)
    if log:
        # A kernel must not hold the grader's stdout/stderr pipes: a process it leaves behind would
        # keep them open and the grader would wait for it. Its own output (start-up errors) goes to a log.
        target = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(target, 1)
        os.dup2(target, 2)
        os.close(target)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
    try:
        os.execve(command[0], command, env)
    except OSError as exc:
        print(f"sandbox: cannot start {command[0]}: {exc}", file=sys.stderr)
        os._exit(127)


def _namespaced(policy: dict, command: list[str], workdir: str, cwd: str, scratch: str) -> int:
    """Fork the sandbox; this process stays outside to write its user mapping and keep the time."""
    ready_r, ready_w = os.pipe()
    go_r, go_w = os.pipe()
    root_dir = os.path.join(scratch, "root")
    os.makedirs(root_dir)
    as_root = os.geteuid() == 0
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child (covered by the sandbox tests)
        try:
            os.close(ready_r)
            os.close(go_w)
            _die_with_parent()
            _unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
            _die_with_parent()
            os.write(ready_w, b"1")
            if os.read(go_r, 1) != b"1":
                os._exit(126)
            init = os.fork()  # the first child in the new PID namespace is its PID 1
            if init:
                _, status = os.waitpid(init, 0)
                os._exit(_exit_code(status))
            _die_with_parent()
            _libc.sethostname(b"grader", 6)
            # Mount while still the launching user: bind sources are looked up with its permissions.
            _build_root(policy, root_dir, workdir, cwd)
            _loopback_up()
            if as_root:
                os.setgroups([])
            os.setresgid(SANDBOX_GID, SANDBOX_GID, SANDBOX_GID)
            os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
            _die_with_parent()  # again: changing the effective uid clears the parent-death signal
            os.chdir(cwd)
            home = "/tmp/home"
            os.makedirs(home, exist_ok=True)
            env = _kernel_environment(policy, home)
            _set_limits(policy["limits"])
            kernel = os.fork()
            if kernel == 0:
                os.setpgid(0, 0)  # its own process group: killpg(0) cannot reach the launcher
                _exec_kernel(command, env, policy.get("log"))  # execve as uid 1000 drops every capability
            _forward_signals(kernel)
            os._exit(_reap_until(kernel))
        except BaseException as exc:  # noqa: BLE001 - report any set-up failure, then exit
            try:
                print(f"sandbox: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            finally:
                os._exit(125)
    os.close(ready_w)
    os.close(go_r)
    if os.read(ready_r, 1) != b"1":
        os.waitpid(child, 0)
        raise OSError("sandbox: the child could not create its namespaces")
    if as_root:
        # Root keeps itself as the namespace's root for setting up (files it creates need a mapped
        # owner); the kernel becomes uid 1000 there, which is `nobody` outside.
        uid_map, gid_map = f"0 0 1\n{SANDBOX_UID} {NOBODY} 1\n", f"0 0 1\n{SANDBOX_GID} {NOBODY} 1\n"
    else:
        # An unprivileged user may map exactly one id: its own.
        uid_map, gid_map = f"{SANDBOX_UID} {os.geteuid()} 1\n", f"{SANDBOX_GID} {os.getegid()} 1\n"
        with open(f"/proc/{child}/setgroups", "w") as handle:
            handle.write("deny")
    with open(f"/proc/{child}/uid_map", "w") as handle:
        handle.write(uid_map)
    with open(f"/proc/{child}/gid_map", "w") as handle:
        handle.write(gid_map)
    os.write(go_w, b"1")
    return _wait(child, policy["limits"]["wall_seconds"])


def _plain(policy: dict, command: list[str], cwd: str, scratch: str) -> int:
    """Fallback without namespaces: limits, a private working copy, the audit hook."""
    home = os.path.join(scratch, "home")
    os.makedirs(home)
    env = _kernel_environment(policy, home)
    guard_dir = policy.get("guard_dir")
    if guard_dir:  # sitecustomize.py there installs kernel_guard's audit hook in every Python process
        env["PYTHONPATH"] = os.pathsep.join(p for p in (guard_dir, env.get("PYTHONPATH")) if p)
        env["ASCEND_LAB_HIDDEN_PATHS"] = json.dumps(policy.get("hidden", []))
    offset = 0
    if os.geteuid() != 0:  # RLIMIT_NPROC counts every process of this user here: leave room for them
        offset = sum(1 for entry in os.listdir("/proc") if entry.isdigit()
                     and _owner(f"/proc/{entry}") == os.geteuid()) * 4
    child = os.fork()
    if child == 0:  # pragma: no cover - child
        try:
            _die_with_parent()
            os.chdir(cwd)
            _set_limits(policy["limits"], nproc_offset=offset)
            _exec_kernel(command, env, policy.get("log"))
        except BaseException as exc:  # noqa: BLE001
            print(f"sandbox: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            os._exit(125)
    return _wait(child, policy["limits"]["wall_seconds"])


def _owner(path: str) -> int | None:
    try:
        return os.stat(path).st_uid
    except OSError:
        return None


def _wait(child: int, wall_seconds: float) -> int:
    """Wait for the sandbox; kill it (and, in namespace mode, everything in it) at the time limit,
    or as soon as the grader that started it is gone (nbgrader killed: no kernel may linger)."""
    deadline = time.monotonic() + wall_seconds
    grader = os.getppid()
    while True:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            return _exit_code(status)
        orphaned = os.getppid() != grader
        if orphaned or time.monotonic() > deadline:
            why = "the grader is gone" if orphaned else f"time limit of {wall_seconds:g} s for this notebook reached"
            print(f"sandbox: {why}; kernel killed", file=sys.stderr, flush=True)
            try:
                os.kill(child, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(child, 0)
            return 124  # as timeout(1) reports it
        time.sleep(0.05)


def _report(policy: dict, code: int) -> int:
    """A kernel that failed: the end of its own output, for the grader's log."""
    log = policy.get("log")
    if code not in (0, None) and log and os.path.isfile(log):
        with open(log, errors="replace") as handle:
            tail = handle.read()[-3000:].strip()
        if tail:
            print(f"sandbox: the kernel exited with status {code}; its last output:\n{tail}", file=sys.stderr, flush=True)
    return code


def _janitor(scratch: str) -> int:
    """Start a process that removes ``scratch`` once this launcher has ended, however it ends.

    The ``finally`` of :func:`launch` is not enough: a kernel that will not shut down is killed
    (jupyter_client sends SIGKILL to the launcher's process group), and a killed process runs no
    cleanup. The janitor leaves that process group, then blocks reading a pipe whose only writers
    are the launcher and its forks (the pipe closes on exec, so the kernel does not hold it): the
    read returns when the last of them has exited, and with it the sandbox's mounts. Returns the
    pipe's write end, which stays open until the launcher ends."""
    read_end, write_end = os.pipe()
    if os.fork() == 0:  # pragma: no cover - runs in the janitor
        try:
            os.close(write_end)
            os.setsid()  # a killpg of the launcher's group must not reach the janitor
            null = os.open(os.devnull, os.O_RDWR)
            for fd in (0, 1, 2):  # nor may it hold the grader's pipes open
                os.dup2(null, fd)
            while os.read(read_end, 1):
                pass
            for _ in range(50):  # a namespace being torn down can keep a mount point busy briefly
                shutil.rmtree(scratch, ignore_errors=True)
                if not os.path.lexists(scratch):
                    break
                time.sleep(0.1)
        finally:
            os._exit(0)
    os.close(read_end)
    return write_end


def launch(policy: dict, command: list[str]) -> int:
    """Run ``command`` (the kernel) under ``policy``; returns its exit code."""
    cwd = os.path.realpath(os.getcwd())
    base = policy.get("scratch") or tempfile.gettempdir()
    scratch = tempfile.mkdtemp(prefix="ascend-lab-sandbox-", dir=base)
    _janitor(scratch)
    # Interrupts from the kernel manager reach the kernel directly (same process group).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        owner = NOBODY if os.geteuid() == 0 and policy["isolation"] == "namespaces" else None
        work = os.path.join(scratch, "work")
        _copy_workdir(cwd, work, policy["limits"]["workdir_bytes"], owner)
        if owner is not None:
            os.chown(scratch, owner, owner)
            for path in policy.get("writable", []):
                os.chown(path, owner, owner)
                for name in os.listdir(path):
                    os.chown(os.path.join(path, name), owner, owner)
        if policy["isolation"] == "namespaces":
            return _report(policy, _namespaced(policy, command, work, cwd, scratch))
        return _report(policy, _plain(policy, command, work, scratch))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: sandbox.py POLICY.json -- COMMAND...", file=sys.stderr)
        return 2
    with open(argv[0]) as handle:
        policy = json.load(handle)
    policy["limits"] = {**DEFAULT_LIMITS, **policy.get("limits", {})}
    command = argv[2:]
    if not os.path.isabs(command[0]):
        command[0] = shutil.which(command[0]) or command[0]
    return launch(policy, command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
