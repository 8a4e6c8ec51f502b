"""Tries to kill the grader: its parent, its process group, every process it can see."""

EXPECT = {"points": 0, "flagged": True, "finding": "kernel died"}


def submission(kit):
    return kit.answer(kit.release(), (
        "import os, signal\n"
        "for pid in [os.getppid()] + [int(p) for p in os.listdir('/proc') if p.isdigit()]:\n"
        "    try:\n"
        "        os.kill(pid, signal.SIGKILL) if pid != os.getpid() else None\n"
        "    except OSError:\n"
        "        pass\n"
        "os.killpg(0, signal.SIGKILL)\n"))
