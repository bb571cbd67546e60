"""updlib_server.py -- servers for the micro-update integration tests.

Python standard library only.  Three servers:

  StaticServer   `python3 -m http.server` over a web root, in a child
                 process started and stopped by PID.
  FaultServer    an in-process ThreadingHTTPServer serving a web root with
                 one fault at a time (mode): 404, 500, 503 + Retry-After,
                 stalled or truncated body (of the manifest, or of the .cmu
                 files: "-cmu" modes), flipped bytes in .cmu files or in the
                 manifest, oversized .cmu bodies, or a different web root (a
                 replayed older tree).  set_root switches the web root to a
                 tree the test built.  Counts requests per path.
  AuthProxy      an in-process plain-HTTP forward proxy (absolute-URI GET and
                 POST, no CONNECT) that demands Basic proxy authentication
                 and records what it saw.

Every server binds 127.0.0.1 on a free port chosen by the kernel.
"""

import base64
import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request


def free_port():
    """A port nobody listens on (for the refused-connection case)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class _QuietServer(http.server.ThreadingHTTPServer):
    """Clients that abort a transfer on purpose (a cap, a timeout) are not
    errors worth a traceback."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (BrokenPipeError, ConnectionResetError,
                            TimeoutError)):
            return
        super().handle_error(request, client_address)


class StaticServer:
    """python3 -m http.server ROOT in a child process, stopped by PID."""

    def __init__(self, root):
        self.root = root
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "-m", "http.server", "0", "--bind",
             "127.0.0.1", "--directory", root],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        # The first line is printed after the socket is bound:
        # "Serving HTTP on 127.0.0.1 port N (http://127.0.0.1:N/) ..."
        line = self.proc.stdout.readline()
        words = line.split()
        if "port" not in words:
            self.stop()
            raise RuntimeError("http.server did not start: %r" % line)
        self.port = int(words[words.index("port") + 1])
        self.url = "http://127.0.0.1:%d/" % self.port

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=10)
        self.proc.stdout.close()


class _FaultHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_POST(self):
        srv = self.server
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with srv.lock:
            srv.posts.append((self.path, body))
        self._send(200, b"ok\n")

    def do_GET(self):
        srv = self.server
        name = self.path.lstrip("/")
        with srv.lock:
            srv.hits[name] = srv.hits.get(name, 0) + 1
            srv.requests.append((self.path, dict(self.headers)))
        mode = srv.mode
        if mode == "404":
            return self._send(404, b"not found\n")
        if mode == "500":
            return self._send(500, b"boom\n")
        if mode == "503":
            return self._send(503, b"busy\n", [("Retry-After", "120")])
        root = srv.alt_root if mode == "replay" else srv.root
        path = os.path.join(root, name)
        if "/" in name or name.startswith(".") or not os.path.isfile(path):
            return self._send(404, b"not found\n")
        with open(path, "rb") as f:
            data = f.read()
        is_cmu = name.endswith(".cmu")
        if (mode == "stall" and name == "manifest") or (
                mode == "stall-cmu" and is_cmu):
            # Headers and a little of the body, then nothing until the
            # client gives up (or the server shuts down).
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[:10])
            self.wfile.flush()
            srv.release.wait(30)
            return None
        if (mode == "truncate" and name == "manifest") or (
                mode == "truncate-cmu" and is_cmu):
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return None
        if mode == "flip-cmu" and is_cmu:
            data = bytearray(data)
            data[len(data) // 2] ^= 0x20
            data = bytes(data)
        if mode == "flip-manifest" and name == "manifest":
            data = bytearray(data)
            data[30] ^= 0x01  # inside the signed body
            data = bytes(data)
        if mode == "oversize" and is_cmu:
            data = data + b"\0" * (8 << 20)
        headers = []
        if name == "manifest":
            headers.append(("ETag", '"m-%d"' % len(data)))
        return self._send(200, data, headers)


class FaultServer:
    """In-process HTTP server with switchable faults (see module doc)."""

    def __init__(self, root, alt_root=None):
        self.httpd = _QuietServer(("127.0.0.1", 0), _FaultHandler)
        self.httpd.root = root
        self.httpd.alt_root = alt_root or root
        self.httpd.mode = "ok"
        self.httpd.hits = {}
        self.httpd.requests = []
        self.httpd.posts = []
        self.httpd.lock = threading.Lock()
        self.httpd.release = threading.Event()
        self.port = self.httpd.server_address[1]
        self.url = "http://127.0.0.1:%d/" % self.port
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def set_mode(self, mode):
        self.httpd.mode = mode

    def set_root(self, root):
        """Serve another web root from now on (a tree the test built)."""
        self.httpd.root = root

    @property
    def hits(self):
        return self.httpd.hits

    @property
    def requests(self):
        return self.httpd.requests

    @property
    def posts(self):
        return self.httpd.posts

    def stop(self):
        self.httpd.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _relay(self, method):
        srv = self.server
        auth = self.headers.get("Proxy-Authorization", "")
        with srv.lock:
            srv.seen.append((method, self.path, auth))
        if auth != srv.expected:
            body = b"proxy authentication required\n"
            self.send_response(407)
            self.send_header("Proxy-Authenticate", 'Basic realm="updates"')
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if not self.path.startswith("http://"):
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = None
        if method == "POST":
            data = self.rfile.read(int(self.headers.get("Content-Length",
                                                        "0")))
        req = urllib.request.Request(self.path, data=data, method=method)
        for k in ("If-None-Match", "If-Modified-Since", "Content-Type"):
            if self.headers.get(k):
                req.add_header(k, self.headers.get(k))
        # No proxy for the proxy itself, whatever the environment says.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=10) as r:
                status, body, hdrs = r.status, r.read(), r.headers
        except urllib.error.HTTPError as e:
            status, body, hdrs = e.code, e.read(), e.headers
        self.send_response(status)
        for k in ("ETag", "Last-Modified", "Retry-After"):
            if hdrs.get(k):
                self.send_header(k, hdrs.get(k))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._relay("GET")

    def do_POST(self):
        self._relay("POST")


class AuthProxy:
    """Forward proxy demanding Basic user:password (see module doc)."""

    def __init__(self, user, password):
        self.httpd = _QuietServer(("127.0.0.1", 0), _ProxyHandler)
        token = base64.b64encode(("%s:%s" % (user, password)).encode())
        self.httpd.expected = "Basic " + token.decode()
        self.httpd.seen = []
        self.httpd.lock = threading.Lock()
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    @property
    def seen(self):
        return self.httpd.seen

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)
