#!/usr/bin/env python3
"""pp2: act as a load balancer speaking the PROXY protocol v2 to relayd
(HAProxy doc/proxy-protocol.txt 2.2), or as a client spoofing one.

  pp2.py -p PORT [-b BIND] [-c CLIENT_IP:PORT | -L | -N] [-S] [-H SECS]
         [-x HEX] REQUEST

Connects from BIND (default 127.0.0.1) to 127.0.0.1:PORT and sends a PROXY
v2 header naming CLIENT as the source (TCP over IPv4 or IPv6), or a LOCAL
header (-L, a health check), or none (-N), then REQUEST (C escapes \\r \\n)
in the same segment, or 0.3 s later in two pieces with -S. -x sends HEX
instead of a valid header. Prints the first line of the answer ("eof" when
the connection closed without one), and keeps the connection open for -H
seconds after it (an upgraded client stays in its session meanwhile).
"""
import argparse, ipaddress, socket, struct, sys, time

SIG = b'\r\n\r\n\x00\r\nQUIT\n'


def header(client, local):
    if local:
        return SIG + bytes([0x20, 0x00]) + struct.pack('!H', 0)
    ip, _, port = client.rpartition(':')
    ip = ipaddress.ip_address(ip.strip('[]'))
    if ip.version == 4:
        body = ip.packed + ipaddress.ip_address('127.0.0.1').packed + \
            struct.pack('!HH', int(port), 8080)
        fam = 0x11
    else:
        body = ip.packed + ipaddress.ip_address('::1').packed + \
            struct.pack('!HH', int(port), 8080)
        fam = 0x21
    return SIG + bytes([0x21, fam]) + struct.pack('!H', len(body)) + body


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-p', type=int, required=True)
    ap.add_argument('-b', default='127.0.0.1')
    ap.add_argument('-c', default='203.0.113.7:4444')
    ap.add_argument('-L', action='store_true')
    ap.add_argument('-N', action='store_true')
    ap.add_argument('-S', action='store_true')
    ap.add_argument('-H', type=float, default=0)
    ap.add_argument('-x')
    ap.add_argument('request')
    a = ap.parse_args()
    req = a.request.encode().decode('unicode_escape').encode('latin-1')
    hdr = b'' if a.N else bytes.fromhex(a.x) if a.x else header(a.c, a.L)
    s = socket.socket()
    s.bind((a.b, 0))
    s.settimeout(5)
    s.connect(('127.0.0.1', a.p))
    try:
        if a.S:
            s.sendall(hdr[:7])
            time.sleep(0.3)
            s.sendall(hdr[7:] + req[:10])
            time.sleep(0.3)
            s.sendall(req[10:])
        else:
            s.sendall(hdr + req)
        got = b''
        while b'\r\n' not in got:
            b = s.recv(4096)
            if not b:
                break
            got += b
    except (ConnectionResetError, BrokenPipeError, socket.timeout) as e:
        got = b''
    line = got.split(b'\r\n', 1)[0].decode('latin-1')
    print(line if line else 'eof')
    sys.stdout.flush()
    time.sleep(a.H)


if __name__ == '__main__':
    main()
