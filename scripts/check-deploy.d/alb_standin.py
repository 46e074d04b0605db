"""Stand-in for the ALB, which cannot run here: an HTTP proxy on 127.0.0.1 that routes by path
prefix, as the Ingress's `Prefix` rules do, to the local processes that stand in for the
Services' pods. The routes come from the Ingress on the API server, so a chart whose Ingress
routes a path elsewhere fails here.

Usage: kubectl get ingress NAME -o json | alb_standin.py PORT SERVICE=URL...
"""

import http.client
import http.server
import json
import sys
from urllib.parse import urlsplit

ingress = json.load(sys.stdin)
port = int(sys.argv[1])
services = dict(arg.split("=", 1) for arg in sys.argv[2:])
routes = []
for rule in ingress["spec"]["rules"]:
    for path in rule["http"]["paths"]:
        backend = path["backend"]["service"]["name"]
        if backend not in services:
            sys.exit(f"alb_standin.py: the Ingress routes {path['path']} to {backend}, which runs nowhere here")
        routes.append((path["path"].rstrip("/"), services[backend]))
routes.sort(key=lambda r: -len(r[0]))  # the longest matching prefix wins, as in the ALB


class Proxy(http.server.BaseHTTPRequestHandler):
    def route(self):
        path = self.path.split("?", 1)[0]
        for prefix, target in routes:
            if path == prefix or path.startswith(prefix + "/"):
                return target
        return None

    def forward(self):
        target = self.route()
        if target is None:
            self.send_error(404, "no Ingress rule for this path")
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        url = urlsplit(target)
        upstream = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream.request(self.command, self.path, body=body, headers=headers)
        answer = upstream.getresponse()
        data = answer.read()
        self.send_response(answer.status)
        for name, value in answer.getheaders():
            if name.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = forward

    def log_message(self, fmt, *args):
        sys.stderr.write("alb-standin: " + fmt % args + "\n")


print(f"alb-standin: 127.0.0.1:{port} routes {routes}", file=sys.stderr, flush=True)
http.server.ThreadingHTTPServer(("127.0.0.1", port), Proxy).serve_forever()
