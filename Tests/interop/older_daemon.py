#!/usr/bin/env python3
"""A daemon from before ListSummaries, for karstctl's fallback test: listens on a Unix socket,
answers io.karst.Scheduler.ListSummaries with org.varlink.service.MethodNotFound (as a karstd
that does not know the method does) and passes every other call to the real karstd behind it,
its reply back. One call at a time per connection, no "more" calls: what karstctl list sends.

usage: older_daemon.py LISTEN_SOCKET KARSTD_SOCKET   (prints "ready" once listening)
"""
import json
import os
import signal
import socket
import sys
import threading

REFUSED = "io.karst.Scheduler.ListSummaries"


def frames(sock):
    """The NUL-terminated frames read from sock, until it closes."""
    buffer = b""
    while True:
        data = sock.recv(65536)
        if not data:
            return
        buffer += data
        while b"\0" in buffer:
            frame, buffer = buffer.split(b"\0", 1)
            yield frame


def serve(client, target):
    with client, socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as upstream:
        upstream.connect(target)
        replies = frames(upstream)
        for frame in frames(client):
            method = json.loads(frame).get("method")
            if method == REFUSED:
                error = {"error": "org.varlink.service.MethodNotFound", "parameters": {"method": method}}
                client.sendall(json.dumps(error).encode() + b"\0")
                continue
            upstream.sendall(frame + b"\0")
            reply = next(replies, None)
            if reply is None:
                return
            client.sendall(reply + b"\0")


def main():
    # Started by a test process whose threads block signals: with them unblocked and SIGTERM's
    # default action, the test's terminate() ends the proxy.
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    listen, target = sys.argv[1], sys.argv[2]
    if os.path.exists(listen):
        os.unlink(listen)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(listen)
    server.listen(16)
    print("ready", flush=True)
    while True:
        client, _ = server.accept()
        threading.Thread(target=serve, args=(client, target), daemon=True).start()


if __name__ == "__main__":
    main()
