// atmosphere://join URIs (proto/invite_uri.c): the token is authoritative,
// mesh= and endpoints= only fill what it lacks; the same refusals and
// messages as the C reader. inviteParse takes either form.
import { fail, inviteDecode, relayValid, INVITE_URI_MAX } from './invite.js';
import { addrParse } from './invite_addr.js';

function hexval(c) {
	return /^[0-9a-fA-F]$/.test(c) ? parseInt(c, 16) : -1;
}

// percent-decoding to bytes, then UTF-8 (invalid UTF-8 kept as U+FFFD: it
// only ever fails later checks)
function pctDecode(s) {
	const out = [];
	for (let i = 0; i < s.length; i++) {
		if (s[i] === '+')
			out.push(0x20);
		else if (s[i] !== '%')
			for (const x of new TextEncoder().encode(s[i]))
				out.push(x);
		else {
			let hi, lo;
			if (s.length - i < 3 || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return { why: 'unterminated or bad %-escape' };
			if (hi === 0 && lo === 0)
				return { why: '%00 (NUL)' };
			out.push((hi << 4) | lo);
			i += 2;
		}
	}
	return { val: new TextDecoder().decode(Uint8Array.from(out)) };
}

function jsonSpanEnd(s, i) {
	let depth = 0, instr = false;
	for (; i < s.length; i++) {
		if (instr) {
			if (s[i] === '\\' && i + 1 < s.length)
				i++;
			else if (s[i] === '"')
				instr = false;
			continue;
		}
		if (s[i] === '"')
			instr = true;
		else if (s[i] === '{' || s[i] === '[')
			depth++;
		else if ((s[i] === '}' || s[i] === ']') && --depth === 0)
			return i + 1;
	}
	return -1;
}

// JSON.parse keeps the last of duplicate keys; jansson (the C side) with
// JSON_REJECT_DUPLICATES refuses them: so do we, at every depth. Returns
// the key as written (with its quotes), or null.
function jsonHasDuplicateKeys(js) {
	const stack = [];
	const re = /"(?:[^"\\]|\\.)*"|[{}[\]:,]|[^"{}[\]:,\s]+/g;
	let m, prev = null;
	while ((m = re.exec(js)) !== null) {
		const t = m[0];
		if (t === '{')
			stack.push(new Set());
		else if (t === '[')
			stack.push(null);
		else if (t === '}' || t === ']')
			stack.pop();
		else if (t === ':' && prev !== null && prev[0] === '"') {
			const top = stack[stack.length - 1];
			const k = JSON.parse(prev);
			if (top) {
				if (top.has(k))
					return prev;
				top.add(k);
			}
		}
		prev = t;
	}
	return null;
}

const P = ['token', 'mesh', 'endpoints', 'endpoint'];

function uriSplit(q) {
	const val = {};
	let i = 0;
	while (i < q.length) {
		const k0 = i;
		while (i < q.length && q[i] !== '=' && q[i] !== '&')
			i++;
		const key = q.slice(k0, i);
		if (q[i] !== '=') {
			if (q[i] === '&')
				i++;
			continue;
		}
		const v0 = i + 1;
		let vend, raw = false;
		if (key === 'endpoints' && q[v0] === '{') {
			vend = jsonSpanEnd(q, v0);
			if (vend < 0)
				fail('uri', 'invite URI: endpoints JSON never closes');
			if (vend < q.length && q[vend] !== '&')
				fail('uri', 'invite URI: text after the endpoints JSON');
			raw = true;
		} else {
			vend = q.indexOf('&', v0);
			if (vend < 0)
				vend = q.length;
		}
		i = vend < q.length ? vend + 1 : vend;
		if (!P.includes(key))
			continue;
		if (key in val)
			fail('uri', `invite URI: parameter ${key} given twice`);
		const v = q.slice(v0, vend);
		if (raw)
			val[key] = v;
		else {
			const d = pctDecode(v);
			if (d.why)
				fail('uri', `invite URI: ${d.why} in parameter ${key}`);
			val[key] = d.val;
		}
	}
	return val;
}

function fillEndpoint(inv, which, s) {
	if (which === 'relay' || (which === 'endpoint' && /^wss?:\/\//i.test(s))) {
		if (!relayValid(s))
			return false;
		if (inv.ep_relay === '')
			inv.ep_relay = s;
		return true;
	}
	const a = addrParse(s);
	if (a === null)
		return false;
	let dst = which === 'local' || which === 'local6' ? 'ep_local' : 'ep_public';
	// local6 / public6: IPv6, beside an IPv4 one, else the endpoint itself
	if (which === 'local6' || which === 'public6') {
		if (a.family !== 2)
			return false;
		if (inv[dst] !== null && inv[dst].family === 1)
			dst += '6';
	}
	if (inv[dst] === null)
		inv[dst] = a;
	return true;
}

function uriEndpoints(inv, js) {
	let o;
	try {
		o = JSON.parse(js);
	} catch (e) {
		fail('field', 'malformed field endpoints in invite URI: invalid JSON');
	}
	const dup = jsonHasDuplicateKeys(js);
	if (dup !== null)
		fail('field', 'malformed field endpoints in invite URI: invalid JSON ' +
		    `(duplicate object key near '${dup}')`);
	if (o === null || typeof o !== 'object' || Array.isArray(o))
		fail('field', 'malformed field endpoints in invite URI: not an object');
	for (const k of ['local', 'local6', 'public', 'public6', 'relay']) {
		const v = o[k];
		if (v === undefined || v === null || v === '')
			continue;
		if (typeof v !== 'string' || v.includes('\0') || !fillEndpoint(inv, k, v))
			fail('field', `malformed field endpoints.${k} in invite URI`);
	}
}

export function inviteUriParse(uri, now) {
	if (typeof uri !== 'string')
		fail('empty', 'empty invite URI');
	uri = uri.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');
	if (uri === '')
		fail('empty', 'empty invite URI');
	if (uri.length > INVITE_URI_MAX)
		fail('toolong', `invite URI too long (more than ${INVITE_URI_MAX} characters)`);
	const scheme = 'atmosphere://join';
	if (uri.slice(0, 11).toLowerCase() !== 'atmosphere:')
		fail('prefix', `not an Atmosphere invite URI (expected ${scheme}?token=...)`);
	if (uri.slice(0, scheme.length).toLowerCase() !== scheme)
		fail('uri', `invite URI: expected ${scheme}?token=...`);
	let q = uri.slice(scheme.length);
	if (q[0] === '/')
		q = q.slice(1);
	if (q[0] !== '?')
		fail('uri', `invite URI: expected ${scheme}?token=...`);
	const val = uriSplit(q.slice(1));
	if (!val.token)
		fail('uri', 'invite URI has no token parameter');
	const inv = inviteDecode(val.token, now);
	if (val.endpoints)
		uriEndpoints(inv, val.endpoints);
	if (val.endpoint && !fillEndpoint(inv, 'endpoint', val.endpoint))
		fail('field', 'malformed field endpoint in invite URI');
	return inv;
}

// Either form, as meshctl join reads it.
export function inviteParse(s, now) {
	if (typeof s !== 'string')
		s = '';
	s = s.replace(/^[ \t\n\v\f\r]+/, '');
	if (s.slice(0, 11).toLowerCase() === 'atmosphere:')
		return inviteUriParse(s, now);
	return inviteDecode(s, now);
}
