#!/usr/bin/env python3
"""Opens idle connections to handoverd and holds them until standard input
closes: plain TCP connections that never start TLS, and TLS connections
(with a client certificate, offering h2) that never send a request.

  flood.py PORT PKI_DIR TCP_COUNT TLS_COUNT [SOURCE_ADDRESS ...]

Connections are spread over the source addresses (127.0.0.0/8 on Linux:
any of them can be bound without configuration). Prints one line,
"held N refused M", once all are open, then waits."""
import socket
import ssl
import sys


def main():
    port, pki = int(sys.argv[1]), sys.argv[2]
    tcp_count, tls_count = int(sys.argv[3]), int(sys.argv[4])
    sources = sys.argv[5:] or ["127.0.0.1"]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(f"{pki}/ca.pem")
    context.load_cert_chain(f"{pki}/municipality-760.pem", f"{pki}/municipality-760.key")
    context.set_alpn_protocols(["h2"])
    held, refused = [], 0
    for i in range(tcp_count + tls_count):
        source = sources[i % len(sources)]
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=3,
                                            source_address=(source, 0))
            if i >= tcp_count:
                sock = context.wrap_socket(sock, server_hostname="localhost")
            held.append(sock)
        except (OSError, ssl.SSLError):
            refused += 1
    print(f"held {len(held)} refused {refused}", flush=True)
    sys.stdin.read()
    for sock in held:
        sock.close()


if __name__ == "__main__":
    main()
