// An npm `ws` client that sends every binary DATA frame it gets back into
// the session (relay control frames, first byte 0xF0, are not echoed).
// usage: node ws-echo.js URL
'use strict';
const WebSocket = require('ws');
const ws = new WebSocket(process.argv[2], { rejectUnauthorized: false });
ws.on('message', (data, isBinary) => {
	if (isBinary && data.length > 0 && data[0] !== 0xf0)
		ws.send(data, { binary: true });
});
ws.on('error', (e) => { console.error('echo: ' + e.message); process.exit(1); });
ws.on('close', () => process.exit(0));
setTimeout(() => process.exit(0), 30000);
