# SPDX-License-Identifier: GPL-2.0
"""The two ends of the demo: a kTLS server and a tapsec client.

Both get the same TLS 1.3 AES-128-GCM traffic keys (one set per direction),
derived here from one random hex string given on the command line.
"""
import errno
import os
import socket
import struct
import subprocess
import sys

IPPROTO_TAPSEC, SOL_TAPSEC = 258, 290
TAPSEC_TX, TAPSEC_RX = 3, 4
SOL_TLS, TLS_TX, TLS_RX, TCP_ULP = 282, 1, 2, 31
TLS13, AES_GCM_128 = 0x0304, 51


def crypto_info(material):
    """struct tls12_crypto_info_aes_gcm_128 == tapsec_crypto_info_aes_gcm_128"""
    iv, key, salt = material[0:8], material[8:24], material[24:28]
    return struct.pack("=HH", TLS13, AES_GCM_128) + iv + key + salt + bytes(8)


def keys(hexkey):
    m = bytes.fromhex(hexkey)
    c2s = crypto_info(m[:28])
    s2c = crypto_info(bytes(b ^ 0x5A for b in m[:28]))
    return c2s, s2c


def server(hexkey):
    c2s, s2c = keys(hexkey)
    lsock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("::", 4433))
    lsock.listen()
    open("/tmp/demo-server-ready", "w").close()
    conn, peer = lsock.accept()
    conn.setsockopt(socket.SOL_TCP, TCP_ULP, b"tls")
    conn.setsockopt(SOL_TLS, TLS_RX, c2s)
    conn.setsockopt(SOL_TLS, TLS_TX, s2c)
    request = conn.recv(4096)
    print(f"  server: kTLS decrypted {len(request)} bytes from {peer[0]}: "
          f"{request.splitlines()[0].decode()}")
    body = b"hello from kTLS, " + bytes(1000)
    conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    # The tapsec client's shutdown(SHUT_WR) sent close_notify: kTLS
    # hands non-data records over with their type in a control message.
    data, anc, _, _ = conn.recvmsg(64, socket.CMSG_SPACE(1))
    rtype = anc[0][2][0] if anc else None
    print(f"  server: next record type {rtype} (21 = alert), payload {data.hex()} "
          f"(01 00 = close_notify)")
    conn.close()
    lsock.close()


def client(hexkey):
    c2s, s2c = keys(hexkey)
    sock = socket.socket(socket.AF_INET6, socket.SOCK_STREAM, IPPROTO_TAPSEC)
    sock.connect(("fd00::1", 4433))
    try:
        sock.send(b"too early")
    except OSError as e:
        print(f"  client: send before keys -> {errno.errorcode[e.errno]} (fail closed)")
    sock.setsockopt(SOL_TAPSEC, TAPSEC_TX, c2s)
    sock.setsockopt(SOL_TAPSEC, TAPSEC_RX, s2c)
    sock.sendall(b"GET / HTTP/1.0\r\nHost: server\r\n\r\n")
    reply = b""
    while b"\r\n\r\n" not in reply or len(reply) < 1000:
        chunk = sock.recv(65536)
        if not chunk:
            break
        reply += chunk
    print(f"  client: tapsec decrypted {len(reply)} bytes: "
          f"{reply.splitlines()[0].decode()}")
    subprocess.run([os.environ.get("TAPSECCTL", "build/bin/tapsecctl"),
                    "sock", "list"], check=True)
    sock.shutdown(socket.SHUT_WR)
    sock.close()


if __name__ == "__main__":
    {"server": server, "client": client}[sys.argv[1]](sys.argv[2])
