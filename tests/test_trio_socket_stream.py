"""The trio session's socket stream (aiogoogle.sessions.trio_session._SocketStream): trio's
stream contract kept while skipping the scheduler after operations that complete at once."""

from __future__ import annotations

import socket

import pytest
import trio
import trio.testing

from aiogoogle.sessions.trio_session import _QUICK_RUN, _SocketStream


def _pair() -> tuple[_SocketStream, socket.socket]:
    ours, theirs = socket.socketpair()
    return _SocketStream(ours), theirs


def test_bytes_go_both_ways_including_sends_larger_than_the_socket_buffer() -> None:
    async def main() -> None:
        stream, peer = _pair()
        peer.setblocking(False)
        payload = bytes(range(256)) * 40_000  # ~10 MB: send() completes only in parts
        received = bytearray()

        async def drain() -> None:
            while len(received) < len(payload):
                await trio.lowlevel.wait_readable(peer)
                received.extend(peer.recv(1 << 20))

        async with trio.open_nursery() as nursery:
            nursery.start_soon(drain)
            await stream.send_all(payload)
        assert bytes(received) == payload
        peer.sendall(b"answer")
        assert await stream.receive_some(100) == b"answer"
        peer.close()
        assert await stream.receive_some(100) == b""  # end of stream
        await stream.aclose()

    trio.run(main)


def test_a_stream_that_never_waits_still_lets_other_tasks_run() -> None:
    # Data is always ready, so no receive waits; every _QUICK_RUN operations yield once.
    # trio runs ready tasks in a random order, so the other task's turns per yield vary:
    # about one each (10 here); without the yields it gets none.
    async def main() -> None:
        stream, peer = _pair()
        try:
            peer.sendall(b"x" * 10_000)
            turns = 0

            async def other() -> None:
                nonlocal turns
                while True:
                    turns += 1
                    await trio.lowlevel.checkpoint()

            async with trio.open_nursery() as nursery:
                nursery.start_soon(other)
                await trio.lowlevel.checkpoint()  # other starts
                before = turns
                for _ in range(_QUICK_RUN * 10):
                    assert await stream.receive_some(1) == b"x"
                gained = turns - before
                nursery.cancel_scope.cancel()
            assert gained >= 5
        finally:
            await stream.aclose()
            peer.close()

    trio.run(main)


def test_operations_that_complete_at_once_still_honour_cancellation() -> None:
    async def main() -> None:
        stream, peer = _pair()
        peer.sendall(b"ready")
        with trio.CancelScope() as scope:
            scope.cancel()
            await stream.send_all(b"never sent")
        assert scope.cancelled_caught
        with trio.CancelScope() as scope:
            scope.cancel()
            await stream.receive_some(10)
        assert scope.cancelled_caught
        peer.setblocking(False)
        with pytest.raises(BlockingIOError):
            peer.recv(10)  # the cancelled send sent nothing
        assert await stream.receive_some(10) == b"ready"  # nor did the cancelled receive take it
        await stream.aclose()
        peer.close()

    trio.run(main)


def test_a_wait_is_where_a_timeout_takes_effect() -> None:
    async def main() -> None:
        stream, peer = _pair()
        with trio.move_on_after(0.05) as scope:
            await stream.receive_some(10)  # nothing ever arrives
        assert scope.cancelled_caught
        await stream.aclose()
        peer.close()

    trio.run(main)


def test_errors_are_trio_stream_errors() -> None:
    async def main() -> None:
        stream, peer = _pair()
        # A reset (RST) from the other side: the connection broke.
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        peer.close()
        with pytest.raises(trio.BrokenResourceError):
            for _ in range(100):
                await stream.send_all(b"x" * 65536)
        await stream.aclose()
        with pytest.raises(trio.ClosedResourceError):
            await stream.send_all(b"after close")
        with pytest.raises(trio.ClosedResourceError):
            await stream.receive_some(1)
        with pytest.raises(trio.ClosedResourceError):
            await stream.wait_send_all_might_not_block()
        await stream.aclose()  # closing twice is harmless

    trio.run(main)


def test_closing_wakes_a_task_waiting_to_receive() -> None:
    async def main() -> None:
        stream, peer = _pair()
        failures: list[BaseException] = []

        async def reader() -> None:
            try:
                await stream.receive_some(10)
            except trio.ClosedResourceError as exc:
                failures.append(exc)

        async with trio.open_nursery() as nursery:
            nursery.start_soon(reader)
            await trio.testing.wait_all_tasks_blocked()
            await stream.aclose()
        assert len(failures) == 1
        peer.close()

    trio.run(main)
