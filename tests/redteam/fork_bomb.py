"""Forks without end: RLIMIT_NPROC in the sandbox's own user namespace stops it (os.fork fails)."""

EXPECT = {"points": 0, "flagged": False}


def submission(kit):
    return kit.answer(kit.release(), "import os\nwhile True:\n    os.fork()\n" + kit.solution)
