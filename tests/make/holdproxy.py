#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 for the Make e2e. It forwards each connection to
TARGET; a connection made while the file HOLD exists forwards only its first
LIMIT bytes towards TARGET and then holds (a stalled link: the store has seen
the upload start, so it calls it in progress, and nothing more arrives).

Usage: holdproxy.py HOLD LIMIT TARGET_HOST:PORT  (prints its own host:port, then serves)
"""
import os
import socket
import sys
import threading


def pipe(src, dst, limit=None):
    sent = 0
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if limit is not None and sent + len(b) > limit:
                dst.sendall(b[: limit - sent])
                src.recv(1)  # hold: read nothing more until the client goes away
                break
            dst.sendall(b)
            sent += len(b)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, hold, limit, target):
    host, port = target.rsplit(":", 1)
    up = socket.create_connection((host, int(port)))
    held = limit if os.path.exists(hold) else None
    threading.Thread(target=pipe, args=(conn, up, held), daemon=True).start()
    pipe(up, conn)


def main():
    hold, limit, target = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ln = socket.socket()
    ln.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ln.bind(("127.0.0.1", 0))
    ln.listen(16)
    print("127.0.0.1:%d" % ln.getsockname()[1], flush=True)
    while True:
        conn, _ = ln.accept()
        threading.Thread(target=serve, args=(conn, hold, limit, target), daemon=True).start()


if __name__ == "__main__":
    main()
