"""Fixtures shared by the test modules of tests/."""

import socket

import pytest


@pytest.fixture(scope="module")
def no_network(request):
    """Makes any attempt to open a network connection fail immediately (for a whole module)."""

    def refuse(*args, **kwargs):
        raise OSError(f"network access is disabled in {request.module.__name__}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", refuse)
        mp.setattr(socket.socket, "connect_ex", refuse)
        mp.setattr(socket, "create_connection", refuse)
        mp.setattr(socket, "getaddrinfo", refuse)
        yield
