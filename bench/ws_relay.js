// The npm `ws` reference relay for bench/relay_idle_bench.sh and
// relay_bench -N: what relayd does, written the way a node developer would.
// Clients of one session (/v1/relay/SESSION or /mesh/SESSION) get each
// other's binary messages. With RELAY_SECRET set, a client must present
// relayd's per-session token (?token=, proto/token.h), checked with the
// same HMAC, so admission costs both relays the same work.
//   node bench/ws_relay.js [port]      prints "listening PORT"
// ws is looked up in bench/node_modules, then tests/interop/node_modules.
'use strict';
const path = require('path');
const http = require('http');
const crypto = require('crypto');
let ws;
try { ws = require('ws'); } catch (e) {
	ws = require(path.join(__dirname, '../tests/interop/node_modules/ws'));
}

const secret = process.env.RELAY_SECRET || '';
const maxPayload = 131072;		// relayd's max_frame default
const sessions = new Map();

function tokenOk(session, token) {
	const m = /^v1\.([1-9][0-9]*)\.([A-Za-z0-9_-]{43})$/.exec(token || '');
	if (!m || Number(m[1]) <= Date.now() / 1000) return false;
	const want = crypto.createHmac('sha256', secret)
	    .update('atmosphere-relay-v1\n' + session + '\n' + m[1]).digest();
	const got = Buffer.from(m[2], 'base64url');
	return got.length === want.length && crypto.timingSafeEqual(got, want);
}

const wss = new ws.WebSocketServer({ noServer: true, perMessageDeflate: false,
    maxPayload, clientTracking: false });
const server = http.createServer((req, res) => {
	res.writeHead(req.url === '/health' ? 200 : 404).end();
});
server.on('upgrade', (req, sock, head) => {
	const u = new URL(req.url, 'http://x');
	const m = /^\/(?:v1\/relay|mesh)\/([A-Za-z0-9._-]{1,128})$/.exec(u.pathname);
	if (!m || (secret && !tokenOk(m[1], u.searchParams.get('token')))) {
		sock.end('HTTP/1.1 ' + (m ? '401 Unauthorized' : '404 Not Found') +
		    '\r\nContent-Length: 0\r\n\r\n');
		return;
	}
	wss.handleUpgrade(req, sock, head, (c) => join(c, m[1]));
});

function join(c, id) {
	let s = sessions.get(id);
	if (!s) sessions.set(id, s = new Set());
	s.add(c);
	c.on('message', (data, isBinary) => {
		if (!isBinary) return;
		for (const o of s)
			if (o !== c && o.readyState === 1) o.send(data, { binary: true });
	});
	c.on('close', () => {
		s.delete(c);
		if (s.size === 0) sessions.delete(id);
	});
	c.on('error', () => {});
}

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
	console.log('listening ' + server.address().port);
});
process.on('SIGTERM', () => process.exit(0));
