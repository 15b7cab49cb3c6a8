// The whole member (src/member.js, src/peer.js) against a C peer made of
// proto/ (tests/tools/vectors serve): the JS HELLO is checked and answered
// by join_welcome_seal, the JS opens it; keep-alives, pings, the e2e
// handshake both ways, DATA both ways under session keys; the C side drops
// DATA under the mesh key, tampered and replayed packets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sodiumReady } from '../src/sodium.js';
import { hex, unhex, utf8 } from '../src/bytes.js';
import { T, encode } from '../src/packet.js';
import { Member } from '../src/member.js';
import { haveTool, loadVectors, CPeer } from './helpers.mjs';

await sodiumReady();
const skip = haveTool() ? false : 'no vectors tool (make build/tests/tools/vectors)';

class MemStorage {
	constructor() { this.m = new Map(); }
	getItem(k) { return this.m.has(k) ? this.m.get(k) : null; }
	setItem(k, v) { this.m.set(k, String(v)); }
	removeItem(k) { this.m.delete(k); }
}

// relay sessions that lead to the C peer: JOIN_* to the join session,
// the rest to the pair session; relayd's WELCOME says the peer is there
function bridge(c, log) {
	const sessions = [];
	const deliver = (lines) => {
		for (const l of lines) {
			log.push(l);
			if (!l.startsWith('pkt '))
				continue;
			const b = unhex(l.slice(4));
			const join = b[1] >= T.JOIN_HELLO && b[1] <= T.JOIN_REFUSE;
			const s = sessions.filter((x) => x.join === join && !x.closed).pop();
			if (s)
				s.h.onframe(b);
		}
	};
	let chain = Promise.resolve();
	const open = (url, h) => {
		const s = { url, h, join: /\/v1\/relay\/[0-9a-f]{32}\?|\/v1\/relay\/[0-9a-f]{32}$/.test(url) &&
		    sessions.length === 0, closed: false, connected: true };
		s.send = (b) => {
			chain = chain.then(() => c.call(hex(b))).then(deliver);
			return true;
		};
		s.close = () => { s.closed = true; };
		sessions.push(s);
		setTimeout(() => {
			h.onopen();
			h.onframe(Uint8Array.from([0xf0, 1, 1, 0, 0, 0, 0, 9, 0, 2, 0, 2]));
		}, 0);
		return s;
	};
	const settle = async () => {
		let c0;
		do {
			c0 = chain;
			await c0;
		} while (c0 !== chain);
	};
	return { open, sessions, settle, command: (l) => {
		chain = chain.then(() => c.call(l)).then(deliver);
		return settle();
	} };
}

test('a JS member joins and talks to a C peer', { skip }, async () => {
	const V = loadVectors();
	const code = V.invites.find((x) => x.what === 'full code').input;
	const c = new CPeer(), log = [], got = [];
	const br = bridge(c, log);
	let t = 1767225600 + 10;
	const m = await new Member({ storage: new MemStorage(), openSession: br.open,
	    now: () => t, onEvent: (type, d) => type === 'data' && got.push(d) }).init();
	try {
		const paths = [];
		m.onEvent = (type, d) => type === 'data' ? got.push(d) : type === 'path' && paths.push(d);
		const res = await m.join(code, { name: 'web', token: 'v1.1.x' });
		assert.equal(res.mesh, 'Home Mesh');
		assert.equal(res.inviter, V.serve.inviter_id);
		// C's join_hello_decode took our HELLO with the relay-only byte
		// after the name (web, then 0x01)
		const hello = log.find((l) => l.startsWith('got 9 '));
		assert.ok(hello.endsWith('03' + '776562' + '01'), hello);
		assert.match(paths[0].result, /not available in a browser/);
		assert.match(br.sessions[0].url, /^wss:\/\/relay\.example\.org:8080\/v1\/relay\/[0-9a-f]{32}\?token=v1\.1\.x$/);
		assert.equal(hex(m.me.mesh.secret), V.serve.mesh_secret);
		// the pair session: its WELCOME (count 2) makes us say hello
		await new Promise((r) => setTimeout(r, 10));
		await br.settle();
		const p = m.peers.get(V.serve.inviter_id);
		assert.ok(p, 'the inviter is a peer');
		assert.equal(p.state, 'relayed', JSON.stringify(log));
		assert.ok(log.includes('got 4'), 'C got our KEEPALIVE');
		// we start the e2e session on the way up: C answered, we confirmed
		await br.settle();
		assert.ok(p.e2e.ready(), 'session key');
		assert.ok(log.some((l) => l === 'got 6 ' + l.slice(6) && l.length > 6), 'confirmation PING');
		assert.ok(!p.e2e.busy());
		// DATA both ways under the session key
		m.send(V.serve.inviter_id, utf8('from the browser'));
		await br.settle();
		assert.ok(log.includes('got 8 ' + hex(utf8('from the browser'))), log.join('\n'));
		assert.equal(new TextDecoder().decode(got.at(-1).data), 'from the browser');
		await br.command('send ' + hex(utf8('from C')));
		assert.equal(new TextDecoder().decode(got.at(-1).data), 'from C');
		// the C side starts a rekey: we answer, it confirms, we switch
		const before = p.e2e.epoch;
		t += 1;
		await br.command('init');
		await br.settle();
		assert.equal(p.e2e.epoch, before + 1);
		m.send(V.serve.inviter_id, utf8('after rekey'));
		await br.settle();
		assert.ok(log.includes('got 8 ' + hex(utf8('after rekey'))));
		// keep-alive and ping: answered, RTT measured
		t += 30;
		m.tick();
		await br.settle();
		assert.ok(p.rtt !== null);
		// what C refuses: DATA under the mesh key, a tampered and a
		// replayed packet
		const meshData = encode({ type: T.DATA, flags: 0, keyId: 0, sender: m.me.id,
		    seq: m.nextSeq() }, utf8('downgrade'), m.meshKey);
		log.length = 0;
		await br.command(hex(meshData));
		assert.deepEqual(log, ['drop downgrade']);
		const ka = encode({ type: T.KEEPALIVE, flags: 0, keyId: 0, sender: m.me.id,
		    seq: m.nextSeq() }, new Uint8Array(0), m.meshKey);
		const bad = ka.slice();
		bad[25] ^= 4;
		log.length = 0;
		await br.command(hex(bad));
		await br.command(hex(ka));
		await br.command(hex(ka));
		assert.deepEqual(log.filter((l) => !l.startsWith('pkt')),
		    ['drop authentication failed', 'got 4', 'drop replayed packet']);
		// garbage from the relay never throws
		for (const g of [[], [0xf0], [0x61, 8], [0xf1, 1, 2], Array(80).fill(0x61),
		    [0xf0, 1, 3, 0, 0, 0, 0, 1, 0, 1, 0, 2]])
			br.sessions.at(-1).h.onframe(Uint8Array.from(g));
		assert.ok(m.drops > 0);
		assert.equal(p.state, 'waiting');	// LEFT came
	} finally {
		m.stop();
		await c.close();
	}
});

test('a reload keeps the identity and the mesh', { skip }, async () => {
	const V = loadVectors();
	const code = V.invites.find((x) => x.what === 'full code').input;
	const c = new CPeer(), storage = new MemStorage();
	const br = bridge(c, []);
	const t = 1767225600 + 10;
	const m = await new Member({ storage, openSession: br.open, now: () => t }).init();
	try {
		await m.join(code);
		m.stop();
		const br2 = bridge(c, []);
		const m2 = await new Member({ storage, openSession: br2.open, now: () => t }).init();
		assert.equal(m2.idHex, m.idHex);
		assert.ok(m2.start());
		assert.equal(br2.sessions.length, 1);
		assert.equal(br2.sessions[0].url, br.sessions[1].url);
		m2.stop();
	} finally {
		await c.close();
	}
});

test('refused, expired and wrong codes say so', { skip }, async () => {
	const V = loadVectors();
	const m = await new Member({ storage: new MemStorage(), openSession: () => ({
	    send: () => true, close() {}, connected: true }), now: () => 1767225600 + 10 }).init();
	const exp = V.invites.find((x) => x.what === 'expired');
	const mm = await new Member({ storage: new MemStorage(), now: () => exp.now }).init();
	assert.throws(() => mm.join(exp.input), /invite expired at 2026-01-01 01:00:00 UTC/);
	assert.throws(() => m.join(V.invites.find((x) => x.what === 'typo').input), /typo/);
	assert.throws(() => m.join(V.invites.find((x) => x.what === 'minimal').input),
	    /no relay: a browser can only join through a relay/);
	await assert.rejects(m.join(V.invites.find((x) => x.what === 'full code').input,
	    { timeout: 0.3 }), /cannot reach the relay|no answer/);
	m.stop();
});

test('garbage in the invite session: ignored, then a clear timeout', { skip }, async () => {
	const V = loadVectors();
	const code = V.invites.find((x) => x.what === 'full code').input;
	const j = V.join;
	let seed = 5;
	const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
	const frames = [[], [0xf0], [0xf0, 1, 1, 0], [0xf1, 0x80], [0xff, 1],
	    Array(35).fill(0x61), Array(40).fill(0x61),
	    [...unhex(j.welcome.packet)],	/* sealed to another joiner */
	    [...unhex(j.refuse.packet)]];	/* another joiner's txid */
	for (let i = 0; i < 300; i++)
		frames.push(Array.from({ length: rnd() }, (_, k) => k === 0 ? 0x61 : rnd()));
	const m = await new Member({ storage: new MemStorage(), now: () => 1767225600 + 10,
	    openSession: (url, h) => {
		setTimeout(() => {
			h.onopen();
			for (const f of frames)
				h.onframe(Uint8Array.from(f));
		}, 0);
		return { connected: true, send: () => true, close() {} };
	} }).init();
	await assert.rejects(m.join(code, { timeout: 0.5 }), /no answer from wss:\/\/relay.example.org:8080/);
	assert.ok(m.drops >= 300, String(m.drops));
	assert.equal(m.me.mesh, null);
});
