"""The kernel sends itself SIGKILL."""

EXPECT = {"points": 0, "flagged": True, "finding": "kernel died"}


def submission(kit):
    return kit.answer(kit.release(), "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
