// Invite codes (ATM-...): the reader of proto/invite.c, with the same
// checks and the same messages (docs/invite-format.md); URIs are in
// invite_uri.js, addresses in invite_addr.js. Never log what goes in: it
// holds the join secret.
import { S } from './sodium.js';
import { get16, get64, fromUtf8 } from './bytes.js';

export const INVITE_BLOB_MAX = 1024;
export const INVITE_URI_MAX = 4096;
const FIXED = 101, CKSUM = 4;
const ALPHA = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TAGS = [null, 'mesh_name', 'endpoints.local', 'endpoints.public',
	'endpoints.relay', 'network_info.local_ip', 'network_info.public_ip',
	'network_info.is_behind_nat', 'network_info.nat_type',
	'endpoints.local6', 'network_info.stun_source', 'endpoints.public6'];
TAGS[16] = 'relay_token';	// 12-15 free
const STUN_SOURCE_MAX = 127;

// code: empty, prefix, char, truncated, checksum, version, expired, field,
// toolong, uri (the INVITE_ERR_* of proto/invite.h)
export class InviteError extends Error {
	constructor(code, message, invite = null) {
		super(message);
		this.code = code;
		this.invite = invite;	// only for 'expired'
	}
}

export function fail(code, msg) {
	throw new InviteError(code, msg);
}

function b32value(c) {
	c = c.toUpperCase();
	if (c === 'O')
		return 0;
	if (c === 'I' || c === 'L')
		return 1;
	const i = ALPHA.indexOf(c);
	return c.length === 1 && i >= 0 ? i : -1;
}

// Crockford base32 -> { bytes, trailing } or { bad: index }; null: too long
export function b32decode(s) {
	const out = [];
	let acc = 0, bits = 0;
	for (let i = 0; i < s.length; i++) {
		const c = s[i];
		if (c === '-' || c === ' ' || c === '\t' || c === '\r' || c === '\n')
			continue;
		const v = b32value(c);
		if (v < 0)
			return { bad: i };
		acc = (acc << 5) | v;
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			if (out.length >= INVITE_BLOB_MAX)
				return null;
			out.push((acc >> bits) & 0xff);
			acc &= (1 << bits) - 1;
		}
	}
	return { bytes: Uint8Array.from(out), trailing: acc };
}

export function b32encode(b) {
	let s = '', acc = 0, bits = 0;
	for (const x of b) {
		acc = (acc << 8) | x;
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			s += ALPHA[(acc >> bits) & 31];
		}
		acc &= (1 << bits) - 1;
	}
	if (bits > 0)
		s += ALPHA[(acc << (5 - bits)) & 31];
	return s;
}

// UTF-8, shortest form, no surrogates, no C0/DEL/C1 (name_valid)
function nameValid(p) {
	if (p.length === 0 || p.length > 63)
		return false;
	let i = 0;
	while (i < p.length) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 || p[i] === 0x7f)
				return false;
			i++;
			continue;
		}
		let n, cp;
		if ((p[i] & 0xe0) === 0xc0) { n = 1; cp = p[i] & 0x1f; }
		else if ((p[i] & 0xf0) === 0xe0) { n = 2; cp = p[i] & 0x0f; }
		else if ((p[i] & 0xf8) === 0xf0) { n = 3; cp = p[i] & 0x07; }
		else
			return false;
		if (i + n >= p.length)
			return false;
		for (let k = 1; k <= n; k++) {
			if ((p[i + k] & 0xc0) !== 0x80)
				return false;
			cp = (cp << 6) | (p[i + k] & 0x3f);
		}
		if ((n === 1 && cp < 0x80) || (n === 2 && cp < 0x800) ||
		    (n === 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp < 0xa0))
			return false;
		i += n + 1;
	}
	return true;
}

export function relayValid(s) {
	if (s.length > 255)
		return false;
	let skip;
	if (s.length > 5 && s.slice(0, 5).toLowerCase() === 'ws://')
		skip = 5;
	else if (s.length > 6 && s.slice(0, 6).toLowerCase() === 'wss://')
		skip = 6;
	else
		return false;
	if ('/:?'.includes(s[skip]))
		return false;
	for (const c of s) {
		const x = c.codePointAt(0);
		if (x <= 0x20 || x >= 0x7f || '"<>\\^`{|}'.includes(c))
			return false;
	}
	return true;
}

function natTypeValid(s) {
	return /^[A-Za-z0-9_-]{1,31}$/.test(s);
}

// "stun:" and a host, [v6] or host name, maybe ":PORT" (stun_source_valid)
function stunSourceValid(s) {
	return s.length > 5 && s.length <= STUN_SOURCE_MAX &&
	    /^stun:[A-Za-z0-9._:[\]-]+$/.test(s);
}

// --- the blob -----------------------------------------------------------------

function tlvAddr(v, needPort) {
	if (v.length < 1 || (v[0] !== 1 && v[0] !== 2) ||
	    v.length !== 3 + (v[0] === 1 ? 4 : 16))
		return null;
	const port = get16(v, 1);
	if (needPort && port === 0)
		return null;
	const addr = new Uint8Array(16);
	addr.set(v.slice(3));
	return { family: v[0], port, addr };
}

function blobRead(b) {
	const end = b.length - CKSUM;
	let what = 'length';
	const bad = () => fail('field', `malformed field ${what} in invite code`);
	if (b.length < FIXED + CKSUM)
		bad();
	const inv = {
		version: b[0],
		mesh_id: b.slice(3, 19),
		inviter_id: b.slice(19, 27),
		inviter_pk: b.slice(27, 59),
		secret: b.slice(59, 91),
		expires: get64(b, 91),
		max_uses: get16(b, 99),
		mesh_name: '',
		ep_local: null, ep_public: null, ep_relay: '',
		local_ip: null, public_ip: null, behind_nat: -1, nat_type: '',
		ep_local6: null, ep_public6: null, stun_source: '', relay_token: '',
	};
	what = 'expires';
	if (inv.expires === 0n)
		bad();
	what = 'max_uses';
	if (inv.max_uses === 0)
		bad();
	const seen = new Set();
	let off = FIXED;
	while (off < end) {
		what = 'fields';
		if (end - off < 2 || end - off - 2 < b[off + 1])
			bad();
		const tag = b[off], v = b.slice(off + 2, off + 2 + b[off + 1]);
		off += 2 + v.length;
		if (!TAGS[tag])
			continue;	// a later v1 field: skip it
		what = TAGS[tag];
		if (seen.has(tag))
			bad();
		seen.add(tag);
		const ascii = () => String.fromCharCode(...v);
		switch (tag) {
		case 1:
			if (!nameValid(v))
				bad();
			inv.mesh_name = fromUtf8(v);
			break;
		case 2: case 3: case 5: case 6: case 9: case 11: {
			// 9 and 11: IPv6 only, each beside an IPv4 2 or 3 (below)
			const a = tlvAddr(v, tag !== 5 && tag !== 6);
			if (a === null || (tag >= 9 && a.family !== 2))
				bad();
			inv[{ 2: 'ep_local', 3: 'ep_public', 5: 'local_ip',
			    6: 'public_ip', 9: 'ep_local6', 11: 'ep_public6' }[tag]] = a;
			break;
		}
		case 4:
			if (!relayValid(ascii()))
				bad();
			inv.ep_relay = ascii();
			break;
		case 7:
			if (v.length !== 1 || v[0] > 1)
				bad();
			inv.behind_nat = v[0];
			break;
		case 8:
			if (!natTypeValid(ascii()))
				bad();
			inv.nat_type = ascii();
			break;
		case 10:
			if (!stunSourceValid(ascii()))
				bad();
			inv.stun_source = ascii();
			break;
		case 16:	// a credential: never shown
			if (!/^[A-Za-z0-9._-]{1,255}$/.test(ascii()))
				bad();
			inv.relay_token = ascii();
			break;
		}
	}
	what = 'endpoints.local6';
	if (inv.ep_local6 !== null && (inv.ep_local === null || inv.ep_local.family !== 1))
		bad();
	what = 'endpoints.public6';
	if (inv.ep_public6 !== null &&
	    (inv.ep_public === null || inv.ep_public.family !== 1))
		bad();
	what = 'mesh_name';
	if (!seen.has(1))
		bad();
	return inv;
}

function charStr(c) {
	const x = c.codePointAt(0);
	return x > 0x20 && x < 0x7f ? `'${c}'` : '\\x' + (x & 0xff).toString(16).padStart(2, '0');
}

function checksum(b) {
	return S.crypto_generichash(16, b, null).slice(0, CKSUM);
}

function decodeBlob(code) {
	code = code.replace(/^[ \t\n\r]+/, '');
	if (code === '')
		fail('empty', 'empty invite code');
	if (code.slice(0, 4).toUpperCase() !== 'ATM-')
		fail('prefix', 'not an Atmosphere invite code (codes start with ATM-)');
	if (code.length > INVITE_URI_MAX)
		fail('toolong', `invite code too long (more than ${INVITE_URI_MAX} characters)`);
	const r = b32decode(code.slice(4));
	if (r === null)
		fail('toolong', `invite code too long (more than ${INVITE_BLOB_MAX} bytes)`);
	if (r.bad !== undefined)
		fail('char', `invalid character ${charStr(code[4 + r.bad])} at position ` +
		    `${4 + r.bad + 1} of the invite code (codes use 0-9 and A-Z without U)`);
	const b = r.bytes, n = b.length;
	if (n < 3)
		fail('truncated', 'invite code is truncated: copy the whole code');
	const declared = get16(b, 1);
	if (n >= CKSUM + 3 && r.trailing === 0) {
		const ck = checksum(b.slice(0, n - CKSUM));
		if (S.memcmp(ck, b.slice(n - CKSUM))) {
			if (declared !== n)
				fail('field', 'malformed field length in invite code');
			return b;
		}
	}
	if (declared > n && declared <= INVITE_BLOB_MAX)
		fail('truncated', `invite code is truncated: about ${Math.floor((n * 8 + 4) / 5) + 4} ` +
		    `of ${Math.floor((declared * 8 + 4) / 5) + 4} characters; copy the whole code`);
	fail('checksum', 'invite code has a typo (checksum mismatch): check it character by character');
}

export function timeStr(t) {
	if (t > 253402300799n)
		return t.toString();
	return new Date(Number(t) * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

// now: Unix seconds (BigInt or number); 0 skips the expiry check
export function inviteDecode(code, now) {
	if (typeof code !== 'string')
		fail('empty', 'empty invite code');
	const b = decodeBlob(code);
	if (b[0] !== 1)
		fail('version', `unsupported invite version ${b[0]} (this build reads version 1)` +
		    (b[0] > 1 ? ': upgrade Atmosphere' : ''));
	const inv = blobRead(b);
	now = BigInt(now);
	if (now !== 0n && inv.expires <= now)
		throw new InviteError('expired',
		    `invite expired at ${timeStr(inv.expires)}: ask for a new one`, inv);
	return inv;
}
