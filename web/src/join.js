// The join handshake and ANNOUNCE payloads (proto/join.c, docs/mesh.md):
// keys and names from the join secret, the HELLO the joiner signs, the
// WELCOME it checks and opens, and the relay session names.
import { S } from './sodium.js';
import { concat, utf8, fromUtf8, get16, compare } from './bytes.js';

export const REASONS = {
	1: 'the invite has expired',
	2: 'the invite has already been used',
	3: 'the inviter is no longer in a mesh',
};

export function reasonStr(r) {
	return REASONS[r] || 'refused';
}

export function joinKey(secret) {
	return S.crypto_generichash(32, utf8('atm-join-key'), secret);
}

export function joinTxid(secret, id) {
	return S.crypto_generichash(16, concat(utf8('atm-join-txid'), id),
	    secret).slice(0, 12);
}

// the invite's relay session: hex(BLAKE2b-128(key = secret, "atm-join-relay"))
export function joinSession(secret) {
	return S.to_hex(S.crypto_generichash(16, utf8('atm-join-relay'), secret));
}

// a pair's relay session (punchd/relay.c): keyed with the mesh packet key
export function pairSession(meshKey, a, b) {
	const lo = compare(a, b) < 0 ? [a, b] : [b, a];
	return S.to_hex(S.crypto_generichash(16,
	    concat(utf8('atm-relay'), lo[0], lo[1]), meshKey));
}

function putName(name) {
	const n = utf8(name);
	if (n.length > 63)
		throw new Error('name longer than 63 bytes');
	return concat(Uint8Array.of(n.length), n);
}

// optional trailing name: length byte, no control characters
function getName(buf, off) {
	if (off >= buf.length)
		return '';
	const n = buf[off];
	if (n > 63 || off + 1 + n > buf.length)
		throw new Error('bad name');
	const v = buf.subarray(off + 1, off + 1 + n);
	for (const c of v)
		if (c < 0x20 || c === 0x7f)
			throw new Error('bad name');
	return fromUtf8(v);
}

// HELLO: txid (12) | pk (32) | sig (64) | name length (1) | name
// [| flags (1)]: a byte after the name (join_hello_decode reads it when
// present, JOIN_F_RELAY_ONLY in proto/join.h); HELLO_F_RELAY_ONLY says the
// joiner has no UDP: nodes never punch it (docs/browser-member.md).
export const HELLO_F_RELAY_ONLY = 0x01;

export function helloEncode(txid, id, pk, sk, name = '', flags = null) {
	const sig = S.crypto_sign_detached(concat(utf8('atm-join-hello'), txid,
	    id, pk), sk);
	const b = concat(txid, pk, sig, putName(name));
	return flags === null ? b : concat(b, Uint8Array.of(flags));
}

export function helloDecode(b) {
	if (b.length < 108)
		throw new Error('short HELLO');
	const name = getName(b, 108);
	const at = 108 + (b.length > 108 ? 1 + b[108] : 0);
	return { txid: b.slice(0, 12), pk: b.slice(12, 44), sig: b.slice(44, 108),
	    name, flags: at < b.length ? b[at] : 0 };
}

export function helloVerify(h, id) {
	return S.crypto_sign_verify_detached(h.sig,
	    concat(utf8('atm-join-hello'), h.txid, id, h.pk), h.pk);
}

// WELCOME: txid (12) | mesh id (16) | sealed (80) | sig (64) | name
export function welcomeDecode(b) {
	if (b.length < 172)
		throw new Error('short WELCOME');
	return { txid: b.slice(0, 12), meshId: b.slice(12, 28),
	    sealed: b.slice(28, 108), sig: b.slice(108, 172),
	    meshName: getName(b, 172) };
}

function welcomeMsg(w, id, pk) {
	return concat(utf8('atm-join-welcome'), w.txid, id, pk, w.meshId, w.sealed);
}

// the inviter's side, for tests and other clients' vectors
export function welcomeSeal(txid, meshId, meshName, joinerId, joinerPk,
    meshSecret, inviterSk) {
	const xpk = S.crypto_sign_ed25519_pk_to_curve25519(joinerPk);
	const w = { txid, meshId, sealed: S.crypto_box_seal(meshSecret, xpk) };
	w.sig = S.crypto_sign_detached(welcomeMsg(w, joinerId, joinerPk), inviterSk);
	return concat(w.txid, w.meshId, w.sealed, w.sig, putName(meshName));
}

// -> mesh secret; throws 'signature' (not the inviter) or 'open'
export function welcomeOpen(w, joinerId, joinerPk, joinerSk, inviterPk) {
	if (!S.crypto_sign_verify_detached(w.sig, welcomeMsg(w, joinerId, joinerPk),
	    inviterPk))
		throw new Error('signature');
	try {
		const xpk = S.crypto_sign_ed25519_pk_to_curve25519(joinerPk);
		const xsk = S.crypto_sign_ed25519_sk_to_curve25519(joinerSk);
		const secret = S.crypto_box_seal_open(w.sealed, xpk, xsk);
		S.memzero(xsk);
		return secret;
	} catch (e) {
		throw new Error('open');
	}
}

export function refuseDecode(b) {
	if (b.length < 13)
		throw new Error('short REFUSE');
	return { txid: b.slice(0, 12), reason: b[12] };
}

// ANNOUNCE: id (8) | pk (32) | n (1) | n x (family, port, addr 16) | name
export function announceDecode(b) {
	if (b.length < 41)
		throw new Error('short ANNOUNCE');
	const a = { id: b.slice(0, 8), pk: b.slice(8, 40), cands: [], name: '' };
	const cnt = b[40];
	let n = 41;
	if (cnt > 8 || n + cnt * 19 > b.length)
		throw new Error('bad ANNOUNCE');
	for (let i = 0; i < cnt; i++, n += 19) {
		if (b[n] !== 1 && b[n] !== 2)
			throw new Error('bad ANNOUNCE address');
		a.cands.push({ family: b[n], port: get16(b, n + 1),
		    addr: b.slice(n + 3, n + 19) });
	}
	a.name = getName(b, n);
	return a;
}
