#!/usr/bin/env python3
"""wsflood: WebSocket clients that attack relayd's bounds (issue 14 item 1),
written with nothing but sockets so each attack is exactly what it says.

  wsflood.py MODE URL [-s SRC] [-w SECONDS] [-H "K: V"]...

URL is ws://HOST:PORT/PATH (token in the query string if any). MODE:
  ping   after the upgrade, send empty masked pings as fast as the socket
         takes them and never read. Prints "closed after S s, N pings" when
         relayd ends the connection, "open after S s, N pings" otherwise.
  slow   open a binary message with a non-final frame and send one empty
         continuation frame every 0.2 s, reading; prints like cont.
  cont   open a binary message with a non-final frame and follow it with
         empty continuation frames, reading what comes back. Prints
         "close CODE after S s, N frames" or "open after S s, N frames".
-s binds the source address (127.0.0.2 ...: its own address group).
Exit status 0 unless the upgrade failed.
"""
import argparse, base64, os, select, socket, struct, sys, time


def upgrade(url, src, headers):
    assert url.startswith('ws://')
    hostport, _, path = url[5:].partition('/')
    host, _, port = hostport.rpartition(':')
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if src:
        s.bind((src, 0))
    s.connect((host, int(port)))
    key = base64.b64encode(os.urandom(16)).decode()
    req = ('GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n'
           'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
           'Sec-WebSocket-Version: 13\r\n' % (path, hostport, key))
    for h in headers:
        req += h + '\r\n'
    s.sendall((req + '\r\n').encode())
    head = b''
    while b'\r\n\r\n' not in head:
        b = s.recv(4096)
        if not b:
            sys.exit('wsflood: closed during the upgrade: %r' % head)
        head += b
    status = head.split(b'\r\n', 1)[0]
    if b' 101 ' not in status:
        sys.exit('wsflood: upgrade refused: %s' % status.decode())
    return s, head.split(b'\r\n\r\n', 1)[1]


def frame(b0):
    return bytes([b0, 0x80]) + os.urandom(4)    # empty, masked


def ping_flood(s, secs):
    s.setblocking(False)
    batch = frame(0x89) * 1000
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < secs:
        try:
            _, w, x = select.select([], [s], [s], 0.05)
            if w:
                sent = s.send(batch)
                n += sent // 6
        except (BrokenPipeError, ConnectionResetError):
            print('closed after %.2f s, %d pings' % (time.monotonic() - t0, n))
            return
        except BlockingIOError:
            pass
        # the flooder never reads, but it must notice when relayd closes:
        # a peek does not consume and shows the FIN behind unread pongs
        try:
            if s.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b'':
                break
        except BlockingIOError:
            pass
        except ConnectionResetError:
            break
    # a FIN seen behind unread data only shows once the data is gone:
    # closed means the send side fails now
    try:
        s.send(frame(0x89))
        time.sleep(0.05)
        s.send(frame(0x89))
    except (BrokenPipeError, ConnectionResetError):
        print('closed after %.2f s, %d pings' % (time.monotonic() - t0, n))
        return
    print('open after %.2f s, %d pings' % (time.monotonic() - t0, n))


def close_code(buf):
    """The code of a close frame in buf (server frames: unmasked), or None."""
    i = 0
    while i + 2 <= len(buf):
        op, ln = buf[i] & 0x0f, buf[i + 1] & 0x7f
        hl = 2
        if ln == 126:
            if i + 4 > len(buf):
                return None
            ln, hl = struct.unpack('!H', buf[i + 2:i + 4])[0], 4
        elif ln == 127:
            if i + 10 > len(buf):
                return None
            ln, hl = struct.unpack('!Q', buf[i + 2:i + 10])[0], 10
        if i + hl + ln > len(buf):
            return None
        if op == 8:
            p = buf[i + hl:i + hl + ln]
            return struct.unpack('!H', p[:2])[0] if len(p) >= 2 else 1005
        i += hl + ln
    return None


def cont_flood(s, rest, secs, slow=False):
    s.setblocking(False)
    buf = bytearray(rest)
    first = frame(0x02)
    batch = frame(0x00) * (1 if slow else 1000)
    n, t0, out = 0, time.monotonic(), first
    while time.monotonic() - t0 < secs:
        r, w, _ = select.select([s], [s], [], 0.05)
        if r:
            try:
                b = s.recv(65536)
            except ConnectionResetError:
                b = b''
            if not b:
                break
            buf += b
            code = close_code(bytes(buf))
            if code is not None:
                print('close %d after %.2f s, %d frames' %
                      (code, time.monotonic() - t0, n))
                return
        if w and slow and out is batch:
            time.sleep(0.2)
        if w:
            try:
                sent = s.send(out)
                n += sent // 6
                out = out[sent:] or batch
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                pass
    code = close_code(bytes(buf))
    if code is not None:
        print('close %d after %.2f s, %d frames' %
              (code, time.monotonic() - t0, n))
    else:
        print('%s after %.2f s, %d frames' %
              ('open' if time.monotonic() - t0 >= secs else 'eof',
               time.monotonic() - t0, n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['ping', 'cont', 'slow'])
    ap.add_argument('url')
    ap.add_argument('-s', dest='src')
    ap.add_argument('-w', dest='secs', type=float, default=8)
    ap.add_argument('-H', dest='headers', action='append', default=[])
    a = ap.parse_args()
    s, rest = upgrade(a.url, a.src, a.headers)
    sys.stdout.flush()
    if a.mode == 'ping':
        ping_flood(s, a.secs)
    else:
        cont_flood(s, rest, a.secs, a.mode == 'slow')


if __name__ == '__main__':
    main()
