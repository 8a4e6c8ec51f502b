"""Disables IPython's traceback display, hoping failed tests show no error (nbgrader reads the reply)."""

EXPECT = {"points": 0, "flagged": True, "finding": "showtraceback"}


def submission(kit):
    return kit.answer(kit.release(), (
        "ip = get_ipython()\n"
        "ip.showtraceback = lambda *args, **kwargs: None\n"
        "ip._showtraceback = lambda *args, **kwargs: None\n"
        "def pick_device(override=None):\n"
        "    return 'cpu'\n"))
