// Byte helpers shared by the codecs: hex, UTF-8, big-endian integers.
// 64-bit values (sequence numbers, timestamps, expiries) are BigInt.

export function hex(b) {
	let s = '';
	for (const x of b)
		s += x.toString(16).padStart(2, '0');
	return s;
}

export function unhex(s) {
	if (typeof s !== 'string' || s.length % 2 !== 0 || /[^0-9a-fA-F]/.test(s))
		throw new Error('not a hex string');
	const b = new Uint8Array(s.length / 2);
	for (let i = 0; i < b.length; i++)
		b[i] = parseInt(s.substr(2 * i, 2), 16);
	return b;
}

export function concat(...parts) {
	let n = 0;
	for (const p of parts)
		n += p.length;
	const out = new Uint8Array(n);
	let o = 0;
	for (const p of parts) {
		out.set(p, o);
		o += p.length;
	}
	return out;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

export function utf8(s) {
	return enc.encode(s);
}

export function fromUtf8(b) {
	return dec.decode(b);
}

export function get16(b, o) {
	return (b[o] << 8) | b[o + 1];
}

export function put16(b, o, v) {
	b[o] = (v >> 8) & 0xff;
	b[o + 1] = v & 0xff;
}

export function get32(b, o) {
	return ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
}

export function put32(b, o, v) {
	b[o] = (v >>> 24) & 0xff;
	b[o + 1] = (v >>> 16) & 0xff;
	b[o + 2] = (v >>> 8) & 0xff;
	b[o + 3] = v & 0xff;
}

export function get64(b, o) {
	let v = 0n;
	for (let i = 0; i < 8; i++)
		v = (v << 8n) | BigInt(b[o + i]);
	return v;
}

export function put64(b, o, v) {
	v = BigInt.asUintN(64, BigInt(v));
	for (let i = 7; i >= 0; i--) {
		b[o + i] = Number(v & 0xffn);
		v >>= 8n;
	}
}

export function equal(a, b) {
	if (a.length !== b.length)
		return false;
	let d = 0;
	for (let i = 0; i < a.length; i++)
		d |= a[i] ^ b[i];
	return d === 0;
}

// -1, 0, 1 as memcmp
export function compare(a, b) {
	for (let i = 0; i < Math.min(a.length, b.length); i++)
		if (a[i] !== b[i])
			return a[i] < b[i] ? -1 : 1;
	return a.length - b.length;
}
