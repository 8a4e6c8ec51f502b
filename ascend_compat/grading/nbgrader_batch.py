"""Several nbgrader commands in one process: ``python -m ascend_compat.grading.nbgrader_batch STEP...``.

Each ``nbgrader`` start costs about two seconds of imports; ``ascend-lab grade`` needs
``autograde`` and then ``generate_feedback``, so it runs both here, through nbgrader's own
:class:`nbgrader.apps.NbGraderAPI` (what the formgrader calls), with the configuration nbgrader's
command line would load (the course's ``nbgrader_config.py`` and the Jupyter config path).

Steps: ``generate_assignment:ASSIGNMENT``, ``autograde:ASSIGNMENT:STUDENT``,
``generate_feedback:ASSIGNMENT:STUDENT``. Prints one JSON object: ``{step: {"success": bool,
"log": text}}``; exits 1 if a step failed (the later steps still run).
"""

from __future__ import annotations

import json
import sys


def run(steps: list[str]) -> dict:
    from nbgrader.apps import NbGraderAPI
    from nbgrader.apps.nbgraderapp import NbGraderApp

    app = NbGraderApp()
    app.initialize([])  # loads nbgrader_config.py files exactly as `nbgrader ...` does
    api = NbGraderAPI(config=app.config)
    results = {}
    for step in steps:
        action, *args = step.split(":")
        if action == "generate_assignment":
            outcome = api.generate_assignment(args[0], force=True)
        elif action == "autograde":
            outcome = api.autograde(args[0], args[1], force=True, create=True)
        elif action == "generate_feedback":
            outcome = api.generate_feedback(args[0], args[1], force=True)
        else:
            outcome = {"success": False, "log": f"unknown step {action!r}"}
        results[step] = {"success": bool(outcome.get("success")),
                         "log": (outcome.get("log") or "") + (outcome.get("error") or "")}
    return results


def main(argv: list[str]) -> int:
    results = run(argv)
    print(json.dumps(results))
    return 0 if all(result["success"] for result in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
