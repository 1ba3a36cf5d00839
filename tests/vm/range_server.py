#!/usr/bin/env python3
"""A tiny HTTP/1.1 file server for the KVM download tests, bound to 127.0.0.1 only.

Serves files from DIR with HTTP Range support (python3 -m http.server ignores Range).
--cut-after N: the first request for a file without a Range header gets its headers
(full Content-Length) and only N bytes, then the connection is closed: an interrupted
download. --no-range: ignore Range headers (always 200 + whole file).
Writes the chosen port to --port-file once listening. Logs requests to stderr.
"""
import argparse
import http.server
import os
import re
import socketserver
import sys

ARGS = None
CUT_DONE = set()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        path = os.path.join(ARGS.dir, os.path.basename(self.path.split("?")[0]))
        if not os.path.isfile(path):
            self.send_error(404)
            return
        data = open(path, "rb").read()
        rng = self.headers.get("Range")

        m = re.match(r"bytes=(\d+)-$", rng or "")
        if m and not ARGS.no_range:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            body = data[start:]
        else:
            self.send_response(200)
            body = data
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Accept-Ranges", "none" if ARGS.no_range else "bytes")
        self.end_headers()
        if ARGS.cut_after is not None and not rng and path not in CUT_DONE:
            CUT_DONE.add(path)
            self.wfile.write(body[: ARGS.cut_after])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--cut-after", type=int)
    p.add_argument("--no-range", action="store_true")
    ARGS = p.parse_args()
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as srv:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(srv.server_address[1]))
        os.rename(tmp, ARGS.port_file)
        srv.serve_forever()


if __name__ == "__main__":
    main()
