"""Record torch_npu's public ``torch.npu`` API (ascend_compat/data/torch_npu_api.json).

Reads ``__all__`` of ``torch_npu/npu/__init__.py`` from a clone of https://github.com/Ascend/pytorch
(a bare git directory works) without importing it, and stores it with the source commit. ``core``
is the subset the simulator must cover completely (the lab's own choice, checked against the list).

    python scripts/extract_torch_npu_api.py GIT_DIR_OR_CHECKOUT
"""

from __future__ import annotations

import argparse
import ast
import json
import subprocess
import sys
from pathlib import Path

from ascend_compat.atomic import write_text

SOURCE_PATH = "torch_npu/npu/__init__.py"
OUTPUT = Path(__file__).resolve().parents[1] / "ascend_compat" / "data" / "torch_npu_api.json"
CORE = (
    "is_available", "is_initialized", "init", "device_count", "set_device", "current_device", "device",
    "device_of", "synchronize", "memory_allocated", "max_memory_allocated", "memory_reserved",
    "max_memory_reserved", "memory_stats", "memory_summary", "reset_peak_memory_stats", "empty_cache",
    "mem_get_info", "get_device_name", "get_device_properties", "manual_seed", "manual_seed_all", "seed",
    "seed_all", "initial_seed", "get_rng_state", "set_rng_state", "get_rng_state_all", "set_rng_state_all",
    "Stream", "Event", "current_stream", "default_stream", "stream", "set_compile_mode", "is_bf16_supported",
)


def read_source(repo: str) -> tuple[str, str]:
    path = Path(repo)
    if (path / SOURCE_PATH).is_file():
        commit = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        return (path / SOURCE_PATH).read_text(encoding="utf-8"), commit or "unknown"
    git = ["git", f"--git-dir={repo}"]
    commit = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    return subprocess.run(git + ["show", f"HEAD:{SOURCE_PATH}"], capture_output=True, text=True, check=True).stdout, commit


def public_names(source: str) -> list[str]:
    """The string literals of the module-level ``__all__ = [...]`` assignment."""
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "__all__" for t in node.targets):
            return sorted(ast.literal_eval(node.value))
    raise ValueError(f"no __all__ list in {SOURCE_PATH}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", help="clone (or bare git dir) of Ascend/pytorch")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    source, commit = read_source(args.repo)
    names = public_names(source)
    # "amp" is a submodule (torch_npu.npu.amp), public but not listed in __all__
    missing_core = [n for n in CORE if n not in names]
    if missing_core:
        raise SystemExit(f"core names not in torch_npu's __all__: {missing_core}")
    result = {"source": {"repo": "Ascend/pytorch", "path": SOURCE_PATH, "commit": commit},
              "names": names, "core": list(CORE)}
    write_text(args.output, json.dumps(result, indent=1) + "\n")
    print(f"{len(names)} public torch.npu names ({len(CORE)} core) at {commit[:12]} -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
