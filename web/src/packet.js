// Punch/keep-alive/data packets (proto/packet.c, docs/packet-format.md):
// a 20-byte header, the payload under XChaCha20-Poly1305 with the header
// as associated data, a 16-byte tag. Nonce = sender id || seq || 8 zeros.
import { S } from './sodium.js';
import { get32, get64, put32, put64 } from './bytes.js';

export const HDR_LEN = 20, TAG_LEN = 16, OVERHEAD = 36;
export const MAX_LEN = 65507;
export const VERSION = 1, MAGIC = 0x60, MAGIC_MASK = 0xf8;
export const T = {
	PUNCH: 1, PUNCH_ACK: 2, PUNCH_CONFIRM: 3, KEEPALIVE: 4,
	KEEPALIVE_ACK: 5, PING: 6, PONG: 7, DATA: 8, JOIN_HELLO: 9,
	JOIN_WELCOME: 10, JOIN_REFUSE: 11, ANNOUNCE: 12, E2E_INIT: 13,
	E2E_RESP: 14,
};
export const TYPE_MAX = 14;
export const F_SESSION = 0x01, F_KA_MISSED = 0x02;

export class PacketError extends Error {
	constructor(code) {
		super(code);
		this.code = code;	// short magic version type length auth replay old payload
	}
}

// mesh key for an epoch: crypto_kdf_derive_from_key(32, epoch, "atmpunch")
export function keyDerive(meshSecret, epoch = 0) {
	return S.crypto_kdf_derive_from_key(32, Number(epoch), 'atmpunch', meshSecret);
}

// a restarted sender starts above anything it sent before (Unix s << 32)
export function seqStart(nowSeconds) {
	return BigInt(Math.floor(nowSeconds)) << 32n;
}

export function isOurs(buf) {
	return buf.length > 0 && (buf[0] & MAGIC_MASK) === MAGIC;
}

export function peek(buf) {
	if (!isOurs(buf))
		throw new PacketError(buf.length === 0 ? 'short' : 'magic');
	if ((buf[0] & ~MAGIC_MASK) !== VERSION)
		throw new PacketError('version');
	if (buf.length < OVERHEAD)
		throw new PacketError('short');
	if (buf.length > MAX_LEN)
		throw new PacketError('length');
	if (buf[1] === 0 || buf[1] > TYPE_MAX)
		throw new PacketError('type');
	return {
		version: buf[0] & ~MAGIC_MASK, type: buf[1], flags: buf[2],
		keyId: buf[3], sender: buf.slice(4, 12), seq: get64(buf, 12),
	};
}

function nonce(hdr) {
	const n = new Uint8Array(24);
	n.set(hdr.subarray(4, 20));
	return n;
}

// h: { type, flags, keyId, sender (8 bytes), seq (BigInt) }
export function encode(h, payload, key) {
	if (h.type === 0 || h.type > TYPE_MAX || payload.length > MAX_LEN - OVERHEAD)
		throw new PacketError('type');
	const out = new Uint8Array(OVERHEAD + payload.length);
	out[0] = MAGIC | VERSION;
	out[1] = h.type;
	out[2] = h.flags || 0;
	out[3] = h.keyId || 0;
	out.set(h.sender, 4);
	put64(out, 12, h.seq);
	const hdr = out.subarray(0, HDR_LEN);
	const r = S.crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
	    payload, hdr, null, nonce(hdr), key);
	out.set(r.ciphertext, HDR_LEN);
	out.set(r.mac, HDR_LEN + payload.length);
	return out;
}

// -> { hdr, payload } or throws PacketError
export function decode(buf, key) {
	const h = peek(buf);
	const clen = buf.length - OVERHEAD;
	const hdr = buf.subarray(0, HDR_LEN);
	let pl;
	try {
		pl = S.crypto_aead_xchacha20poly1305_ietf_decrypt_detached(null,
		    buf.subarray(HDR_LEN, HDR_LEN + clen),
		    buf.subarray(HDR_LEN + clen), hdr, nonce(hdr), key);
	} catch (e) {
		throw new PacketError('auth');
	}
	return { hdr: h, payload: pl };
}

// RFC 6479 window as in proto/packet.c: 16 words of 64 bits, 960 guaranteed
const WORDS = 16n, WINDOW = WORDS * 64n - 64n;

export class Replay {
	constructor() {
		this.any = false;
		this.top = 0n;
		this.map = new Array(Number(WORDS)).fill(0n);
	}

	check(seq) {
		if (!this.any || seq > this.top)
			return null;
		if (this.top - seq >= WINDOW)
			return 'old';
		if (this.map[Number((seq / 64n) % WORDS)] & (1n << (seq % 64n)))
			return 'replay';
		return null;
	}

	update(seq) {
		const r = this.check(seq);
		if (r !== null)
			return r;
		if (!this.any) {
			this.map.fill(0n);
			this.any = true;
			this.top = seq;
		} else if (seq > this.top) {
			const cur = this.top / 64n;
			let diff = seq / 64n - cur;
			if (diff > WORDS)
				diff = WORDS;
			for (let i = 1n; i <= diff; i++)
				this.map[Number((cur + i) % WORDS)] = 0n;
			this.top = seq;
		}
		this.map[Number((seq / 64n) % WORDS)] |= 1n << (seq % 64n);
		return null;
	}
}

// PING/PONG: id (32) || ts (64, microseconds), padding after
export function pingEncode(id, ts) {
	const b = new Uint8Array(12);
	put32(b, 0, id);
	put64(b, 4, ts);
	return b;
}

export function pingDecode(b) {
	if (b.length < 12)
		throw new PacketError('payload');
	return { id: get32(b, 0), ts: get64(b, 4) };
}
