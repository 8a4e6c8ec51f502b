"""Makes isinstance() always true, so `assert isinstance(chosen, torch.device)` cannot fail."""

EXPECT = {"points": 0, "flagged": True, "finding": "builtins.isinstance"}


def submission(kit):
    return kit.answer(kit.release(), (
        "import builtins\n"
        "builtins.isinstance = lambda obj, kind: True\n"
        "def pick_device(override=None):\n"
        "    return 'npu'\n"))
