"""Timed mode: when a learner started and submitted, kept in the learner's folder (never the repo).

State lives in ``$ASCEND_LAB_HOME/exam/<learner>.json`` (default ``~/.ascend_lab``), written atomically.
A submission after the time limit is recorded and marked late, not refused.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from ascend_compat.atomic import write_text
from ascend_compat.errors import UserError


def state_dir() -> Path:
    return Path(os.environ.get("ASCEND_LAB_HOME", Path.home() / ".ascend_lab")) / "exam"


def _path(learner_id: str) -> Path:
    return state_dir() / (re.sub(r"[^A-Za-z0-9_.-]", "_", learner_id) + ".json")


def _write(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(data, indent=1))


def load(learner_id: str) -> dict | None:
    path = _path(learner_id)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        raise UserError(f"the exam record {path} is damaged; delete it to start again") from None


def start(learner_id: str, minutes: float | None, now: float | None = None) -> dict:
    if minutes is not None and not 0 < minutes <= 24 * 60:
        raise UserError(f"--minutes {minutes} is not valid: use a positive number of minutes up to 1440")
    record = load(learner_id)
    if record and record.get("submitted_at") is None:
        return record  # already running: restarting must not reset the clock
    record = {"learner_id": learner_id, "started_at": now if now is not None else time.time(),
              "minutes": minutes, "submitted_at": None, "late": False, "score": None, "total": None}
    _write(_path(learner_id), record)
    return record


def submit(learner_id: str, score: int, total: int, now: float | None = None) -> dict:
    record = load(learner_id)
    if record is None:
        raise UserError(f"no exam was started for {learner_id!r}: run `ascend-lab exam start --learner {learner_id}` first")
    if record.get("submitted_at") is not None:
        raise UserError(f"{learner_id!r} has already submitted (score {record['score']}/{record['total']}); start a new attempt "
                        "with `ascend-lab exam start --new`")
    now = now if now is not None else time.time()
    limit = record.get("minutes")
    record.update(submitted_at=now, score=score, total=total,
                  late=bool(limit is not None and now - record["started_at"] > limit * 60))
    _write(_path(learner_id), record)
    return record


def reset(learner_id: str) -> None:
    path = _path(learner_id)
    if path.exists():
        path.unlink()
