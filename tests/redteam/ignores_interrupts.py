"""An endless loop that ignores SIGINT: the interrupt fails, the notebook stops, the kernel is killed."""

EXPECT = {"points": 0, "flagged": True, "finding": "signal"}


def submission(kit):
    return kit.answer(kit.release(), "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n")
