#!/usr/bin/env python3
"""Times new sessions on a running gateway as a browser's first visit sees them, with raw sockets
(so no client library's own start-up counts): TCP connect -> 101 -> first frame (the hello), for N
sessions arriving GAP seconds apart, each from a loopback address of its own (127.0.0.10, .11, ...:
one user each for the per-client limits). Every session is ended (close 1000) at the end, which
frees its container. Bounded: N <= 100, each step times out after 30 s.

Usage: scripts/probe-first-frame.py [--sessions N] [--gap S] [--warm-up W] [--url ws://127.0.0.1:8080/ws]
The first W sessions (default 2) are not counted: the gateway's first claims run cold code.
"""
import argparse, base64, os, socket, statistics, struct, sys, time
from urllib.parse import urlparse

def read_until(sock, buf, done):
    while not done(buf):
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("the gateway closed the connection")
        buf += chunk
    return buf

def frame_complete(data):
    if len(data) < 2:
        return False
    length, header = data[1] & 0x7F, 2
    if length == 126:
        header = 4
    elif length == 127:
        header = 10
    return len(data) >= header

def one_session(host, port, path, local):
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{host}:{port}\r\n\r\n")
    sock = socket.socket()
    sock.settimeout(30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((local, 0))
    begun = time.perf_counter()
    sock.connect((host, port))
    sock.sendall(request.encode())
    data = read_until(sock, b"", lambda b: b"\r\n\r\n" in b)
    upgraded = time.perf_counter()
    head, rest = data.split(b"\r\n\r\n", 1)
    status = head.split(b"\r\n")[0].decode()
    if " 101 " not in status + " ":
        sock.close()
        raise RuntimeError(f"not upgraded: {status}")
    read_until(sock, rest, frame_complete)
    first = time.perf_counter()
    return sock, (upgraded - begun) * 1000, (first - begun) * 1000

def end(sock):
    try:
        payload = struct.pack("!H", 1000)
        mask = os.urandom(4)
        sock.sendall(bytes([0x88, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        time.sleep(0.05)
    finally:
        sock.close()

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--gap", type=float, default=3.0)
    parser.add_argument("--warm-up", type=int, default=2)
    parser.add_argument("--url", default="ws://127.0.0.1:8080/ws")
    args = parser.parse_args()
    if not 1 <= args.sessions <= 100 or not 0 <= args.warm_up <= 10 or not 0 <= args.gap <= 60:
        sys.exit("probe-first-frame.py: --sessions 1-100, --warm-up 0-10, --gap 0-60")
    url = urlparse(args.url)
    host, port, path = url.hostname, url.port or 80, url.path or "/"
    open_sockets, upgrades, firsts = [], [], []
    try:
        for i in range(args.warm_up + args.sessions):
            sock, upgrade_ms, first_ms = one_session(host, port, path, f"127.0.0.{10 + i}")
            open_sockets.append(sock)
            counted = i >= args.warm_up
            if counted:
                upgrades.append(upgrade_ms)
                firsts.append(first_ms)
            print(f"{'session' if counted else 'warm-up'} {i + 1}: 101 after {upgrade_ms:.2f} ms, "
                  f"first frame after {first_ms:.2f} ms", flush=True)
            time.sleep(args.gap)
    finally:
        for sock in open_sockets:
            end(sock)
    firsts.sort()
    p95 = firsts[min(len(firsts) - 1, max(0, int(round(0.95 * len(firsts))) - 1))]
    print(f"{len(firsts)} sessions: connect -> 101 p50 {statistics.median(upgrades):.2f} ms; "
          f"connect -> first frame p50 {statistics.median(firsts):.2f} ms, p95 {p95:.2f} ms, max {firsts[-1]:.2f} ms")

if __name__ == "__main__":
    main()
