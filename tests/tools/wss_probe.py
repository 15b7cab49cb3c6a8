#!/usr/bin/env python3
"""One WebSocket upgrade over TLS from a chosen source address, for the
tests of relayd behind a TLS-terminating proxy (tests/integ/49-haproxy-tls.sh).

  wss_probe.py --port P [--host H] [--src ADDR] [--ca FILE] [--name SNI]
               [--path /v1/relay/S] [--token T] [--hold SECONDS]

Connects from ADDR (common/relay_client cannot choose its source address,
and on loopback every client would otherwise be 127.0.0.1, like the
proxy), checks the certificate against FILE, sends the upgrade (the token
as Authorization: Bearer), and prints "tls VERSION", then "status CODE"
and relayd's refusal reason ("refused REASON") if any. With 101 it reads
relayd's first frame (WELCOME, a text control frame) and prints "frame
OPCODE LEN", then keeps the connection open for --hold seconds (so the
caller can look at relayd meanwhile) and prints "closed". Exit 0 when
the answer came, 1 on a TLS or connection failure.
"""
import argparse, socket, ssl, sys, time


def read_answer(s):
    buf = b''
    while b'\r\n\r\n' not in buf:
        d = s.recv(4096)
        if not d:
            break
        buf += d
    head, _, rest = buf.partition(b'\r\n\r\n')
    return head.decode('latin-1'), rest


def read_frame(s, rest):
    buf = rest
    while len(buf) < 2:
        d = s.recv(4096)
        if not d:
            return None
        buf += d
    op, n = buf[0] & 0x0f, buf[1] & 0x7f
    return op, n


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--src', default=None)
    p.add_argument('--ca', default=None)
    p.add_argument('--name', default=None)
    p.add_argument('--path', default='/v1/relay/wss-probe')
    p.add_argument('--token', default=None)
    p.add_argument('--hold', type=float, default=0)
    a = p.parse_args()
    ctx = ssl.create_default_context(cafile=a.ca)
    try:
        raw = socket.create_connection((a.host, a.port), timeout=5,
                                       source_address=(a.src, 0)
                                       if a.src else None)
        s = ctx.wrap_socket(raw, server_hostname=a.name or a.host)
    except (OSError, ssl.SSLError) as e:
        print('error %s' % e)
        return 1
    print('tls %s' % s.version())
    auth = 'Authorization: Bearer %s\r\n' % a.token if a.token else ''
    s.sendall(('GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n'
               'Connection: Upgrade\r\nSec-WebSocket-Key: '
               'dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n'
               '%s\r\n' % (a.path, a.host, auth)).encode())
    head, rest = read_answer(s)
    lines = head.split('\r\n')
    if not lines or len(lines[0].split()) < 2:
        print('error no answer: %r' % head[:200])
        return 1
    print('status %s' % lines[0].split()[1])
    for line in lines[1:]:
        k, _, v = line.partition(':')
        if k.strip().lower() == 'atmosphere-relay-refused':
            print('refused %s' % v.strip())
    if lines[0].split()[1] == '101':
        f = read_frame(s, rest)
        if f is not None:
            print('frame %d %d' % f)
        sys.stdout.flush()
        time.sleep(a.hold)
        print('closed')
    s.close()
    return 0


if __name__ == '__main__':
    sys.exit(main())
