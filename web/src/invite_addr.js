// Addresses in invites: the text glibc's inet_ntop writes and inet_pton
// reads (proto/invite.c invite_addr_str / invite_addr_parse), so that the
// JS shows and accepts exactly what the C code does.

function v6str(a) {
	const g = [];
	for (let i = 0; i < 16; i += 2)
		g.push((a[i] << 8) | a[i + 1]);
	if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff)
		return '::ffff:' + Array.from(a.slice(12)).join('.');
	let best = -1, bestLen = 0;
	for (let i = 0; i < 8;) {
		if (g[i] !== 0) { i++; continue; }
		let j = i;
		while (j < 8 && g[j] === 0)
			j++;
		if (j - i > bestLen && j - i >= 2) { best = i; bestLen = j - i; }
		i = j;
	}
	const h = g.map((x) => x.toString(16));
	if (best < 0)
		return h.join(':');
	return h.slice(0, best).join(':') + '::' + h.slice(best + bestLen).join(':');
}

export function addrStr(a, scheme = '') {
	if (!a)
		return '';
	const ip = a.family === 1 ? Array.from(a.addr.slice(0, 4)).join('.') :
	    v6str(a.addr);
	if (a.port === 0)
		return scheme + ip;
	return a.family === 1 ? `${scheme}${ip}:${a.port}` : `${scheme}[${ip}]:${a.port}`;
}

function pton4(s, out) {
	const parts = s.split('.');
	if (parts.length !== 4)
		return false;
	for (let i = 0; i < 4; i++) {
		if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i]) || Number(parts[i]) > 255)
			return false;
		out[i] = Number(parts[i]);
	}
	return true;
}

function pton6(s, out) {
	let tail4 = null;
	const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(s);
	if (m) {
		tail4 = new Uint8Array(4);
		if (!pton4(m[2], tail4))
			return false;
		s = m[1] + '0:0';
	}
	const halves = s.split('::');
	if (halves.length > 2)
		return false;
	const grp = (t) => t === '' ? [] : t.split(':');
	const a = grp(halves[0]), b = halves.length === 2 ? grp(halves[1]) : [];
	const n = a.length + b.length;
	if ((halves.length === 1 && n !== 8) || (halves.length === 2 && n > 7))
		return false;
	const all = [...a, ...Array(8 - n).fill('0'), ...b];
	for (let i = 0; i < 8; i++) {
		if (!/^[0-9a-fA-F]{1,4}$/.test(all[i]))
			return false;
		const v = parseInt(all[i], 16);
		out[2 * i] = v >> 8;
		out[2 * i + 1] = v & 0xff;
	}
	if (tail4)
		out.set(tail4, 12);
	return true;
}

// "udp://IP:PORT", "IP:PORT", "[v6]:PORT" -> addr, or null
export function addrParse(s) {
	if (s.slice(0, 6).toLowerCase() === 'udp://')
		s = s.slice(6);
	let host, rest;
	if (s[0] === '[') {
		const k = s.indexOf(']:');
		if (k < 0)
			return null;
		host = s.slice(1, k);
		rest = s.slice(k + 2);
	} else {
		const k = s.lastIndexOf(':');
		if (k < 0 || s.indexOf(':') !== k)
			return null;
		host = s.slice(0, k);
		rest = s.slice(k + 1);
	}
	if (host.length === 0 || host.length > 46 || !/^[0-9]{1,5}$/.test(rest))
		return null;
	const port = Number(rest);
	if (port === 0 || port > 65535)
		return null;
	const addr = new Uint8Array(16);
	if (s[0] !== '[' && pton4(host, addr))
		return { family: 1, port, addr };
	if (s[0] === '[' && pton6(host, addr))
		return { family: 2, port, addr };
	return null;
}
