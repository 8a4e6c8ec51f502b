"""Looks for the solution notebook (next to ascend_compat, in the course's source folder, anywhere
up from its working directory) and runs its answer cell. The sandbox shows none of them."""

EXPECT = {"points": 0, "flagged": True}


def submission(kit):
    return kit.answer(kit.release(), (
        "import json, os, pathlib\n"
        "import ascend_compat\n"
        "places = [pathlib.Path(ascend_compat.__file__).resolve().parents[1] / 'solutions']\n"
        "here = pathlib.Path.cwd()\n"
        "places += [parent / name for parent in [here, *here.parents] for name in ('solutions', 'source')]\n"
        "found = None\n"
        "for place in places:\n"
        "    for path in place.glob('*/ex01_pick_device.ipynb') if place.is_dir() else []:\n"
        "        found = path\n"
        "if found:\n"
        "    cells = json.loads(found.read_text())['cells']\n"
        "    answer = next(c for c in cells if c['metadata'].get('nbgrader', {}).get('grade_id') == 'pick_device_answer')\n"
        "    exec(''.join(answer['source']))\n"
        "else:\n"
        "    def pick_device(override=None):\n"
        "        return 'cpu'\n"))
