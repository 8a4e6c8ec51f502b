"""Calls os._exit(): the kernel is gone; the cells left score 0 and the batch goes on."""

EXPECT = {"points": 0, "flagged": True, "finding": "kernel died"}


def submission(kit):
    return kit.answer(kit.release(), "import os\nos._exit(3)\n")
