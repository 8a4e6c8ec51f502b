"""The grading sandbox itself, with plain commands instead of a kernel (fast, and each property alone).

What a submission must not do from inside: see the repository's solutions/ or the course, reach
the network (but loopback works - torchrun with gloo on 127.0.0.1, as a Level 2 exercise needs),
exceed its memory or process limits, outlive its time limit, signal processes outside.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ascend_compat.grading import sandbox
from ascend_compat.grading.safe_execute import GUARD_SITE, SANDBOX_SCRIPT

ROOT = Path(__file__).resolve().parents[1]
NAMESPACES = sandbox.namespaces_available()
needs_namespaces = pytest.mark.skipif(not NAMESPACES, reason="this Linux does not allow unprivileged user namespaces")


def policy(isolation: str, course: Path, **limits) -> dict:
    hidden = [str(ROOT / "solutions"), str(ROOT / ".git"), str(ROOT / "tests"), str(course)]
    visible = [*sandbox.SYSTEM_PATHS, *sandbox.python_paths(), str(ROOT / "ascend_compat"), str(ROOT / "datasets")]
    return {"isolation": isolation, "mounts": sandbox.visible_mounts(visible, hidden) if isolation == "namespaces" else [],
            "hidden": hidden, "guard_dir": str(GUARD_SITE), "writable": [],
            "limits": {"wall_seconds": 120, **limits}}


def run_sandboxed(tmp_path: Path, code: str, isolation: str = "namespaces", command: list[str] | None = None,
                  **limits) -> subprocess.CompletedProcess:
    """Run ``code`` with python in the sandbox, from a folder inside a pretend course directory."""
    course = tmp_path / "course"
    workdir = course / "autograded" / "eve" / "level0_inference"
    workdir.mkdir(parents=True, exist_ok=True)
    (course / "gradebook.db").write_text("secret")
    (workdir / "notes.txt").write_text("my own file")
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps(policy(isolation, course, **limits)))
    command = command or [sys.executable, "-c", textwrap.dedent(code)]
    env = dict(os.environ, ASCEND_COMPAT_BACKEND="cpu")
    return subprocess.run([sys.executable, "-I", "-S", str(SANDBOX_SCRIPT), str(policy_file), "--", *command],
                          cwd=workdir, env=env, capture_output=True, text=True, timeout=300)


def test_visible_mounts_leave_out_hidden_folders_inside_visible_ones(tmp_path):
    repo = tmp_path / "repo"
    for name in ("ascend_compat", "solutions", "datasets", ".git"):
        (repo / name).mkdir(parents=True)
    (repo / "README.md").write_text("x")
    (tmp_path / "link").symlink_to(repo / "datasets")
    mounts = sandbox.visible_mounts([str(repo), str(tmp_path / "link")], [str(repo / "solutions"), str(repo / ".git")])
    assert str(repo / "solutions") not in mounts and str(repo / ".git") not in mounts
    assert {str(repo / "ascend_compat"), str(repo / "datasets"), str(repo / "README.md"), str(tmp_path / "link")} <= set(mounts)


@needs_namespaces
def test_the_kernel_sees_no_solutions_no_course_and_its_own_files_only(tmp_path):
    result = run_sandboxed(tmp_path, f"""
        import os, pathlib
        print(os.getuid() != 0, sorted(os.listdir('.')))
        for path in [{str(ROOT / 'solutions')!r}, {str(ROOT / '.git')!r}, '../../../gradebook.db',
                     {str(tmp_path / 'course' / 'gradebook.db')!r}, os.path.expanduser('~/.ssh')]:
            print(path, os.path.exists(path))
        print(sorted(os.listdir({str(ROOT)!r})))
        import ascend_compat.errors  # the package itself is importable
        open('written.txt', 'w').write('ok')  # the working copy is writable
    """)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "True ['notes.txt']"
    assert all(line.endswith(" False") for line in lines[1:6]), lines
    assert "solutions" not in lines[6] and "ascend_compat" in lines[6]
    assert not (tmp_path / "course" / "autograded" / "eve" / "level0_inference" / "written.txt").exists(), \
        "the kernel writes into a private copy, never into the course"


@needs_namespaces
def test_only_loopback_is_reachable(tmp_path):
    result = run_sandboxed(tmp_path, """
        import socket
        server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen(1)
        client = socket.create_connection(server.getsockname(), timeout=5)
        peer, _ = server.accept(); client.sendall(b'ping'); print('loopback', peer.recv(4) == b'ping')
        for address in [('1.1.1.1', 80), ('8.8.8.8', 53)]:
            try:
                socket.create_connection(address, timeout=3); print('reached', address)
            except OSError as exc:
                print('blocked', exc.errno)
    """)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "loopback True"
    assert all(line.startswith("blocked") for line in result.stdout.splitlines()[1:])


@needs_namespaces
def test_memory_processes_and_signals_are_limited(tmp_path):
    result = run_sandboxed(tmp_path, """
        import os, signal, time
        blocks = []
        try:
            while True:
                blocks.append(b'x' * (32 << 20))
        except MemoryError:
            print('memory stopped below', (len(blocks) + 1) * 32, 'MB')
        blocks.clear()
        children = []
        try:
            while True:
                pid = os.fork()
                if pid == 0:
                    time.sleep(60)
                    os._exit(0)
                children.append(pid)
        except OSError:
            print('processes stopped at', len(children))
        visible = [int(p) for p in os.listdir('/proc') if p.isdigit()]
        print('sees only its own processes', max(visible) < 1000)
        try:
            os.kill(1, signal.SIGKILL)
            time.sleep(0.5)
            print('init survived', True)
        except OSError:
            print('init survived', True)
        for pid in children:
            os.kill(pid, signal.SIGKILL)
    """, memory_bytes=1 << 30, processes=64)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("memory stopped below") and int(lines[0].split()[3]) <= 1056
    assert lines[1].startswith("processes stopped at") and int(lines[1].split()[3]) < 64
    assert lines[2:] == ["sees only its own processes True", "init survived True"]


@needs_namespaces
def test_the_time_limit_kills_the_whole_sandbox(tmp_path):
    result = run_sandboxed(tmp_path, """
        import os, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        if os.fork() == 0:
            os.setsid()
            time.sleep(600)
        time.sleep(600)
    """, wall_seconds=3)
    assert result.returncode == 124
    assert "time limit" in result.stderr


@pytest.mark.parametrize("isolation", [pytest.param("namespaces", marks=needs_namespaces), "rlimits"])
def test_a_killed_launcher_leaves_no_scratch_folder_behind(tmp_path, isolation):
    # jupyter_client SIGKILLs the kernel's process group when a kernel will not shut down: the
    # launcher's own cleanup never runs, and every such kernel used to leave its folder in /tmp.
    course = tmp_path / "course"
    workdir = course / "autograded" / "eve" / "level0_inference"
    workdir.mkdir(parents=True)
    (workdir / "notes.txt").write_text("my own file")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    policy_file = tmp_path / "policy.json"
    policy_file.write_text(json.dumps({**policy(isolation, course), "scratch": str(scratch)}))
    launcher = subprocess.Popen([sys.executable, "-I", "-S", str(SANDBOX_SCRIPT), str(policy_file), "--",
                                 sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)"],
                                cwd=workdir, stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert launcher.stdout.readline() == b"up\n"  # the kernel runs: its scratch folder exists
        assert len(list(scratch.iterdir())) == 1
        os.killpg(launcher.pid, signal.SIGKILL)
        launcher.wait(timeout=30)
        deadline = time.monotonic() + 30
        while list(scratch.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not list(scratch.iterdir()), "the scratch folder of a killed launcher was left behind"
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
        launcher.stdout.close()


@needs_namespaces
def test_torchrun_with_two_gloo_processes_on_loopback_works(tmp_path):
    script = tmp_path / "course" / "autograded" / "eve" / "level0_inference" / "ddp.py"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(textwrap.dedent("""
        import os, torch, torch.distributed as dist
        dist.init_process_group("gloo")
        value = torch.ones(1) * (dist.get_rank() + 1)
        dist.all_reduce(value)
        # one write() per line: the two processes share the pipe, and print() writes a line in pieces
        os.write(1, f"{dist.get_rank()} {value.item()}\\n".encode())
        dist.destroy_process_group()
    """))
    torchrun = Path(sys.executable).with_name("torchrun")
    result = run_sandboxed(tmp_path, "", command=[str(torchrun), "--nproc_per_node=2", "--master_addr=127.0.0.1",
                                                  "--master_port=29533", "ddp.py"])
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(result.stdout.split("\n")[-3:-1]) == ["0 3.0", "1 3.0"]


def test_the_fallback_audit_hook_blocks_hidden_paths_and_remote_hosts(tmp_path):
    result = run_sandboxed(tmp_path, f"""
        import socket
        for path in [{str(ROOT / 'solutions' / 'level0_inference')!r}, {str(tmp_path / 'course' / 'gradebook.db')!r}]:
            try:
                open(path + '/x' if 'solutions' in path else path).read(); print('read', path)
            except PermissionError:
                print('refused')
        try:
            socket.create_connection(('1.1.1.1', 80), timeout=2); print('reached')
        except PermissionError:
            print('refused')
        except OSError:
            print('unreachable anyway')
        server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen(1)
        socket.create_connection(server.getsockname(), timeout=5); print('loopback ok')
    """, isolation="rlimits")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["refused", "refused", "refused", "loopback ok"]
