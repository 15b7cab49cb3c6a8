#!/usr/bin/env python3
"""Idle WebSocket clients against one relay, and the relay's RSS per client
(bench/relay_idle_bench.sh).

  idle_clients.py --pid PID --port PORT -n N [--secret S] [--per-addr K]
                  [--label NAME] [--first I] [--hold FILE]

Opens N connections to 127.0.0.1:PORT, each from a source address of its
own group of K (127.1.0.1, 127.1.0.2, ...: one source address has ~28k
ephemeral ports, and relayd's per-address limits see K clients each),
upgrades them in sessions of 2 (/v1/relay/idle-I, with relayd's token for
that session when --secret is given), and reads the relay's VmRSS before,
after all are up and idle, and after all have closed. Prints one line per
figure, each with the load average before and after.

--first I numbers the clients from I (their sessions and source addresses:
several of these processes against several relays use different
addresses). --hold FILE keeps the clients open after the idle figure,
printed as "up ...", until FILE exists (bench/relay_idle_100k.sh measures
a pair's latency meanwhile), then closes them and prints the full line.
"""
import argparse, base64, hashlib, hmac, os, selectors, socket, sys, time


def rss_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return -1


def load():
    with open('/proc/loadavg') as f:
        return f.read().split()[0]


def token(secret, session, exp):
    mac = hmac.new(secret.encode(), ('atmosphere-relay-v1\n%s\n%d' %
                   (session, exp)).encode(), hashlib.sha256).digest()
    return 'v1.%d.%s' % (exp, base64.urlsafe_b64encode(mac).decode().rstrip('='))


def src_addr(i, per):
    g = i // per + 1                    # 127.1.0.1 upwards
    return '127.%d.%d.%d' % (1 + g // 65025, (g // 255) % 255, g % 255 + 1)


def open_clients(a, exp):
    """Connect and send every request, then read the answers: many
    handshakes in flight at once, as a crowd of real clients would."""
    socks, sel, ok = [], selectors.DefaultSelector(), 0
    batch = 500
    for start in range(0, a.n, batch):
        pending = {}
        for i in range(a.first + start, a.first + min(a.n, start + batch)):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((src_addr(i, a.per_addr), 0))
            s.connect(('127.0.0.1', a.port))
            sess = 'idle-%d' % (i // 2)
            q = '?token=' + token(a.secret, sess, exp) if a.secret else ''
            s.sendall(('GET /v1/relay/%s%s HTTP/1.1\r\nHost: 127.0.0.1\r\n'
                       'Upgrade: websocket\r\nConnection: Upgrade\r\n'
                       'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
                       'Sec-WebSocket-Version: 13\r\n\r\n' % (sess, q)).encode())
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
            pending[s] = b''
            socks.append(s)
        deadline = time.time() + 20
        while pending and time.time() < deadline:
            for key, _ in sel.select(1):
                s = key.fileobj
                try:
                    d = s.recv(4096)
                except BlockingIOError:
                    continue
                pending[s] += d
                if not d or b'\r\n\r\n' in pending[s]:
                    if pending[s].startswith(b'HTTP/1.1 101'):
                        ok += 1
                    elif ok == 0 and start == 0:
                        sys.stderr.write('refused: %r\n' % pending[s][:200])
                    sel.unregister(s)
                    del pending[s]
        for s in pending:
            sel.unregister(s)
    return socks, ok


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--pid', type=int, required=True)
    p.add_argument('--port', type=int, required=True)
    p.add_argument('-n', type=int, default=10000)
    p.add_argument('--secret', default='')
    p.add_argument('--per-addr', type=int, default=1000)
    p.add_argument('--label', default='relay')
    p.add_argument('--settle', type=float, default=2.0)
    p.add_argument('--first', type=int, default=0)
    p.add_argument('--hold', default='')
    a = p.parse_args()
    exp = int(time.time()) + 3600
    time.sleep(0.5)
    l0, before = load(), rss_kib(a.pid)
    t0 = time.time()
    socks, ok = open_clients(a, exp)
    t1 = time.time()
    time.sleep(a.settle)
    after, l1 = rss_kib(a.pid), load()
    if a.hold:
        print('up %s %d %d %d' % (a.label, ok, before, after))
        sys.stdout.flush()
        while not os.path.exists(a.hold):
            time.sleep(0.2)
    for s in socks:
        s.close()
    time.sleep(a.settle)
    gone, l2 = rss_kib(a.pid), load()
    per = (after - before) / ok if ok else float('nan')
    print('%-8s N=%-6d upgraded %d in %.1f s; RSS before %d KiB, idle %d '
          'KiB, after they left %d KiB; per idle client %.2f KiB '
          '[load %s -> %s -> %s]' % (a.label, a.n, ok, t1 - t0, before,
                                    after, gone, per, l0, l1, l2))
    sys.stdout.flush()
    return 0 if ok == a.n else 1


if __name__ == '__main__':
    sys.exit(main())
