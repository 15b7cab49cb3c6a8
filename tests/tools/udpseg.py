#!/usr/bin/env python3
"""UDP datagrams that say what they are, for the mesh interface's UDP offload
test (tests/natlab/53-punchd-tun-offload.sh).

  udpseg.py send ADDR PORT COUNT SIZE SEGS gso|plain   COUNT datagrams of
      SIZE bytes in bursts of SEGS, 2 ms apart: gso, each burst one send with
      UDP_SEGMENT (one super-datagram the kernel cuts, or hands whole to a
      device with USO); plain, SEGS sends back to back
  udpseg.py recv ADDR PORT SIZE              until 2 s pass without one;
      prints "got N bad M" (bad: a datagram whose bytes are not the ones its
      number says, or of another size)

Datagram n: 4 bytes n (big endian), then bytes (n + i) % 251 for i from 0.
"""
import socket
import sys
import time

SOL_UDP = 17
UDP_SEGMENT = 103
PATTERN = bytes(i % 251 for i in range(251 + 65536))


def body(n, size):
    return n.to_bytes(4, "big") + PATTERN[n % 251:n % 251 + size - 4]


def sock(addr):
    return socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET,
                         socket.SOCK_DGRAM)


def send(addr, port, count, size, segs, gso):
    s = sock(addr)
    if gso:
        s.setsockopt(SOL_UDP, UDP_SEGMENT, size)
    n = 0
    while n < count:
        k = min(segs, count - n)
        if gso:
            s.sendto(b"".join(body(n + j, size) for j in range(k)),
                     (addr, port))
        else:
            for j in range(k):
                s.sendto(body(n + j, size), (addr, port))
        n += k
        time.sleep(0.002)    # a steady rate: the test checks integrity


def recv(addr, port, size):
    s = sock(addr)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((addr, port))
    s.settimeout(15)          # the first may take the sender's start-up
    got = bad = 0
    print("ready", flush=True)
    while True:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        s.settimeout(2)
        got += 1
        if len(d) != size or d != body(int.from_bytes(d[:4], "big"), size):
            bad += 1
    print("got %d bad %d" % (got, bad), flush=True)


def main():
    a = sys.argv[1:]
    if len(a) == 7 and a[0] == "send" and a[6] in ("gso", "plain"):
        send(a[1], int(a[2]), int(a[3]), int(a[4]), int(a[5]),
             a[6] == "gso")
    elif len(a) == 4 and a[0] == "recv":
        recv(a[1], int(a[2]), int(a[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
