"""The simulator's ``.om`` container (a *simulation* format, not Huawei's).

A real ``.om`` ("offline model") is the binary atc compiles for one Ascend SoC: task lists and
kernels for the AI Cores. It cannot be read without CANN. The simulated atc writes its own format
with the same role and the same file extension, so scripts keep their real shape
(``atc ... --output=model`` then ``acl.mdl.load_from_file("model.om")``)::

    offset  size  content
    0       8     magic b"ACLSIMOM"
    8       2     format version (little-endian uint16, currently 1)
    10      2     reserved (0)
    12      4     manifest length M (uint32)
    16      8     graph length G (uint64)
    24      M     manifest: UTF-8 JSON (SoC, inputs/outputs, AIPP, precision mode, ...)
    24+M    G     the converted ONNX graph (what the simulated NPU runs with onnxruntime)
    24+M+G  32    SHA-256 of every byte before it

Truncated, corrupted or foreign files raise :class:`OmError` with one line saying which. A real
CANN ``.om`` (its header starts with the magic number 0x444F4D49, bytes ``IMOD``, per GE's model
file header) is recognised and rejected with a message saying to run it on Ascend hardware.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from dataclasses import dataclass

from ascend_compat.atomic import write_bytes
from ascend_compat.errors import UserError

MAGIC = b"ACLSIMOM"
VERSION = 1
_HEADER = struct.Struct("<8sHHIQ")
_DIGEST = 32
REAL_OM_MAGIC = b"IMOD"  # 0x444F4D49 little-endian: GE ModelFileHeader magic


class OmError(UserError):
    """A file that cannot be loaded as a simulated .om; ``kind`` says why (for acl error codes)."""

    def __init__(self, message: str, kind: str):
        super().__init__(message)
        self.kind = kind  # "missing" | "truncated" | "corrupted" | "foreign" | "real_om" | "version"


@dataclass
class OmModel:
    """A loaded .om: the manifest (plain dict) and the ONNX graph bytes."""

    manifest: dict
    graph: bytes

    @property
    def inputs(self) -> list[dict]:
        return self.manifest["inputs"]

    @property
    def outputs(self) -> list[dict]:
        return self.manifest["outputs"]


def dumps(manifest: dict, graph: bytes) -> bytes:
    meta = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode("utf-8")
    body = _HEADER.pack(MAGIC, VERSION, 0, len(meta), len(graph)) + meta + graph
    return body + hashlib.sha256(body).digest()


def save(path: str, manifest: dict, graph: bytes) -> str:
    """Write atomically (temp file + rename) so a failed run never leaves half a model behind."""
    data = dumps(manifest, graph)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    write_bytes(path, data)
    return path


def loads(data: bytes, source: str = "<memory>") -> OmModel:
    """Parse .om bytes; every failure is one :class:`OmError` naming ``source``."""
    if data[:4] == REAL_OM_MAGIC:
        raise OmError(f"{source} is a real CANN .om (built by Huawei's atc); the simulator cannot run it. "
                      "Run it on an Ascend machine, or convert the ONNX model with `ascend-lab atc`", "real_om")
    if len(data) < len(MAGIC) or data[:len(MAGIC)] != MAGIC:
        what = "an ONNX model (convert it with atc first)" if data[:1] == b"\x08" else "not a .om file"
        raise OmError(f"{source} is {what}: it does not start with the simulated .om magic {MAGIC!r}", "foreign")
    if len(data) < _HEADER.size + _DIGEST:
        raise OmError(f"{source} is truncated ({len(data)} bytes, shorter than the .om header); convert the model again", "truncated")
    _, version, _, meta_len, graph_len = _HEADER.unpack_from(data)
    if version != VERSION:
        raise OmError(f"{source} is a simulated .om of format version {version}, this simulator reads version "
                      f"{VERSION}; convert the model again with this version of ascend-lab", "version")
    expected = _HEADER.size + meta_len + graph_len + _DIGEST
    if len(data) < expected:
        raise OmError(f"{source} is truncated ({len(data)} of {expected} bytes); copy or convert it again", "truncated")
    if len(data) > expected:
        raise OmError(f"{source} has {len(data) - expected} unexpected bytes after the end of the model", "corrupted")
    body, digest = data[:-_DIGEST], data[-_DIGEST:]
    if hashlib.sha256(body).digest() != digest:
        raise OmError(f"{source} is corrupted (SHA-256 checksum mismatch); copy or convert it again", "corrupted")
    start = _HEADER.size
    try:
        manifest = json.loads(data[start:start + meta_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:  # only possible if the writer was broken
        raise OmError(f"{source} has an unreadable manifest ({exc})", "corrupted") from None
    graph = data[start + meta_len:start + meta_len + graph_len]
    return OmModel(manifest=manifest, graph=graph)


def load(path: str) -> OmModel:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise OmError(f"model file {path!r} does not exist; check the path (atc adds .om to --output)", "missing") from None
    except IsADirectoryError:
        raise OmError(f"model path {path!r} is a directory, not a .om file", "missing") from None
    return loads(data, source=path)


def describe(model: OmModel) -> str:
    """A short human-readable summary (what a learner wants to see after conversion)."""
    m = model.manifest
    lines = [f"simulated .om for {m['soc_version']} (precision_mode={m['precision_mode']}, "
             f"framework={m['framework']}, source sha256={m['source_sha256'][:12]}...)"]
    for kind in ("inputs", "outputs"):
        for io in m[kind]:
            lines.append(f"  {kind[:-1]:6} {io['name']}: {io['dtype']} {io['shape']} {io['format']}")
    if m.get("aipp"):
        lines.append(f"  AIPP on input(s): {', '.join(str(a['related_input_rank']) for a in m['aipp'])}")
    if m.get("dynamic_batch_size"):
        lines.append(f"  dynamic batch sizes: {m['dynamic_batch_size']}")
    return "\n".join(lines)
