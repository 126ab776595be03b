#!/usr/bin/env python3
"""flaky_proxy.py: a TCP proxy on 127.0.0.1 that breaks its first connections.

Forwards every connection to an upstream (loopback only). The first
--fail-connections connections are broken once --fail-after response bytes
(upstream -> client) have been forwarded; later connections pass through
untouched. Used to prove that the S3 reader resumes a dropped GET with a
Range request and still hands out every byte exactly once.

    flaky_proxy.py --upstream 127.0.0.1:7480 --fail-connections 3 \
        --fail-after 1000000 [--mode close|reset|stall] [--port-file FILE]

Modes: close = orderly FIN (curl: partial file), reset = TCP RST (curl:
receive error), stall = stop forwarding but keep the socket open (for
timeout and cancel tests), slowdown = answer the request itself with an S3
"503 SlowDown" error (--fail-after is ignored; for retry tests). The listening port (--listen-port 0 = any free
one) is printed as "PORT <n>" on stdout and written to --port-file. Runs
until killed (SIGTERM/SIGINT).
"""
import argparse
import ipaddress
import os
import signal
import socket
import struct
import sys
import threading

CHUNK = 65536


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True, help="HOST:PORT (loopback)")
    p.add_argument("--listen-port", type=int, default=0)
    p.add_argument("--fail-connections", type=int, default=1,
                   help="how many connections, counted from the first, break")
    p.add_argument("--fail-after", type=int, default=1 << 20,
                   help="response bytes forwarded before breaking")
    p.add_argument("--mode", choices=("close", "reset", "stall", "slowdown"), default="close")
    p.add_argument("--port-file")
    return p.parse_args()


def loopback_upstream(spec):
    """Resolve HOST:PORT and refuse anything that is not a loopback address."""
    host, _, port = spec.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit():
        sys.exit(f"flaky_proxy: bad --upstream {spec!r}, want HOST:PORT")
    infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    for family, _, _, _, addr in infos:
        if ipaddress.ip_address(addr[0]).is_loopback:
            return family, addr
    sys.exit(f"flaky_proxy: upstream {spec!r} is not a loopback address")


class Proxy:
    def __init__(self, args):
        self.args = args
        self.family, self.upstream = loopback_upstream(args.upstream)
        self.lock = threading.Lock()
        self.count = 0

    def log(self, msg):
        print(f"flaky_proxy: {msg}", file=sys.stderr, flush=True)

    def serve(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind(("127.0.0.1", self.args.listen_port))
        ls.listen(64)
        port = ls.getsockname()[1]
        if self.args.port_file:
            with open(self.args.port_file + ".tmp", "w") as f:
                f.write(f"{port}\n")
            # rename: a reader never sees a half-written file
            os.replace(self.args.port_file + ".tmp", self.args.port_file)
        print(f"PORT {port}", flush=True)
        while True:
            client, _ = ls.accept()
            with self.lock:
                self.count += 1
                n = self.count
            flaky = n <= self.args.fail_connections
            threading.Thread(target=self.handle, args=(client, n, flaky),
                             daemon=True).start()

    def handle(self, client, n, flaky):
        if flaky and self.args.mode == "slowdown":
            self.slowdown(client, n)
            return
        try:
            up = socket.create_connection(self.upstream[:2], timeout=10)
            up.settimeout(None)
        except OSError as e:
            self.log(f"conn {n}: upstream connect failed: {e}")
            client.close()
            return
        done = threading.Event()
        requests = threading.Thread(target=self.pump_requests,
                                    args=(client, up, done), daemon=True)
        requests.start()
        self.pump_responses(up, client, n, flaky, done, requests)

    def slowdown(self, client, n):
        """Read one request head and refuse it the way S3 throttles."""
        head = b""
        try:
            while b"\r\n\r\n" not in head and len(head) < 65536:
                data = client.recv(CHUNK)
                if not data:
                    break
                head += data
            body = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
                    b"<Error><Code>SlowDown</Code>"
                    b"<Message>Please reduce your request rate.</Message>"
                    b"</Error>")
            client.sendall(b"HTTP/1.1 503 Slow Down\r\n"
                           b"Content-Type: application/xml\r\n"
                           b"Content-Length: " + str(len(body)).encode() +
                           b"\r\nConnection: close\r\n\r\n" + body)
            self.log(f"conn {n}: answered 503 SlowDown")
        except OSError:
            pass
        finally:
            client.close()

    def pump_requests(self, client, up, done):
        """client -> upstream, untouched."""
        try:
            while not done.is_set():
                data = client.recv(CHUNK)
                if not data:
                    up.shutdown(socket.SHUT_WR)
                    return
                up.sendall(data)
        except OSError:
            pass

    def pump_responses(self, up, client, n, flaky, done, requests):
        """upstream -> client, breaking the stream after fail_after bytes."""
        limit = self.args.fail_after if flaky else None
        sent = 0
        try:
            while True:
                data = up.recv(CHUNK)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    client.sendall(data[: limit - sent])
                    sent = limit
                    self.log(f"conn {n}: {self.args.mode} after {sent} bytes")
                    self.break_connection(client, requests)
                    return
                client.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            done.set()
            for s in (up, client):
                try:
                    s.close()
                except OSError:
                    pass

    def break_connection(self, client, requests):
        mode = self.args.mode
        if mode == "stall":
            # keep the socket open, send nothing more, until the client leaves
            try:
                while client.recv(CHUNK):
                    pass
            except OSError:
                pass
            return
        if mode == "reset":
            # linger 0: close() sends RST instead of FIN.  The request pump
            # is blocked in recv() on this socket, and the kernel only
            # releases it (and sends the RST) once that call returns, so
            # wake it with SHUT_RD (which sends nothing) and wait for it.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                              struct.pack("ii", 1, 0))
            client.shutdown(socket.SHUT_RD)
            requests.join(timeout=5)
        else:
            client.shutdown(socket.SHUT_RDWR)


def main():
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        Proxy(args).serve()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
