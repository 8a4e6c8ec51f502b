"""``ascend-lab doctor``: one screen that tells a learner what they have, and what to fix.

It reports the backend in use and why, the versions that matter (Python, torch, torch_npu and CANN
when present, nbgrader, JupyterLab), and whether pyACL (``acl``) and ``atc`` are the real tools or
the lab's simulations. A broken environment ends with a non-zero exit code and a line saying how
to fix it.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Report:
    rows: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def add(self, name: str, value: str) -> None:
        self.rows.append((name, value))

    def render(self) -> str:
        width = max(len(name) for name, _ in self.rows) + 2
        lines = ["Ascend Migration Lab — environment check", ""]
        lines += [f"  {name:<{width}}{value}" for name, value in self.rows]
        lines.append("")
        if self.problems:
            lines += [f"  PROBLEM: {p}" for p in self.problems]
        else:
            lines.append("  All good: open notebooks/00_start_here.ipynb (make lab).")
        return "\n".join(lines)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def cann_version() -> str | None:
    """The CANN toolkit version, read from the install the environment points at."""
    for var in ("ASCEND_TOOLKIT_HOME", "ASCEND_HOME_PATH"):
        home = os.environ.get(var)
        if not home:
            continue
        for name in ("version.cfg", "ascend_toolkit_install.info", "version.info"):
            path = Path(home) / name
            if path.is_file():
                for line in path.read_text(errors="replace").splitlines():
                    if "version" in line.lower() and "=" in line:
                        return line.split("=", 1)[1].strip()
        return f"installed at {home}"
    return None


def tool_status(module: str, real_check) -> str:
    """'real', 'simulated' or 'not yet available' for acl/atc."""
    if real_check():
        return "real"
    if importlib.util.find_spec(module) is not None:
        return "simulated (ascend_compat)"
    return "not yet available"


def _real_acl() -> bool:
    if importlib.util.find_spec("acl") is None:
        return False
    origin = importlib.util.find_spec("acl").origin or ""
    return "ascend_compat" not in origin


def collect() -> Report:
    report = Report()
    report.add("python", f"{platform.python_version()} ({platform.machine()})")
    torch_version = _version("torch")
    if torch_version is None:
        report.add("torch", "MISSING")
        report.problems.append("torch is not installed: run `make lab` (or `make test`) to create .venv")
        return report
    report.add("torch", torch_version)
    report.add("torchvision", _version("torchvision") or "missing")
    npu_version = _version("torch-npu") or _version("torch_npu")
    report.add("torch_npu", npu_version or "not installed (fine: the lab simulates the NPU)")
    report.add("CANN", cann_version() or "not found (fine: the lab simulates the NPU)")
    try:
        import ascend_compat

        info = ascend_compat.backend()
        report.add("backend", f"{info.name} — {info.description}")
        report.add("why", info.reason)
        if info.name == "sim":
            from ascend_compat.sim import CONFIG

            report.add("simulated devices", f"{CONFIG.device_count} x {CONFIG.soc}")
    except Exception as exc:  # report, do not crash: this is the tool people run when things break
        report.add("backend", "BROKEN")
        report.problems.append(f"{exc} (unset ASCEND_COMPAT_BACKEND, or run `make lab` to reinstall)")
    report.add("acl (pyACL)", tool_status("ascend_compat.acl", _real_acl))
    report.add("atc", tool_status("ascend_compat.atc", lambda: shutil.which("atc") is not None))
    for dist in ("nbgrader", "jupyterlab", "onnx", "onnxruntime"):
        version = _version(dist)
        report.add(dist, version or "MISSING")
        if version is None:
            report.problems.append(f"{dist} is not installed: run `make lab` to install the course's dependencies")
    return report


def run(args) -> int:
    report = collect()
    print(report.render())
    return 1 if report.problems else 0


def register(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="show the backend, versions and tools in use; exit 1 if something is broken")
    parser.set_defaults(func=run)
