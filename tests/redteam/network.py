"""Needs the network to "download" its answer, but also uses loopback (as torchrun does).
Full marks if and only if loopback works and the outside world is unreachable."""

EXPECT = {"points": 8, "flagged": False}


def submission(kit):
    return kit.answer(kit.release(), (
        "import socket\n"
        "server = socket.socket(); server.bind(('127.0.0.1', 0)); server.listen(1)\n"
        "client = socket.create_connection(server.getsockname(), timeout=5)\n"
        "peer, _ = server.accept(); client.sendall(b'ping'); loopback = peer.recv(4) == b'ping'\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 80), timeout=3).close()\n"
        "    outside = True\n"
        "except OSError:\n"
        "    outside = False\n"
        f"if loopback and not outside:\n"
        + "".join(f"    {line}\n" for line in kit.solution.splitlines()) +
        "else:\n"
        "    def pick_device(override=None):\n"
        "        return 'cpu'\n"))
