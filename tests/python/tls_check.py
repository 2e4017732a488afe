"""`cert HOST PORT CAFILE`: prints the SHA-256 of the certificate a TLS server presents, once
verified against CAFILE, and the protocol version."""

import hashlib
import socket
import ssl
import sys

host, port, ca = sys.argv[2], int(sys.argv[3]), sys.argv[4]
context = ssl.create_default_context(cafile=ca)
with socket.create_connection((host, port), timeout=10) as plain:
    with context.wrap_socket(plain, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
        print(hashlib.sha256(der).hexdigest(), tls.version())
