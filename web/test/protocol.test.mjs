// Join, packet and e2e code against the vectors of proto/: byte-identical
// encodings where the C API is deterministic, and opening what the C code
// sealed or encrypted with random keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { S, sodiumReady } from '../src/sodium.js';
import { hex, unhex, utf8, concat } from '../src/bytes.js';
import { T, encode, decode, peek, keyDerive, Replay, pingDecode, PacketError }
    from '../src/packet.js';
import { joinKey, joinTxid, joinSession, helloEncode, helloDecode, helloVerify,
    welcomeDecode, welcomeOpen, refuseDecode, announceDecode, pairSession }
    from '../src/join.js';
import { derive, E2EPeer, paramsDefault, OUT_REPLY, OUT_NEWKEY } from '../src/e2e.js';
import { haveTool, loadVectors } from './helpers.mjs';

await sodiumReady();
const skip = haveTool() ? false : 'no vectors tool (make build/tests/tools/vectors)';
const V = haveTool() ? loadVectors() : null;

function again(p, key) {
	return hex(encode({ type: p.type, flags: 0, keyId: 0, sender: unhex(p.sender),
	    seq: BigInt(p.seq) }, unhex(p.payload), key));
}

test('join key, txid, session, HELLO byte for byte', { skip }, () => {
	const j = V.join, secret = unhex(j.secret);
	const key = joinKey(secret);
	assert.equal(hex(key), j.key);
	assert.equal(hex(joinTxid(secret, unhex(j.joiner_id))), j.txid);
	assert.equal(joinSession(secret), j.session);
	const kp = S.crypto_sign_seed_keypair(unhex(j.joiner_seed));
	assert.equal(hex(kp.publicKey), j.joiner_pk);
	const pl = helloEncode(unhex(j.txid), unhex(j.joiner_id), kp.publicKey,
	    kp.privateKey, 'browser');
	assert.equal(hex(pl), j.hello.payload);
	assert.equal(again(j.hello, key), j.hello.packet);
	const h = helloDecode(decode(unhex(j.hello.packet), key).payload);
	assert.equal(h.name, 'browser');
	assert.ok(helloVerify(h, unhex(j.joiner_id)));
	assert.ok(!helloVerify(h, unhex(V.keys.a_id)));
});

test('WELCOME sealed by C opens in JS; REFUSE reads', { skip }, () => {
	const j = V.join, key = joinKey(unhex(j.secret));
	const kp = S.crypto_sign_seed_keypair(unhex(j.joiner_seed));
	const r = decode(unhex(j.welcome.packet), key);
	assert.equal(r.hdr.type, T.JOIN_WELCOME);
	const w = welcomeDecode(r.payload);
	assert.equal(w.meshName, 'Home Mesh');
	const secret = welcomeOpen(w, unhex(j.joiner_id), kp.publicKey,
	    kp.privateKey, unhex(j.inviter_pk));
	assert.equal(hex(secret), j.mesh_secret);
	// signed by someone else, or for another joiner: refused
	assert.throws(() => welcomeOpen(w, unhex(j.joiner_id), kp.publicKey,
	    kp.privateKey, kp.publicKey), /signature/);
	assert.throws(() => welcomeOpen(w, unhex(V.keys.a_id), kp.publicKey,
	    kp.privateKey, unhex(j.inviter_pk)), /signature/);
	const rf = refuseDecode(decode(unhex(j.refuse.packet), key).payload);
	assert.equal(rf.reason, 2);
	assert.equal(hex(rf.txid), j.txid);
});

test('mesh keys and packets byte for byte', { skip }, () => {
	const p = V.packets, secret = unhex(V.join.mesh_secret);
	const key = keyDerive(secret, 0);
	assert.equal(hex(key), p.mesh_key);
	assert.equal(hex(keyDerive(secret, 7)), p.mesh_key_epoch7);
	for (const k of ['keepalive', 'data', 'ping', 'announce']) {
		assert.equal(again(p[k], key), p[k].packet, k);
		const r = decode(unhex(p[k].packet), key);
		assert.equal(hex(r.payload), p[k].payload, k);
		assert.equal(r.hdr.seq, BigInt(p[k].seq), k);
	}
	assert.equal(pingDecode(unhex(p.ping.payload)).ts, 1767225600123456n);
	const a = announceDecode(unhex(p.announce.payload));
	assert.equal(hex(a.id), V.keys.j_id);
	assert.equal(a.name, 'bob');
	assert.equal(a.cands.length, 2);
	assert.equal(a.cands[0].port, 7777);
	// every bit of every byte matters
	const b = unhex(p.data.packet);
	for (let i = 0; i < b.length; i++)
		for (let bit = 0; bit < 8; bit++) {
			const c = b.slice();
			c[i] ^= 1 << bit;
			assert.throws(() => decode(c, key), PacketError);
		}
	assert.throws(() => decode(b, keyDerive(secret, 7)), /auth/);
	for (let n = 0; n < b.length; n++)
		assert.throws(() => decode(b.slice(0, n), key), PacketError);
	// the session name for a pair is symmetric and keyed by the mesh key
	const [x, y] = p.pair_session_ids.map(unhex);
	assert.equal(pairSession(key, x, y), pairSession(key, y, x));
	const lo = x[0] < y[0] ? [x, y] : [y, x];
	assert.equal(pairSession(key, x, y), S.to_hex(S.crypto_generichash(16,
	    concat(utf8('atm-relay'), lo[0], lo[1]), key)));
});

test('replay window: once, inside 960, never older', () => {
	const w = new Replay();
	assert.equal(w.update(1000n), null);
	assert.equal(w.update(1000n), 'replay');
	assert.equal(w.update(999n), null);
	assert.equal(w.update(2000n), null);
	assert.equal(w.update(2000n - 959n), null);
	assert.equal(w.update(2000n - 960n), 'old');
	assert.equal(w.update(1n << 40n), null);
	assert.equal(w.check(2000n), 'old');
});

test('e2e: keys of a C handshake, its RESP accepted by a JS initiator', { skip }, () => {
	const e = V.e2e, init = unhex(e.init), resp = unhex(e.resp);
	const k = derive(unhex(e.initiator_eph_sk), resp.subarray(34, 66),
	    init.subarray(2, 34), resp.subarray(34, 66), unhex(e.initiator_id),
	    unhex(e.responder_id), e.key_id);
	assert.equal(hex(k.iToR), e.key_i_to_r);
	assert.equal(hex(k.rToI), e.key_r_to_i);
	const r = decode(unhex(e.data), k.iToR);
	assert.equal(new TextDecoder().decode(r.payload), 'e2e hello');
	assert.equal(r.hdr.keyId, e.key_id);
	// a JS initiator in the state the C one was in takes the C RESP
	const seedA = new Uint8Array(32).fill(1), seedJ = new Uint8Array(32).fill(2);
	const a = S.crypto_sign_seed_keypair(seedA), j = S.crypto_sign_seed_keypair(seedJ);
	const ja = new E2EPeer(paramsDefault(), unhex(e.initiator_id), a.publicKey,
	    a.privateKey, unhex(e.responder_id), j.publicKey);
	ja.pending = true;
	ja.pendId = e.key_id;
	ja.initMsg = init;
	ja.eph = { publicKey: init.slice(2, 34), privateKey: unhex(e.initiator_eph_sk) };
	assert.equal(ja.input(T.E2E_RESP, resp, 1000).flags & OUT_NEWKEY, OUT_NEWKEY);
	assert.equal(hex(ja.cur.tx), e.key_i_to_r);
	// a JS responder checks the C INIT's signature and answers
	const jj = new E2EPeer(paramsDefault(), unhex(e.responder_id), j.publicKey,
	    j.privateKey, unhex(e.initiator_id), a.publicKey);
	assert.equal(jj.input(T.E2E_INIT, init, 1000).flags, OUT_REPLY);
	const bad = init.slice();
	bad[100] ^= 1;
	const jk = new E2EPeer(paramsDefault(), unhex(e.responder_id), j.publicKey,
	    j.privateKey, unhex(e.initiator_id), a.publicKey);
	assert.throws(() => jk.input(T.E2E_INIT, bad, 1000), /sig/);
	assert.equal(peek(unhex(e.data)).flags & 1, 1);
});

test('e2e: two JS sides, first session, confirmation, rekey', () => {
	const a = S.crypto_sign_keypair(), b = S.crypto_sign_keypair();
	const ida = unhex('0000000000000001'), idb = unhex('0000000000000002');
	const A = new E2EPeer(paramsDefault(), ida, a.publicKey, a.privateKey, idb, b.publicKey);
	const B = new E2EPeer(paramsDefault(), idb, b.publicKey, b.privateKey, ida, a.publicKey);
	for (let round = 0; round < 3; round++) {
		const t = 10 + round * 200;
		const init = A.start(t);
		const r = B.input(T.E2E_INIT, init, t);
		A.input(T.E2E_RESP, r.out, t);
		assert.ok(A.ready());
		const pkt = A.encrypt({ type: T.PING, sender: ida }, new Uint8Array(12));
		assert.equal(B.decrypt(pkt, t).hdr.type, T.PING);
		assert.ok(B.ready() && !B.busy());
		const back = B.encrypt({ type: T.DATA, sender: idb }, utf8('x'));
		assert.equal(A.decrypt(back, t).payload[0], 0x78);
		assert.ok(!A.busy());
		assert.throws(() => A.decrypt(back, t), PacketError);	// replay
		assert.equal(A.cur.id % 2, 1);	// the smaller id picks odd ids
	}
	assert.equal(A.epoch, 3);
});
