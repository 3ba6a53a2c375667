# SPDX-License-Identifier: GPL-2.0
"""A DTLS echo server on a tapsec datagram socket.

listen() on a bound DTLS socket makes the kernel answer ClientHellos with
cookies (HelloVerifyRequest) before anything is kept about the client;
accept() returns a socket connected to a client whose address came back
with its cookie, once tapsec-handshaked ran the DTLS handshake on it.

    python3 -m demo_dtls PORT IDENTITY
"""
import socket
import struct
import sys

from demo_https import COUNTERS, CIPHERS, IPPROTO_TAPSEC, SOL_TAPSEC, \
    TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_DAEMON, TAPSEC_HANDSHAKE_INFO, \
    TAPSEC_IDENTITY, TAPSEC_SOCK_INFO

TAPSEC_PROTOCOL, TAPSEC_PROTO_DTLS = 1, 2
TAPSEC_MAX_PAYLOAD = 38


def serve(port, identity):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, IPPROTO_TAPSEC)
    lsock.setsockopt(SOL_TAPSEC, TAPSEC_PROTOCOL, TAPSEC_PROTO_DTLS)
    lsock.setsockopt(SOL_TAPSEC, TAPSEC_HANDSHAKE, TAPSEC_HANDSHAKE_DAEMON)
    lsock.setsockopt(SOL_TAPSEC, TAPSEC_IDENTITY, identity.encode())
    lsock.bind(("0.0.0.0", port))
    lsock.listen()
    open("/tmp/demo-dtls-ready", "w").close()
    conn, peer = lsock.accept()          # cookie, then the DTLS handshake
    info = conn.getsockopt(SOL_TAPSEC, TAPSEC_HANDSHAKE_INFO, 16 + 128)
    version, cipher = struct.unpack_from("=HH", info, 8)
    room = struct.unpack("=i", conn.getsockopt(SOL_TAPSEC, TAPSEC_MAX_PAYLOAD, 4))[0]
    print(f"  server: {peer[0]}:{peer[1]} validated by cookie, "
          f"DTLS {'1.2' if version == 0xfefd else hex(version)} "
          f"{CIPHERS.get(cipher, cipher)}, up to {room} bytes a datagram", flush=True)
    data = conn.recv(room)               # one record, opened by the kernel
    conn.send(b"echo: " + data)
    raw = conn.getsockopt(SOL_TAPSEC, TAPSEC_SOCK_INFO, 24 + 15 * 8)
    print(f"  server: kernel counters "
          f"{dict(zip(COUNTERS, struct.unpack_from('=4Q', raw, 24)))}", flush=True)
    conn.close()                         # close_notify
    lsock.close()


if __name__ == "__main__":
    serve(int(sys.argv[1]), sys.argv[2])
