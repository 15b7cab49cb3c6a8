// The relay side of a member: session URLs, relayd's CONTROL frames
// (proto/relaymsg.h), and a WebSocket transport that reconnects. Frames:
// 0x00-0xEF DATA (a packet), 0xF0 CONTROL from relayd, 0xF1 SIGNAL, the
// rest reserved (ignored).
import { get16, get32 } from './bytes.js';

export const CONTROL = 0xf0, SIGNAL = 0xf1;
export const EV_WELCOME = 1, EV_JOINED = 2, EV_LEFT = 3;

// CONTROL: F0 01 EV 00 ID(4) COUNT(2) MAX(2); null when malformed
export function controlRead(b) {
	if (b.length < 12 || b[0] !== CONTROL || b[1] !== 1)
		return null;
	return { event: b[2], flags: b[3], clientId: get32(b, 4),
	    count: get16(b, 8), max: get16(b, 10) };
}

export function kind(b) {
	if (b.length === 0)
		return 'empty';
	if (b[0] < CONTROL)
		return 'data';
	if (b[0] === CONTROL)
		return 'control';
	if (b[0] === SIGNAL)
		return 'signal';
	return 'reserved';
}

// ws[s]://HOST[:PORT] gets /v1/relay/SESSION; a URL with a path of its own
// is used as it is (common/relay_client.c). The token goes in ?token=: a
// browser cannot set Authorization on a WebSocket.
export function sessionUrl(base, session, token) {
	const m = /^(wss?):\/\/([^/?#]+)(\/[^?#]*)?$/i.exec(base);
	if (m === null)
		throw new Error(`not a ws:// or wss:// URL: ${base}`);
	let url = `${m[1].toLowerCase()}://${m[2]}`;
	url += m[3] && m[3] !== '/' ? m[3] : `/v1/relay/${session}`;
	if (token)
		url += `?token=${encodeURIComponent(token)}`;
	return url;
}

// A WebSocket to one session that comes back after a drop (0.25 s doubling
// to 30 s, as the C relay client). handlers: onopen(), onframe(Uint8Array),
// onclose(reason). WS: the WebSocket constructor (injectable for tests).
export class Transport {
	constructor(url, handlers, WS = globalThis.WebSocket) {
		this.url = url;
		this.h = handlers;
		this.WS = WS;
		this.ws = null;
		this.stopped = false;
		this.backoff = 0.25;
		this.timer = null;
		this.connected = false;
		this.opened = 0;
		this.connect();
	}

	connect() {
		this.timer = null;
		if (this.stopped)
			return;
		let ws;
		try {
			ws = new this.WS(this.url);
		} catch (e) {
			this.retry(`cannot connect: ${e.message}`);
			return;
		}
		ws.binaryType = 'arraybuffer';
		this.ws = ws;
		ws.onopen = () => {
			this.connected = true;
			this.opened = Date.now();
			this.h.onopen && this.h.onopen();
		};
		ws.onmessage = (ev) => {
			if (!(ev.data instanceof ArrayBuffer))
				return;	// text frames are not ours
			this.h.onframe(new Uint8Array(ev.data));
		};
		ws.onerror = () => {};
		ws.onclose = (ev) => {
			if (this.ws !== ws)
				return;
			this.ws = null;
			const was = this.connected;
			this.connected = false;
			// a connection that lived 10 s resets the backoff
			if (was && Date.now() - this.opened > 10000)
				this.backoff = 0.25;
			this.retry(ev.code === 1006 || !ev.code ? 'connection lost' :
			    `closed (${ev.code}${ev.reason ? ' ' + ev.reason : ''})`);
		};
	}

	retry(reason) {
		this.h.onclose && this.h.onclose(reason);
		if (this.stopped)
			return;
		const d = this.backoff * (0.75 + Math.random() / 2);
		this.backoff = Math.min(this.backoff * 2, 30);
		this.timer = setTimeout(() => this.connect(), d * 1000);
	}

	send(b) {
		if (this.ws === null || !this.connected)
			return false;
		this.ws.send(b);
		return true;
	}

	close() {
		this.stopped = true;
		if (this.timer !== null)
			clearTimeout(this.timer);
		if (this.ws !== null) {
			const ws = this.ws;
			this.ws = null;
			this.connected = false;
			ws.close(1000);
		}
	}
}
