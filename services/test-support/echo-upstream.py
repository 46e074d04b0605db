#!/usr/bin/env python3
"""An HTTP/1.1 upstream in another language than the proxy under test (Python's http.server).

By default it answers 200 with a JSON echo of the request as it arrived:
  {"method", "target" (the raw request target), "path", "query", "headers": [[name, value], ...]
   in arrival order, "body" (latin-1 text), "body_length", "chunked" (whether the body came
   chunked)}.
The query parameter `fixture` picks another behaviour (other parameters tune it):
  stream  `chunks` chunks of `size` bytes ("x"), `delay` seconds apart, chunked encoding
  cut     announces Content-Length `size` (default 1000), sends half, closes the connection
  hang    reads the request and never answers (until the client goes away)
  close   reads the request and closes the connection without a word
  status  answers `code` with the echo as body
  count   `{"requests": N}`: how many requests it received before this one (a request it
          should never have seen shows there)
  hop     the echo, plus hop-by-hop headers a proxy must drop (`Connection: close, X-Hop`,
          `X-Hop`, `Keep-Alive`, `Upgrade`) and two `Set-Cookie` headers it must keep
Usage: echo-upstream.py [--port 0]. Prints `READY {"url": "http://127.0.0.1:PORT"}` when serving.
"""

import argparse
import json
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received = 0
    received_lock = threading.Lock()

    def log_message(self, format, *args):  # keep the test output for failures only
        pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            body = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return body, True
                body += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length", "0"))
        return self.rfile.read(length), False

    def handle_any(self):
        body, chunked = self.read_body()
        target = urlsplit(self.path)
        params = {k: v[-1] for k, v in parse_qs(target.query).items()}
        fixture = params.get("fixture", "echo")
        with Handler.received_lock:
            received = Handler.received
            if fixture != "count":
                Handler.received += 1
        if fixture == "count":
            body = json.dumps({"requests": received}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        echo = json.dumps({
            "method": self.command,
            "target": self.path,
            "path": target.path,
            "query": target.query,
            "headers": [[k, v] for k, v in self.headers.items()],
            "body": body.decode("latin-1"),
            "body_length": len(body),
            "chunked": chunked,
        }).encode()
        if fixture == "stream":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            delay = float(params.get("delay", "0.1"))
            size = int(params.get("size", "10"))
            for _ in range(int(params.get("chunks", "5"))):
                self.wfile.write(b"%x\r\n%s\r\n" % (size, b"x" * size))
                self.wfile.flush()
                time.sleep(delay)
            self.wfile.write(b"0\r\n\r\n")
        elif fixture == "cut":
            size = int(params.get("size", "1000"))
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            self.wfile.write(b"x" * (size // 2))
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif fixture == "hang":
            # Until the client closes: a read returns b"" then.
            while self.rfile.read(1):
                pass
            self.close_connection = True
        elif fixture == "close":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        else:
            self.send_response(int(params.get("code", "200")) if fixture == "status" else 200)
            self.send_header("Content-Type", "application/json")
            if fixture == "hop":
                self.send_header("Connection", "keep-alive, X-Hop")
                self.send_header("X-Hop", "connection-specific")
                self.send_header("Keep-Alive", "timeout=5")
                self.send_header("Upgrade", "websocket")
                self.send_header("Set-Cookie", "a=1")
                self.send_header("Set-Cookie", "b=2")
            self.send_header("Content-Length", str(len(echo)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(echo)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    print("READY " + json.dumps({"url": "http://127.0.0.1:%d" % server.server_address[1]}))
    sys.stdout.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()
