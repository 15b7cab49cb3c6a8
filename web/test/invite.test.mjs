// The JS invite reader against proto/invite.c: every case the C tool
// prints (codes, URIs, errors with their messages), then hostile input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sodiumReady } from '../src/sodium.js';
import { InviteError, b32encode, b32decode } from '../src/invite.js';
import { inviteParse } from '../src/invite_uri.js';
import { addrStr, addrParse } from '../src/invite_addr.js';
import { hex } from '../src/bytes.js';
import { haveTool, loadVectors } from './helpers.mjs';

await sodiumReady();
const skip = haveTool() ? false : 'no vectors tool (make build/tests/tools/vectors)';
const V = haveTool() ? loadVectors() : null;

function view(inv) {
	const a = (x, s) => x ? addrStr(x, s) : null;
	return {
		mesh_id: hex(inv.mesh_id), mesh_name: inv.mesh_name,
		inviter_id: hex(inv.inviter_id), inviter_pk: hex(inv.inviter_pk),
		secret: hex(inv.secret), expires: Number(inv.expires),
		max_uses: inv.max_uses, ep_local: a(inv.ep_local, 'udp://'),
		ep_public: a(inv.ep_public, 'udp://'), ep_relay: inv.ep_relay,
		local_ip: a(inv.local_ip, ''), public_ip: a(inv.public_ip, ''),
		behind_nat: inv.behind_nat, nat_type: inv.nat_type,
		ep_local6: a(inv.ep_local6, 'udp://'),
		ep_public6: a(inv.ep_public6, 'udp://'),
		stun_source: inv.stun_source, relay_token: inv.relay_token,
	};
}

test('invite cases match proto/invite.c', { skip }, () => {
	assert.ok(V.invites.length >= 20);
	for (const c of V.invites) {
		let got = 'ok', msg = '', inv = null;
		try {
			inv = inviteParse(c.input, BigInt(c.now));
		} catch (e) {
			assert.ok(e instanceof InviteError, `${c.what}: ${e}`);
			got = e.code;
			msg = e.message;
			inv = e.invite;
		}
		assert.equal(got, c.result, c.what);
		assert.equal(msg, c.error, c.what);
		if (c.invite !== null)
			assert.deepEqual(view(inv), c.invite, c.what);
	}
});

test('base32 round trip and aliases', () => {
	const b = Uint8Array.from({ length: 40 }, (_, i) => i * 7);
	const s = b32encode(b);
	assert.deepEqual(b32decode(s).bytes, b);
	assert.deepEqual(b32decode(s.toLowerCase().replace(/1/g, 'l').replace(/0/g, 'o')).bytes, b);
	assert.equal(b32decode('AU').bad, 1);
});

test('addresses read and written as inet_pton/inet_ntop do', () => {
	for (const s of ['udp://1.2.3.4:5', 'udp://[2001:db8::1]:7777',
	    'udp://[::ffff:1.2.3.4]:9', 'udp://[1:0:0:2:0:0:0:3]:1'])
		assert.equal(addrStr(addrParse(s), 'udp://'), s.replace('1:0:0:2:0:0:0:3', '1:0:0:2::3'));
	for (const s of ['1.2.3.4', '1.2.3.4:0', '01.2.3.4:1', '1.2.3.256:1',
	    '[1.2.3.4]:1', '2001:db8::1:7', '[::1]:65536', 'x:1'])
		assert.equal(addrParse(s), null, s);
});

test('hostile input: an InviteError, never another exception', () => {
	let seed = 1;
	const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
	const alpha = 'ATM-0123456789ABCDEFGHJKMNPQRSTVWXYZ%&={}"\\:/?atmosphere://join?token=';
	for (let i = 0; i < 3000; i++) {
		let s = i % 2 ? 'ATM-' : 'atmosphere://join?token=ATM-&endpoints=';
		const n = Math.floor(rnd() * 200);
		for (let k = 0; k < n; k++)
			s += alpha[Math.floor(rnd() * alpha.length)];
		assert.throws(() => inviteParse(s, 1n), InviteError, s);
	}
	for (const s of [null, undefined, 42, '', ' ', 'ATM-' + '0'.repeat(5000),
	    'atmosphere://join?token=' + 'A'.repeat(5000)])
		assert.throws(() => inviteParse(s, 1n), InviteError);
});
