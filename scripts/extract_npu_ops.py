"""Derive the NPU operator list (ascend_compat/data/npu_ops.json) from Ascend/op-plugin.

op-plugin's ``op_plugin/config/op_plugin_functions.yaml`` lists every aten operator torch_npu
implements, with the torch versions each implementation exists for (``acl_op`` / ``op_api`` keys:
``all_version``, a range ``[v2.1, newest]`` or a list ``v2.1, v2.2``). We keep the operators
available for the torch version the course pins.

    python scripts/extract_npu_ops.py GIT_DIR_OR_CHECKOUT [--torch-version v2.14]

GIT_DIR_OR_CHECKOUT is a clone of https://github.com/Ascend/op-plugin (a bare git directory works).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

from ascend_compat.atomic import write_text

YAML_PATH = "op_plugin/config/op_plugin_functions.yaml"
OUTPUT = Path(__file__).resolve().parents[1] / "ascend_compat" / "data" / "npu_ops.json"


def read_source(repo: str) -> tuple[str, str]:
    """(yaml text, commit) from a checkout or a bare git directory."""
    path = Path(repo)
    if (path / YAML_PATH).is_file():
        commit = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
        return (path / YAML_PATH).read_text(encoding="utf-8"), commit or "unknown"
    git = ["git", f"--git-dir={repo}"]
    commit = subprocess.run(git + ["rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    text = subprocess.run(git + ["show", f"HEAD:{YAML_PATH}"], capture_output=True, text=True, check=True).stdout
    return text, commit


def _version_key(v: str) -> tuple[int, ...]:
    return tuple(int(p) for p in v.lstrip("v").split("."))


def available(spec, version: str, all_versions: list[str]) -> bool:
    """Does an ``acl_op``/``op_api`` version spec include ``version``?"""
    if spec is None:
        return False
    if spec == "all_version":
        return version in all_versions
    if isinstance(spec, list) and len(spec) == 2 and spec[1] == "newest":
        return _version_key(spec[0]) <= _version_key(version)
    if isinstance(spec, list):
        items = spec
    else:
        items = [s.strip() for s in str(spec).split(",")]
    if len(items) == 2 and all(str(i).startswith("v") for i in items) and isinstance(spec, list):
        low, high = items
        return _version_key(low) <= _version_key(version) <= _version_key(high)
    return version in items


def extract(text: str, version: str) -> dict:
    data = yaml.safe_load(text)
    all_versions = data.get("all_version", [])
    overloads, custom = set(), set()
    for section in ("official", "autograd", "symint", "quant"):
        for entry in data.get(section) or []:
            if not isinstance(entry, dict) or "func" not in entry:
                continue
            if any(available(entry.get(key), version, all_versions) for key in ("acl_op", "op_api")) or section == "autograd":
                overloads.add(entry["func"].split("(", 1)[0].strip())
    for entry in data.get("custom") or []:
        if isinstance(entry, dict) and "func" in entry:
            custom.add(entry["func"].split("(", 1)[0].split(".")[0].strip())
    packets = sorted({o.split(".")[0] for o in overloads})
    return {"aten": packets, "aten_overloads": sorted(overloads), "custom": sorted(custom)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("repo", help="clone (or bare git dir) of Ascend/op-plugin")
    parser.add_argument("--torch-version", default="v2.14", help="torch version key in op-plugin's yaml")
    parser.add_argument("--output", default=str(OUTPUT))
    args = parser.parse_args(argv)
    text, commit = read_source(args.repo)
    result = {"source": {"repo": "Ascend/op-plugin", "path": YAML_PATH, "commit": commit,
                         "torch_version": args.torch_version},
              **extract(text, args.torch_version)}
    write_text(args.output, json.dumps(result, indent=1) + "\n")
    print(f"{len(result['aten'])} aten operators ({len(result['aten_overloads'])} overloads), "
          f"{len(result['custom'])} custom npu_* operators -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
