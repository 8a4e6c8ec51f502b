"""nbgrader's ``Execute`` step, hardened for grading untrusted notebooks.

:class:`SafeExecute` replaces ``nbgrader.preprocessors.Execute`` in the autograde pipeline
(:mod:`.safety` configures it) and keeps its behaviour for honest notebooks - same kernel, same
cells, same outputs, so the same scores - while adding:

* **a sandboxed kernel** - :class:`SandboxedKernelManager` starts the kernel through
  :mod:`.sandbox` (namespaces or rlimits; see there), with the kernel's sockets in a private
  folder (ZeroMQ ``ipc`` transport, since the kernel has its own network namespace);
* **time limits** - ``timeout`` per cell (nbgrader's own: interrupt, record a timeout error, go
  on) and ``notebook_timeout`` for the whole notebook: once spent, the remaining cells are not
  run and score 0; the sandbox kills the kernel outright a little later if it still runs;
* **a kernel that dies** (``os._exit``, a segfault, ``kill -9`` of itself, the memory limit) ends
  the notebook gracefully: the cell gets an error saying so and the remaining cells are not run,
  instead of nbgrader failing the whole submission;
* **bounded output** - at most ``max_output_bytes`` per cell are kept; the ZeroMQ client refuses
  a single message larger than that (a 1 GB ``print`` cannot fill the grader's memory);
* **the test-cell guard** of :mod:`.kernel_guard`: snapshot, prologue, end marker.

What it found goes into ``nb.metadata["ascend_lab"]["integrity"]``; :mod:`.integrity` turns that
into nbgrader's *flagged* mark in the gradebook.
"""

from __future__ import annotations

import ast
import json
import math
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

import zmq
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_core.utils import run_sync
from jupyter_client.manager import AsyncKernelManager
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.notebooknode import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Bool, CaselessStrEnum, Float, Integer, List, Unicode

from ascend_compat.grading import kernel_guard, sandbox

SANDBOX_SCRIPT = Path(sandbox.__file__).resolve()
GUARD_SITE = Path(__file__).resolve().parent / "sandbox_site"
NOTEBOOK_TIME_LIMIT_EXIT = 124

_namespaces: bool | None = None


def isolation_level(requested: str) -> str:
    """``auto`` becomes ``namespaces`` where Linux allows them unprivileged, else ``rlimits``."""
    global _namespaces
    if requested != "auto":
        return requested
    if not hasattr(os, "fork"):  # Windows: no sandbox at all (grade only trusted notebooks there)
        return "none"
    if _namespaces is None:
        _namespaces = sandbox.namespaces_available()
    return "namespaces" if _namespaces else "rlimits"


def parse_bytes(text: str | int) -> int:
    """``"4G"``, ``"512M"``, ``"1024k"`` or a number of bytes."""
    if isinstance(text, int):
        return text
    value = str(text).strip().upper().removesuffix("B")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}.get(value[-1:], 1)
    return int(float(value[:-1] if scale > 1 else value) * scale)


def integrity_record(nb: NotebookNode) -> list:
    """The findings list in the notebook's metadata (created when missing)."""
    lab = nb.metadata.setdefault("ascend_lab", {})
    return lab.setdefault("integrity", [])


def add_finding(nb: NotebookNode, cell_id: str | None, finding: str) -> None:
    record = integrity_record(nb)
    entry = {"cell": cell_id, "finding": finding}
    if entry not in record:
        record.append(entry)


def _timed_out(cell) -> bool:
    """nbgrader marks a cell that hit ``timeout`` with a CellTimeoutError output (its error_on_timeout)."""
    return any(output.get("output_type") == "error" and output.get("ename") == "CellTimeoutError"
               for output in cell.get("outputs", []))


def error_output(name: str, message: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=name, evalue=message, traceback=[f"{name}: {message}"])


class CappedKernelClient(AsyncKernelClient):
    """A kernel client whose sockets refuse any single message above ``max_message_bytes``.

    jupyter_client's own socket set-up, plus ZeroMQ's MAXMSGSIZE (it has to be set before
    connecting): a peer that sends more is disconnected, so one gigantic ``print`` cannot fill
    the grader's memory.
    """

    max_message_bytes = 16 << 20

    def _create_connected_socket(self, channel, identity=None):
        from jupyter_client.connect import channel_socket_types

        sock = self.context.socket(channel_socket_types[channel])
        sock.linger = 1000
        sock.setsockopt(zmq.MAXMSGSIZE, self.max_message_bytes)
        if identity:
            sock.identity = identity
        if getattr(self, "curve_publickey", None) is not None:
            sock.curve_secretkey = self.curve_secretkey
            sock.curve_publickey = self.curve_publickey
            sock.curve_serverkey = self.curve_publickey
        sock.connect(self._make_url(channel))
        return sock


class SandboxedKernelManager(AsyncKernelManager):
    """Starts the kernel through :mod:`.sandbox` with a policy set by :class:`SafeExecute`."""

    def __init__(self, *args, sandbox_policy: dict, private_dir: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.client_class = "ascend_compat.grading.safe_execute.CappedKernelClient"
        self.sandbox_policy = sandbox_policy
        self.private_dir = private_dir
        # The kernel's connection file and (ipc) sockets live in a folder only it and we can see.
        self.connection_file = os.path.join(private_dir, "kernel.json")
        if sandbox_policy["isolation"] == "namespaces":
            self.transport = "ipc"
            self.ip = os.path.join(private_dir, "kernel")

    async def _async_pre_start_kernel(self, **kw):
        if self.sandbox_policy["isolation"] == "none":  # unwrapped: give the kernel the same environment
            env = dict(kw.get("env") or os.environ)
            for name in self.sandbox_policy.get("env_remove", []):
                env.pop(name, None)
            env.update(self.sandbox_policy.get("env", {}))
            kw["env"] = env
        return await super()._async_pre_start_kernel(**kw)

    def format_kernel_cmd(self, extra_arguments=None):
        command = super().format_kernel_cmd(extra_arguments)
        if self.sandbox_policy["isolation"] == "none":
            return command
        policy_file = os.path.join(self.private_dir, "policy.json")
        with open(policy_file, "w") as handle:
            json.dump(self.sandbox_policy, handle)
        return [sys.executable, "-I", "-S", str(SANDBOX_SCRIPT), policy_file, "--", *command]


class SafeExecute(Execute):
    """nbgrader's Execute with a sandboxed kernel, notebook time limit and test-cell guard."""

    notebook_timeout = Integer(900, help="seconds for a whole notebook; the cells left then are not run").tag(config=True)
    memory_limit = Unicode("4G", help="RLIMIT_DATA of every process of the kernel, e.g. 4G").tag(config=True)
    max_processes = Integer(256, help="RLIMIT_NPROC: processes and threads in the sandbox").tag(config=True)
    max_file_size = Unicode("1G", help="RLIMIT_FSIZE: the largest file the kernel may write").tag(config=True)
    tmp_size = Unicode("512M", help="size of the sandbox's private /tmp (and /dev/shm)").tag(config=True)
    max_output_bytes = Integer(1 << 20, help="output kept per cell (bytes of text)").tag(config=True)
    isolation = CaselessStrEnum(["auto", "namespaces", "rlimits", "none"], "auto",
                                help="how the kernel is isolated (see ascend_compat.grading.sandbox)").tag(config=True)
    visible_paths = List(Unicode(), [], help="extra read-only paths the kernel may see").tag(config=True)
    hidden_paths = List(Unicode(), [], help="extra paths the kernel must never see").tag(config=True)
    guard_tests = Bool(True, help="run the kernel_guard prologue and end marker around test cells").tag(config=True)
    startup_allowance = Float(60.0, help="seconds the sandbox adds to notebook_timeout for start-up").tag(config=True)
    unresponsive_wait = Float(10.0, help="after a cell timed out: seconds the kernel has to answer again").tag(config=True)
    iopub_timeout = Integer(30, help="seconds to wait for a cell's last output after its reply "
                                     "(nbclient's 4 s is too short on a busy 2-core machine)").tag(config=True)

    # --- the sandbox policy -------------------------------------------------------------------

    def _course_paths(self) -> list[str]:
        """The course directory's secrets: source notebooks, submissions, grades, feedback, gradebook."""
        parent, coursedir = self.parent, None
        while parent is not None and coursedir is None:
            coursedir = getattr(parent, "coursedir", None)
            parent = getattr(parent, "parent", None)
        paths = []
        if coursedir is not None:
            root = Path(coursedir.root)
            for name in (coursedir.source_directory, coursedir.submitted_directory,
                         coursedir.autograded_directory, coursedir.feedback_directory):
                paths.append(str(root / name))
            if coursedir.db_url.startswith("sqlite:///"):
                paths.append(coursedir.db_url[len("sqlite:///"):])
            paths.append(str(root / "gradebook.db"))
        from ascend_compat.grading import course

        repo = Path(course.__file__).resolve().parents[2]
        paths += [str(repo / "solutions"), str(repo / ".git"), str(repo / "tests"), str(repo / "gradebook.db")]
        return paths + list(self.hidden_paths)

    def _policy(self, private_dir: str) -> dict:
        import ascend_compat

        isolation = isolation_level(self.isolation)
        hidden = self._course_paths()
        package = Path(ascend_compat.__file__).resolve().parent
        visible = [*sandbox.SYSTEM_PATHS, *sandbox.python_paths(), str(package),
                   str(package.parent / "datasets"), *self.visible_paths]
        env, env_remove = {}, ["ASCEND_LAB_KERNEL_BACKEND"]
        if "ASCEND_LAB_KERNEL_BACKEND" in os.environ:  # course.nbgrader() ran the grader on cpu
            if os.environ["ASCEND_LAB_KERNEL_BACKEND"]:
                env["ASCEND_COMPAT_BACKEND"] = os.environ["ASCEND_LAB_KERNEL_BACKEND"]
            else:
                env_remove.append("ASCEND_COMPAT_BACKEND")
        return {
            "isolation": isolation,
            "mounts": sandbox.visible_mounts(visible, hidden) if isolation == "namespaces" else [],
            "writable": [private_dir],
            "log": os.path.join(private_dir, "kernel-output.log"),
            "hidden": hidden,
            "guard_dir": str(GUARD_SITE),
            "env": env,
            "env_remove": env_remove,
            "limits": {
                "memory_bytes": parse_bytes(self.memory_limit),
                "processes": self.max_processes,
                "file_bytes": parse_bytes(self.max_file_size),
                "tmp_bytes": parse_bytes(self.tmp_size),
                "wall_seconds": float(self.notebook_timeout) + self.startup_allowance,
                "cpu_seconds": int(self.notebook_timeout * 2 + self.startup_allowance),
            },
        }

    def create_kernel_manager(self):
        if not self.kernel_name:
            self.kernel_name = self.nb.metadata.get("kernelspec", {}).get("name") or "python3"
        private_dir = tempfile.mkdtemp(prefix="ascend-lab-kernel-")
        self._private_dirs.append(private_dir)
        self.km = SandboxedKernelManager(kernel_name=self.kernel_name, config=self.config,
                                         sandbox_policy=self._policy(private_dir), private_dir=private_dir)
        return self.km

    # --- running the notebook -----------------------------------------------------------------

    def preprocess(self, nb, resources=None, km=None):
        self._private_dirs = []
        self._token = secrets.token_hex(16)
        self._stopped: str | None = None
        self._deadline = time.monotonic() + self.notebook_timeout
        self._cell_timeout = self.timeout
        self._snapshot_taken = False
        try:
            return super().preprocess(nb, resources, km)
        finally:
            self.timeout = self._cell_timeout
            for folder in self._private_dirs:
                shutil.rmtree(folder, ignore_errors=True)

    def _run_silently(self, code: str, expression: str | None = None):
        """Execute ``code`` in the kernel outside any cell; the value of ``expression``, if asked."""
        request = self.kc.execute(code, silent=True, store_history=False,
                                  user_expressions={"value": expression} if expression else {})
        reply = self.wait_for_reply(request)
        if not reply or reply["content"].get("status") != "ok" or not expression:
            return None
        value = reply["content"].get("user_expressions", {}).get("value", {})
        try:
            return ast.literal_eval(value.get("data", {}).get("text/plain", "None"))
        except (ValueError, SyntaxError):
            return None

    def _remaining(self) -> float:
        return self._deadline - time.monotonic()

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._stopped is None and self._remaining() <= 0:
            self._stopped = f"not run: the notebook's time limit ({self.notebook_timeout} s) was reached"
            add_finding(self.nb, None, f"notebook time limit of {self.notebook_timeout} s reached")
        if self._stopped:
            cell.outputs = [error_output("NotRun", self._stopped)]
            cell.execution_count = None
            return cell, resources
        self.timeout = max(1, min(self._cell_timeout or math.inf, math.ceil(self._remaining())))
        guarded = self.guard_tests and utils.is_grade(cell) and not utils.is_solution(cell)
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        original = cell.source
        try:
            if self.guard_tests and not self._snapshot_taken:
                self._snapshot_taken = True
                self._run_silently(kernel_guard.SNAPSHOT)
            if guarded:
                for finding in self._run_silently(kernel_guard.prologue(original),
                                                  kernel_guard.FINDINGS_EXPRESSION) or []:
                    add_finding(self.nb, grade_id, finding)
                cell.source = kernel_guard.with_end_marker(original, self._token)
            self._cell_bytes = 0
            super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            self._stopped = "not run: the kernel died in an earlier cell"
            why = self._kernel_exit()
            cell.outputs.append(error_output("DeadKernelError", f"the kernel died while running this cell ({why})"))
            add_finding(self.nb, grade_id, f"the kernel died ({why})")
        except CellTimeoutError as exc:  # a message over the size limit: ZeroMQ dropped the IOPub connection
            cell.outputs.append(error_output("CellTimeoutError", str(exc).splitlines()[0]))
            add_finding(self.nb, grade_id, "the cell's output could not be collected (a message over "
                                           f"{CappedKernelClient.max_message_bytes} bytes, or no output for {self.iopub_timeout} s)")
            run_sync(self._reconnect_iopub)()
        finally:
            cell.source = original
        if not self._stopped and _timed_out(cell) and not run_sync(self._responsive)(self.unresponsive_wait):
            self._stopped = "not run: the kernel stopped responding (it ignored the interrupt after a time-out)"
            self.shutdown_kernel = "immediate"
            add_finding(self.nb, grade_id, "the kernel ignored the interrupt after a cell timed out; the rest was not run")
        if guarded and not self._stopped:
            self._check_end_marker(cell, grade_id)
        return cell, resources

    async def _responsive(self, wait: float) -> bool:
        """Does the kernel answer a trivial request within ``wait`` seconds?"""
        msg_id = self.kc.execute("pass", silent=True, store_history=False)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=max(0.1, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001 - queue.Empty
                return False
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return True
        return False

    async def _reconnect_iopub(self, wait: float = 10.0) -> None:
        """A fresh IOPub socket (the old connection is gone); wait until the kernel has subscribed it."""
        self.kc.iopub_channel.stop()
        self.kc._iopub_channel = None
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                msg = await self.kc.iopub_channel.get_msg(timeout=max(0.1, deadline - time.monotonic()))
            except Exception:  # noqa: BLE001 - queue.Empty: no welcome (old kernels send none)
                return
            if msg.get("msg_type") == "iopub_welcome":
                return

    def _kernel_exit(self) -> str:
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        if code is None:
            return "no exit status"
        if code == NOTEBOOK_TIME_LIMIT_EXIT or code == 137:
            return f"exit status {code}: stopped by the time or memory limit, or killed"
        if code < 0 or code > 128:
            number = -code if code < 0 else code - 128
            try:
                return f"killed by signal {number} ({signal.Signals(number).name})"
            except ValueError:
                return f"killed by signal {number}"
        return f"exit status {code}"

    def _check_end_marker(self, cell, grade_id: str) -> None:
        """Remove the end marker from the output; no marker and no error means the test was subverted."""
        marker = kernel_guard.marker_line(self._token)
        seen = False
        kept = []
        for output in cell.outputs:
            if output.output_type == "stream" and marker in output.text:
                seen = True
                output.text = "".join(line for line in output.text.splitlines(keepends=True) if marker not in line)
                if not output.text:
                    continue
            kept.append(output)
        cell.outputs = kept
        failed = any(output.output_type == "error" for output in cell.outputs)
        if not seen and not failed:
            cell.outputs.append(error_output(
                "IntegrityError", "the test cell did not run to its end (the notebook interfered with the tests)"))
            add_finding(self.nb, grade_id, "the test cell did not run to its end, yet reported no error")

    def output(self, outs, msg, display_id, cell_index):
        """Keep at most ``max_output_bytes`` of output per cell (the end marker always)."""
        content = msg.get("content", {})
        size = len(json.dumps(content, default=str)) if msg.get("msg_type") != "stream" else len(content.get("text", ""))
        is_marker = msg.get("msg_type") == "stream" and self._token in content.get("text", "")
        self._cell_bytes = getattr(self, "_cell_bytes", 0) + size
        if self._cell_bytes > self.max_output_bytes and not is_marker:
            if self._cell_bytes - size <= self.max_output_bytes:  # the first message over the limit
                note = NotebookNode(output_type="stream", name="stdout",
                                    text=f"\n[output truncated by the grader: more than {self.max_output_bytes} bytes]\n")
                outs.append(note)
            return None
        return super().output(outs, msg, display_id, cell_index)
