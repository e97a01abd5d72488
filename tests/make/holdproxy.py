#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 for the Make e2e: while the file HOLD exists it accepts
connections and never answers them (a stalled link, so that an upload is in flight
when the test kills make); otherwise it forwards each connection to TARGET.

Usage: holdproxy.py HOLD TARGET_HOST:PORT  (prints its own host:port, then serves)
"""
import socket
import sys
import threading
import os


def pipe(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(conn, hold, target):
    if os.path.exists(hold):
        conn.recv(1)  # hold it until the client goes away
        conn.close()
        return
    host, port = target.rsplit(":", 1)
    up = socket.create_connection((host, int(port)))
    threading.Thread(target=pipe, args=(conn, up), daemon=True).start()
    pipe(up, conn)


def main():
    hold, target = sys.argv[1], sys.argv[2]
    ln = socket.socket()
    ln.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ln.bind(("127.0.0.1", 0))
    ln.listen(16)
    print("127.0.0.1:%d" % ln.getsockname()[1], flush=True)
    while True:
        conn, _ = ln.accept()
        threading.Thread(target=serve, args=(conn, hold, target), daemon=True).start()


if __name__ == "__main__":
    main()
