"""A web site over HTTPS on 127.0.0.1 serving the files of a folder (the agency's
whitelist, a CA's CRL publication point), with a certificate of a test CA."""
import functools
import http.server
import ssl
import threading


class HttpsSite:
    def __init__(self, folder, ca, name="site"):
        self.dir = folder / name
        self.dir.mkdir()
        cert, key = ca.issue(name, "/CN=localhost/O=Plexus tests/C=FR")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(cert), str(key))

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(Quiet, directory=str(self.dir)))
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def address(self, name):
        return f"https://127.0.0.1:{self.server.server_address[1]}/{name}"

    def close(self):
        """Stops serving: connections to the port are refused from now on."""
        self.server.shutdown()
        self.server.server_close()
