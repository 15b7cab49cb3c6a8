#!/usr/bin/env python3
"""Sessions through haproxy, one relayd killed: do only its sessions move?

  deploy/haproxy/run-local.sh -n 3 python3 deploy/haproxy/failover-check.py \
      [-s SESSIONS] [--ipccall build/tests/tools/ipccall] [--sources K]

Opens SESSIONS sessions of two clients through haproxy (RELAY_URL, tokens
from the secret in RELAYD_CONF; every other session's second client uses
the /mesh/ alias), waits until every client sees its peer (relayd's
WELCOME count or JOINED, docs/relay.md), and asks each relayd
(session.list over its IPC socket) where each session is: both clients on
one relayd. Then kills the first relayd (SIGKILL: a crash). Its clients
reconnect with a back-off (0.25 s doubling, like relay_client) and must
meet again on one surviving relayd; no client of another relayd may have
been disconnected, and those sessions must be where they were. Prints what
it saw; exit 0 when all of that holds.

With --sources K, client i connects from 127.0.0.(2 + i mod K), and every
address relayd lists in session.list must be one of those: relayd sees the
client (haproxy's PROXY v2 header), not haproxy's 127.0.0.1.
"""
import argparse, base64, hashlib, hmac, json, os, selectors, signal, socket
import subprocess, sys, time

sel = selectors.DefaultSelector()


def token(secret, session, exp):
    mac = hmac.new(secret.encode(), ('atmosphere-relay-v1\n%s\n%d' %
                   (session, exp)).encode(), hashlib.sha256).digest()
    return 'v1.%d.%s' % (exp, base64.urlsafe_b64encode(mac).decode().rstrip('='))


class Client:
    def __init__(self, host, port, path, src=None):
        self.host, self.port, self.path, self.src = host, port, path, src
        self.sock, self.buf, self.up, self.met = None, b'', False, False
        self.drops, self.attempt, self.retry_at = 0, 0, 0.0

    def connect(self):
        self.buf, self.up, self.met = b'', False, False
        s = socket.create_connection((self.host, self.port), timeout=5,
                                     source_address=(self.src, 0)
                                     if self.src else None)
        s.sendall(('GET %s HTTP/1.1\r\nHost: relay\r\nUpgrade: websocket\r\n'
                   'Connection: Upgrade\r\nSec-WebSocket-Key: '
                   'dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13'
                   '\r\n\r\n' % self.path).encode())
        s.setblocking(False)
        self.sock = s
        sel.register(s, selectors.EVENT_READ, self)

    def lost(self, now):
        sel.unregister(self.sock)
        self.sock.close()
        self.sock = None
        self.drops += 1
        self.retry_at = now + 0.25 * 2 ** min(self.attempt, 5)
        self.attempt += 1

    def readable(self, now):
        try:
            d = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            d = b''
        if not d:
            self.lost(now)
            return
        self.buf += d
        if not self.up:
            end = self.buf.find(b'\r\n\r\n')
            if end < 0:
                return
            if not self.buf.startswith(b'HTTP/1.1 101'):
                self.lost(now)      # 503 from haproxy: back off, retry
                return
            self.up, self.attempt, self.buf = True, 0, self.buf[end + 4:]
        while len(self.buf) >= 2:   # relayd's frames: unmasked, short
            n = self.buf[1] & 0x7f
            if n >= 126 or len(self.buf) < 2 + n:
                break
            p, self.buf = self.buf[2:2 + n], self.buf[2 + n:]
            if len(p) < 12 or p[0] != 0xF0:
                continue
            ev, count = p[2], int.from_bytes(p[8:10], 'big')
            if (ev == 1 and count >= 2) or ev == 2:
                self.met = True
            elif ev == 3:
                self.met = False


def pump(clients, until, cond):
    while time.time() < until:
        now = time.time()
        for c in clients:
            if c.sock is None and now >= c.retry_at:
                try:
                    c.connect()
                except OSError:
                    c.retry_at = now + 0.25
        for key, _ in sel.select(0.05):
            key.data.readable(time.time())
        if cond():
            return True
    return False


def where(ipccall, socks, addrs=None):
    """session -> (relay index, clients) from every live relayd; the
    clients' addresses (without port) into addrs when given"""
    out = {}
    for i, s in enumerate(socks):
        if s is None:
            continue
        r = subprocess.run([ipccall, s, 'session.list'], capture_output=True,
                           text=True, timeout=10)
        if r.returncode != 0:
            sys.exit('session.list on %s: %s' % (s, r.stderr.strip()))
        for e in json.loads(r.stdout):
            if addrs is not None:
                addrs.update(c['address'].rsplit(':', 1)[0]
                             for c in e['clients'])
            if e['session'] in out:
                out[e['session']] = (-1, 0)     # on two relayds
            else:
                out[e['session']] = (i, len(e['clients']))
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument('-s', '--sessions', type=int, default=200)
    p.add_argument('--ipccall', default='build/tests/tools/ipccall')
    p.add_argument('--sources', type=int, default=0)
    a = p.parse_args()
    url = os.environ['RELAY_URL']
    host, port = url.split('//')[1].split(':')
    secret = open(os.environ['RELAYD_CONF']).read().split('secret = ')[1].split()[0]
    pids = [int(x) for x in os.environ['RELAYD_PIDS'].split()]
    run = os.environ['RUN_DIR']
    socks = [os.path.join(run, 'relayd-%d.sock' % (i + 1)) for i in range(len(pids))]
    exp = int(time.time()) + 3600
    names = ['fo-%d' % i for i in range(a.sessions)]
    clients = []
    srcs = ['127.0.0.%d' % (2 + i) for i in range(a.sources)]

    def src(k):
        return srcs[k % len(srcs)] if srcs else None
    for i, n in enumerate(names):
        q = '?token=' + token(secret, n, exp)
        alias = '/mesh/' if i % 2 else '/v1/relay/'
        clients.append(Client(host, int(port), '/v1/relay/' + n + q,
                              src(2 * i)))
        clients.append(Client(host, int(port), alias + n + q, src(2 * i + 1)))
    ok = pump(clients, time.time() + 30, lambda: all(c.met for c in clients))
    met = sum(c.met for c in clients)
    seen = set()
    before = where(a.ipccall, socks, seen)
    if srcs:
        print('relayd saw %d client addresses: %s' %
              (len(seen), ' '.join(sorted(seen)[:4]) + ' ...'))
        if not seen or not seen <= set(srcs):
            print('addresses that are not the clients\': %s' %
                  sorted(seen - set(srcs)))
            return 1
    together = sum(1 for n in names if before.get(n, (-1, 0))[0] >= 0
                   and before[n][1] == 2)
    per = [sum(1 for n in names if before.get(n, (-1,))[0] == i)
           for i in range(len(pids))]
    print('%d sessions: %d of %d clients met their peer; %d sessions with '
          'both clients on one relayd; per relayd %s' %
          (a.sessions, met, len(clients), together, per))
    if not ok or together != a.sessions:
        return 1
    for c in clients:
        c.drops = 0
    victim = 0
    os.kill(pids[victim], signal.SIGKILL)
    t0 = time.time()
    socks[victim] = None
    ok = pump(clients, time.time() + 30,
              lambda: all(c.met and c.sock is not None for c in clients))
    t1 = time.time() - t0
    after = where(a.ipccall, socks)
    moved = [n for n in names if before[n][0] == victim]
    stayed = [n for n in names if before[n][0] != victim]
    bad_moved = [n for n in moved if after.get(n, (-1, 0))[1] != 2 or
                 after[n][0] < 0]
    bad_stayed = [n for n in stayed if after.get(n) != before[n]]
    dropped = sum(1 for i, c in enumerate(clients)
                  if c.drops and names[i // 2] in stayed)
    to = [sum(1 for n in moved if after.get(n, (-1,))[0] == i)
          for i in range(len(pids))]
    print('relayd 1 killed: its %d sessions back together in %.1f s (%d '
          'not), now per relayd %s; of the other %d sessions %d moved and '
          '%d clients were disconnected' % (len(moved), t1, len(bad_moved),
                                            to, len(stayed), len(bad_stayed),
                                            dropped))
    return 0 if ok and not bad_moved and not bad_stayed and not dropped else 1


if __name__ == '__main__':
    sys.exit(main())
