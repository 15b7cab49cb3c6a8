// Two npm `ws` clients meet in one relayd session and swap binary frames
// both ways; every frame must arrive intact and in order, and the relay's
// join announcements (0xF0, proto/relaymsg.h) must say who is there.
// usage: node ws-node.js URL [frames]      exit 0 on success
'use strict';
const WebSocket = require('ws');
const crypto = require('crypto');

const url = process.argv[2];
const n = parseInt(process.argv[3] || '200', 10);
const opts = { rejectUnauthorized: false };
const timer = setTimeout(() => fail('timeout'), 20000);

function fail(why) { console.error('FAIL: ' + why); process.exit(1); }
function ctl(buf) {
	if (buf.length < 12 || buf[0] !== 0xf0) return null;
	return { event: buf[2], id: buf.readUInt32BE(4), count: buf.readUInt16BE(8) };
}
function frames(seed) {
	const out = [];
	for (let i = 0; i < n; i++) {
		const len = 1 + ((i * 7919 + seed) % 3000);
		const b = crypto.randomBytes(len);
		b[0] = 0x61;	// a punch-packet-looking first byte: DATA
		out.push(b);
	}
	return out;
}

function client(name, expect) {
	const ws = new WebSocket(url, opts);
	const st = { ws, name, got: 0, welcome: null, joined: 0, expect };
	ws.binaryType = 'nodebuffer';
	ws.on('error', (e) => fail(name + ': ' + e.message));
	ws.on('message', (data, isBinary) => {
		if (!isBinary) fail(name + ': text frame');
		const c = ctl(data);
		if (c) {
			if (c.event === 1) st.welcome = c;
			if (c.event === 2) st.joined++;
			st.onctl && st.onctl(c);
			return;
		}
		const want = st.expect[st.got];
		if (!want || !want.equals(data))
			fail(name + ': frame ' + st.got + ' differs (' + data.length + ' bytes)');
		st.got++;
		if (st.got === n) st.ondone();
	});
	return st;
}

const fa = frames(1), fb = frames(2);
const a = client('A', fb);
let done = 0;
function finished() {
	if (++done < 2) return;
	clearTimeout(timer);
	console.log('ok: ' + n + ' frames each way; A welcome count ' +
	    a.welcome.count + ', A saw ' + a.joined + ' join(s)');
	let closed = 0;
	const bye = () => { if (++closed === 2) process.exit(0); };
	a.ws.on('close', bye); b.ws.on('close', bye);
	a.ws.close(1000); b.ws.close(1000);
}
a.ondone = finished;
let b;
a.ws.on('open', () => {
	a.onctl = (c) => {
		if (c.event !== 1) return;
		if (c.count !== 1) fail('A: welcome count ' + c.count);
		b = client('B', fa);
		b.ondone = finished;
		b.onctl = (c2) => {
			if (c2.event !== 1) return;
			if (c2.count !== 2) fail('B: welcome count ' + c2.count);
			for (const f of fb) b.ws.send(f, { binary: true });
		};
	};
});
// A starts sending once B's JOINED arrives
setInterval(() => {
	if (a.joined > 0 && !a.sent) {
		a.sent = true;
		for (const f of fa) a.ws.send(f, { binary: true });
	}
}, 10);
