# SPDX-License-Identifier: GPL-2.0
"""An HTTPS server on a tapsec socket whose handshake tapsec-handshaked runs.

The server never touches TLS: it sets the handshake options on a tapsec
socket, accepts, and reads and writes plain HTTP; the kernel protects the
records with the keys the daemon installed.

    python3 -m demo_https PORT IDENTITY COUNT [PSK_IDENTITY]

PSK_IDENTITY ("*": any in the kernel's store) lets clients in with an
external PSK as well as with the server's certificate.

DEMO_HTTPS_PAUSE=SECONDS in the environment makes every second answer
wait that long before its shutdown(), as a busy server might: by then the
client has read the page and closed (selftests/tapsec/demo_flow_test.sh).
"""
import os
import socket
import struct
import sys
import time

IPPROTO_TAPSEC, SOL_TAPSEC = 258, 290
TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_DAEMON = 7, 1
TAPSEC_ALPN, TAPSEC_IDENTITY, TAPSEC_PSK_IDENTITY = 10, 11, 14
TAPSEC_HANDSHAKE_INFO, TAPSEC_ALPN_NEGOTIATED, TAPSEC_PEER_IDENTITY = 17, 18, 19
TAPSEC_HS_F_PSK = 1 << 2
TAPSEC_SOCK_INFO = 2
VERSIONS = {0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}
CIPHERS = {51: "AES-128-GCM", 52: "AES-256-GCM", 54: "ChaCha20-Poly1305"}
COUNTERS = ("tx_records", "tx_bytes", "rx_records", "rx_bytes")


def negotiated(conn):
    """Version, cipher, ALPN and how the client authenticated, from the kernel."""
    info = conn.getsockopt(SOL_TAPSEC, TAPSEC_HANDSHAKE_INFO, 16 + 128)
    _state, _err, version, cipher, flags = struct.unpack_from("=IIHHI", info)
    alpn = conn.getsockopt(SOL_TAPSEC, TAPSEC_ALPN_NEGOTIATED, 64)
    peer = conn.getsockopt(SOL_TAPSEC, TAPSEC_PEER_IDENTITY, 256)
    peer = peer.split(b"\0")[0].decode()
    auth = f"external PSK '{peer}'" if flags & TAPSEC_HS_F_PSK else "certificate of the server only"
    return (VERSIONS.get(version, hex(version)), CIPHERS.get(cipher, str(cipher)),
            alpn.split(b"\0")[0].decode() or "-", auth)


def counters(conn):
    """The first counters of struct tapsec_sock_info."""
    raw = conn.getsockopt(SOL_TAPSEC, TAPSEC_SOCK_INFO, 24 + 15 * 8)
    return dict(zip(COUNTERS, struct.unpack_from("=4Q", raw, 24)))


def serve(port, identity, count, psk_identity=None):
    lsock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, IPPROTO_TAPSEC)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.setsockopt(SOL_TAPSEC, TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_DAEMON)
    lsock.setsockopt(SOL_TAPSEC, TAPSEC_IDENTITY, identity.encode())
    lsock.setsockopt(SOL_TAPSEC, TAPSEC_ALPN, b"http/1.1")
    if psk_identity:
        lsock.setsockopt(SOL_TAPSEC, TAPSEC_PSK_IDENTITY, psk_identity.encode())
    lsock.bind(("::", port))
    lsock.listen(8)
    open("/tmp/demo-https-ready", "w").close()
    pause = float(os.environ.get("DEMO_HTTPS_PAUSE", "0"))
    for n in range(count):
        try:
            conn, peer = lsock.accept()  # returns after the TLS handshake
        except OSError as e:             # a handshake that failed
            print(f"  server: accept: {e.strerror}", flush=True)
            continue
        try:
            answer(conn, peer, pause if n % 2 else 0)
        except OSError as e:             # a client that left early
            print(f"  server: {peer[0]} left early: {e.strerror}", flush=True)
        finally:
            conn.close()


def answer(conn, peer, pause):
    """Read one request, answer it, wait @pause s, say close_notify."""
    version, cipher, alpn, auth = negotiated(conn)
    request = b""
    while b"\r\n\r\n" not in request:
        chunk = conn.recv(4096)
        if not chunk:
            break
        request += chunk
    line = request.split(b"\r\n")[0].decode(errors="replace")
    body = (f"hello from a tapsec socket\n"
            f"negotiated by tapsec-handshaked: {version}, {cipher}, ALPN {alpn}\n"
            f"records protected by tapsec.ko\n").encode()
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                 b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body)
                 + body)
    print(f"  server: {peer[0]} asked '{line}': {version} {cipher} ALPN {alpn}, "
          f"{auth}; kernel counters {counters(conn)}", flush=True)
    time.sleep(pause)
    conn.shutdown(socket.SHUT_WR)        # close_notify, then FIN


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
          sys.argv[4] if len(sys.argv) > 4 else None)
