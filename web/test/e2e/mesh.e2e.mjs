// The browser as a mesh member, end to end: relayd, two punchd (a and b,
// already a mesh) and headless Chromium with the join page. The page joins
// from `meshctl invite`, shows up in both nodes' `meshctl peers` as
// relayed, exchanges datagrams both ways with both, and does it again
// after relayd restarts and after a page reload. A screenshot per step in
// out/. Run after `make` and `cd web && npm run build`:
//   node --experimental-websocket --test test/e2e/mesh.e2e.mjs
// BUILD (default build) is relative to the repository root. With
// ATM_WEB_FROM_RELAYD=1 the page comes from relayd's own web_root (once
// relayd serves it) instead of a static server of the test's.
//
// relayd requires tokens: the nodes and the page hold one access token
// (relayd --issue-access), good for every session, since a member's
// sessions are hashes of secrets nobody could issue a session token for.
// The page first tries a token the relay refuses and must say so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { resolve, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Browser, CHROMIUM } from './cdp.mjs';
import { serveDist } from './static.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const top = resolve(here, '..', '..', '..');
const bin = resolve(top, process.env.BUILD || 'build', 'bin');
const dist = resolve(top, 'web', 'dist');
// screenshots: ATM_E2E_OUT (tests/integ/07-browser.sh: its log dir) or out/
const out = process.env.ATM_E2E_OUT || resolve(here, 'out');
const M = join(bin, 'meshctl');
const skip = !existsSync(join(bin, 'punchd')) ? `no ${bin}/punchd (make)` :
    !existsSync(CHROMIUM) ? `no ${CHROMIUM}` :
    typeof WebSocket === 'undefined' ? 'no WebSocket in node (--experimental-websocket)' :
    !existsSync(join(dist, 'app.js')) ? 'no web/dist (npm run build)' : false;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function until(what, fn, ms = 15000) {
	const end = Date.now() + ms;
	let last;
	while (Date.now() < end) {
		try {
			last = await fn();
			if (last)
				return last;
		} catch (e) {
			last = e.message;
		}
		await sleep(200);
	}
	throw new Error(`timed out: ${what} (last: ${JSON.stringify(last)})`);
}

function udpPort() {
	return new Promise((r) => {
		const s = createSocket('udp4');
		s.bind(0, '127.0.0.1', () => {
			const p = s.address().port;
			s.close(() => r(p));
		});
	});
}

class Procs {
	constructor(dir) {
		this.dir = dir;
		this.all = new Map();
	}

	start(name, cmd, args, env = {}) {
		const log = join(this.dir, `${name}.log`);
		const fd = { out: '' };
		const p = spawn(cmd, args, { env: { ...process.env, ...env },
		    stdio: ['ignore', 'pipe', 'pipe'] });
		p.stdout.on('data', (d) => { fd.out += d; });
		p.stderr.on('data', (d) => { fd.out += d; });
		p.on('exit', () => writeFileSync(log, fd.out));
		this.all.set(name, { p, fd });
		return fd;
	}

	async stop(name) {
		const e = this.all.get(name);
		if (!e || e.p.exitCode !== null)
			return;
		e.p.kill('SIGTERM');
		await new Promise((r) => e.p.on('exit', r));
		this.all.delete(name);
	}

	async stopAll() {
		for (const n of [...this.all.keys()])
			await this.stop(n);
	}
}

function meshctl(node, ...args) {
	return execFileSync(M, ['-S', node, ...args], { encoding: 'utf8', timeout: 30000,
	    stdio: ['ignore', 'pipe', 'pipe'] });
}

test('a browser joins a mesh of two C nodes through relayd', { skip, timeout: 240000 },
    async (t) => {
	mkdirSync(out, { recursive: true });
	const dir = mkdtempSync(join(tmpdir(), 'atm-web-e2e-'));
	const procs = new Procs(dir);
	let browser = null, srv = null, diag = null;
	try {
		// relayd with a secret, on a port it picks (read back from its log)
		writeFileSync(join(dir, 'relaykey'), randomBytes(32).toString('hex'));
		const conf = join(dir, 'relayd.conf');
		// ATM_WEB_FROM_RELAYD=1: relayd serves the page itself (web_root)
		const fromRelayd = process.env.ATM_WEB_FROM_RELAYD === '1';
		writeFileSync(conf, `[relayd]\nsecret_file = ${join(dir, 'relaykey')}\n` +
		    (fromRelayd ? `web_root = ${dist}\n` : ''));
		const token = execFileSync(join(bin, 'relayd'), ['-f', conf, '--issue-access',
		    '--ttl', '1h'], { encoding: 'utf8' }).trim();
		const rlog = procs.start('relayd', join(bin, 'relayd'), ['-f', conf, '-v',
		    '-l', '127.0.0.1', '-p', '0', '-s', join(dir, 'relayd.sock')]);
		const rport = await until('relayd listening', () =>
		    (/listening on 127\.0\.0\.1 port (\d+)/.exec(rlog.out) || [])[1]);
		const relay = `ws://127.0.0.1:${rport}`;
		const nodes = {};
		for (const n of ['a', 'b']) {
			mkdirSync(join(dir, n));
			const port = await udpPort();
			procs.start(n, join(bin, 'punchd'), ['-f', '/dev/null', '-v', '-p', String(port),
			    '-o', `punchd.relay_url=${relay}`, '-o', `punchd.relay_token=${token}`,
			    '-o', 'punchd.host_loopback=yes', '-o', 'punchd.portmap=no',
			    '-o', 'punchd.stun_refresh=0', '-o', 'punchd.keepalive_interval=2s'],
			    { RUNTIME_DIRECTORY: join(dir, n), STATE_DIRECTORY: join(dir, n) });
			nodes[n] = { dir: join(dir, n), port };
			await until(`punchd ${n}`, () => meshctl(join(dir, n), 'peers') !== null);
		}
		const A = nodes.a.dir, B = nodes.b.dir;
		meshctl(A, 'init', 'home');
		const inv1 = JSON.parse(meshctl(A, '--json', 'invite', '--local',
		    `127.0.0.1:${nodes.a.port}`, '--public', '-'));
		meshctl(B, '--json', 'join', '--name', 'bob', inv1.token);
		const inv2 = JSON.parse(meshctl(A, '--json', 'invite', '--local',
		    `127.0.0.1:${nodes.a.port}`, '--public', '-'));
		const idA = JSON.parse(meshctl(A, '--json', 'mesh')).node_id;
		const idB = JSON.parse(meshctl(B, '--json', 'mesh')).node_id;

		srv = await serveDist(dist);
		browser = await Browser.launch();
		const page = await browser.newPage();
		await page.viewport(390, 844);
		// on a failure: what each side thinks (the log of a CI run is all
		// there is to read afterwards)
		diag = async () => {
			for (const [n, d] of [['a', A], ['b', B]]) {
				for (const args of [['why', 'browser'], ['peers'], ['--json', 'status']]) {
					try {
						t.diagnostic(`${n}: meshctl ${args.join(' ')}\n` +
						    meshctl(d, ...args));
					} catch (e) {
						t.diagnostic(`${n}: meshctl ${args.join(' ')}: ${e.message}`);
					}
				}
			}
			try {
				t.diagnostic('page members: ' + await page.eval(() =>
				    document.getElementById('members-body').textContent));
			} catch (e) {
				t.diagnostic('page members: ' + e.message);
			}
			t.diagnostic('page console:\n' + page.console.slice(-60).join('\n'));
			for (const [n, e] of procs.all)
				t.diagnostic(`${n} log (last 60 lines):\n` +
				    e.fd.out.split('\n').slice(-60).join('\n'));
		};
		const shot = async (n) => writeFileSync(join(out, n), await page.screenshot());
		const url = fromRelayd ? `http://127.0.0.1:${rport}/join.html` :
		    `http://127.0.0.1:${srv.address().port}/join.html`;
		await page.goto(url);
		await page.waitFor(() => !document.getElementById('join').hidden, 20000);

		// a token the relay refuses: a clear message, no mesh
		await page.eval((c) => {
			document.getElementById('code').value = c;
			document.getElementById('token').value = 'v1.1.not-a-token';
			document.getElementById('join-btn').click();
		}, inv2.token);
		assert.match(await page.waitFor(() => {
			const m = document.getElementById('join-msg');
			return m.classList.contains('error') && m.textContent;
		}, 20000), /Cannot reach the relay .*a relay token is required/);
		await shot('mesh-bad-token.png');

		// join: the code as meshctl printed it, and the access token
		const t0 = Date.now();
		await page.eval((c, tok) => {
			document.getElementById('code').value = c;
			document.getElementById('token').value = tok;
			document.getElementById('join-btn').click();
		}, inv2.token, token);
		const msg = await page.waitFor(() => {
			const m = document.getElementById('join-msg');
			return /Joined|error/.test(m.textContent + m.className) && m.textContent;
		}, 20000);
		assert.match(msg, /Joined mesh home through the relay/);
		const me = await page.eval(() => JSON.parse(localStorage.getItem(
		    'atmosphere.member.v1')).id);

		const pageRelayed = () => page.eval(() => {
			const rows = [...document.querySelectorAll('#members-body tr')];
			return rows.length === 2 && rows.every((r) =>
			    /relayed/.test(r.textContent) && /session/.test(r.textContent));
		});
		const nodeSees = (node) => {
			const p = JSON.parse(meshctl(node, '--json', 'peers')).find((x) => x.id === me);
			// the HELLO's relay-only byte (to a) and ANNOUNCE's (to b):
			// never punched, and it says why
			return p && p.state === 'relayed' && p.path === 'relay' && p.e2e === 'session' &&
			    p.reason === 'browser: no UDP';
		};
		const everyoneUp = async (what) => {
			await until(`${what}: the page sees a and b relayed, with sessions`, pageRelayed, 30000);
			await until(`${what}: a lists the browser relayed`, () => nodeSees(A), 30000);
			await until(`${what}: b lists the browser relayed`, () => nodeSees(B), 30000);
		};
		await everyoneUp('join');
		const joinMs = Date.now() - t0;
		await shot('mesh-joined.png');
		t.diagnostic(`joined and relayed with both nodes in ${joinMs} ms`);
		t.diagnostic(`a: ${meshctl(A, 'peers').trim().split('\n').pop()}`);
		t.diagnostic(`b: ${meshctl(B, 'peers').trim().split('\n').pop()}`);

		// datagrams both ways with both nodes
		let round = 0;
		const exchange = async (what) => {
			round++;
			for (const [node, id] of [[A, idA], [B, idB]]) {
				const l = procs.start(`listen-${round}-${id}`, M,
				    ['-S', node, 'listen', '--count', '1']);
				await until('listen ready', () => /listening/.test(l.out), 5000);
				const text = `from the browser ${round} to ${id}`;
				await until(`${what}: page sends to ${id}`, () => page.eval((to, t) => {
					document.getElementById('to').value = to;
					document.getElementById('text').value = t;
					document.getElementById('send-btn').click();
					return /Sent/.test(document.getElementById('mesh-msg').textContent);
				}, id, text));
				await until(`${what}: ${id} prints the page's datagram`, () =>
				    l.out.includes(text));
				const back = `to the browser ${round} from ${id}`;
				meshctl(node, 'send', me, back);
				await until(`${what}: the page shows ${id}'s datagram`, () =>
				    page.eval((t) => document.getElementById('rx').textContent.includes(t),
				    back));
			}
		};
		await exchange('after join');
		await shot('mesh-data.png');

		// relayd restarts (same port): every side comes back by itself
		await procs.stop('relayd');
		const rlog2 = procs.start('relayd2', join(bin, 'relayd'), ['-f', conf, '-v',
		    '-l', '127.0.0.1', '-p', rport, '-s', join(dir, 'relayd2.sock')]);
		await until('relayd back', () => /listening on/.test(rlog2.out));
		const t1 = Date.now();
		await everyoneUp('relayd restarted');
		t.diagnostic(`back after the relayd restart in ${Date.now() - t1} ms`);
		await exchange('after the relayd restart');
		await shot('mesh-relay-restarted.png');

		// a reload: the identity and the mesh come from localStorage
		const t2 = Date.now();
		await page.send('Page.reload', { ignoreCache: true });
		await sleep(500);
		await page.waitFor(() => !document.getElementById('join').hidden, 20000);
		assert.equal(await page.eval(() => JSON.parse(localStorage.getItem(
		    'atmosphere.member.v1')).id), me);
		await everyoneUp('page reloaded');
		t.diagnostic(`back after the page reload in ${Date.now() - t2} ms`);
		await exchange('after the reload');
		await shot('mesh-reloaded.png');

		// the same code from another identity: the inviter refuses it
		await page.eval(() => document.getElementById('leave').click());
		await page.eval((c) => {
			document.getElementById('code').value = c;
			document.getElementById('join-btn').click();
		}, inv2.token);
		assert.match(await page.waitFor(() => {
			const m = document.getElementById('join-msg');
			return m.classList.contains('error') && m.textContent;
		}, 20000), /This invite has already been used: ask for a new one/);
		await shot('mesh-used-code.png');
		assert.deepEqual(page.console.filter((l) => /^(error|exception)/.test(l)), []);
	} catch (e) {
		if (diag !== null)
			await diag();
		throw e;
	} finally {
		// every step, whatever the one before did: a daemon left running
		// keeps node (and the suite) waiting
		await procs.stopAll();
		if (srv)
			srv.close();
		if (browser)
			await browser.close();
		if (!process.env.KEEP)
			rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
	}
});
