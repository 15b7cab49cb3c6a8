// One other member, as a relay-only member sees it: its pair relay
// session (punchd/relay.c names it from the mesh key and both ids), the
// mesh-key replay window, the e2e session (e2e.js), keep-alives, pings
// and the DATA waiting for a session key. Same checks as punchd/input.c:
// only this member's packets, authenticated, not replayed, no DATA under
// the mesh key once its node key is known.
import { hex, equal } from './bytes.js';
import { T, F_SESSION, encode, decode, peek, Replay, pingEncode, pingDecode }
    from './packet.js';
import { E2EPeer, paramsDefault, OUT_REPLY, OUT_CONFIRM, TICK_REKEY,
    TICK_RETX, TICK_CONFIRM } from './e2e.js';
import { kind, controlRead, EV_WELCOME, EV_JOINED, EV_LEFT } from './relay.js';

export const KA_INTERVAL = 25;		// s, punchd's default
export const PING_INTERVAL = 10;	// s, for the RTT shown
const DEAD_AFTER = 3 * KA_INTERVAL;	// s without a packet: lost
const HELLO_RETRY = 2;			// s between hellos until heard
const QUEUE_MAX = 64;			// DATA waiting for a session key

export class Peer {
	constructor(member, idHex, pk, name) {
		this.m = member;
		this.idHex = idHex;
		this.id = Uint8Array.from(idHex.match(/../g).map((x) => parseInt(x, 16)));
		this.name = name || '';
		this.pk = pk;
		this.state = 'connecting';	// waiting relayed lost
		this.reason = '';
		this.rtt = null;
		this.lastSeen = 0;
		this.lastHello = 0;
		this.lastKa = 0;
		this.lastPing = 0;
		this.kaOut = 0;
		this.rx = 0;
		this.tx = 0;
		this.drops = {};
		this.replay = new Replay();
		this.e2e = null;
		this.queue = [];
		this.pingId = 1;
		this.transport = null;
		if (pk)
			this.setPk(pk);
	}

	setPk(pk) {
		if (this.e2e !== null)
			return;		// a known key is never replaced
		this.pk = pk;
		this.e2e = new E2EPeer(paramsDefault(), this.m.me.id, this.m.me.pk,
		    this.m.me.sk, this.id, pk);
	}

	start() {
		this.transport = this.m.openSession(this.m.pairUrl(this.id), {
			onopen: () => this.setState('waiting', 'in the relay session, ' +
			    'waiting for the member'),
			onframe: (b) => this.frame(b),
			onclose: (why) => this.setState('connecting', why),
		});
	}

	stop() {
		if (this.transport)
			this.transport.close();
		this.transport = null;
	}

	setState(s, reason = '') {
		if (this.state === s && this.reason === reason)
			return;
		this.state = s;
		this.reason = reason;
		this.m.emit('peer', this);
	}

	drop(why) {
		this.drops[why] = (this.drops[why] || 0) + 1;
		this.m.drops++;
	}

	// relayd's frames: garbage is counted, never thrown
	frame(b) {
		switch (kind(b)) {
		case 'control': {
			const c = controlRead(b);
			if (c === null)
				return this.drop('control');
			if ((c.event === EV_WELCOME && c.count > 1) ||
			    c.event === EV_JOINED)
				this.hello();
			else if (c.event === EV_LEFT && this.state === 'relayed')
				this.setState('waiting', 'the member left the relay session');
			return;
		}
		case 'data':
			try {
				this.input(b);
			} catch (e) {
				this.drop(e.code || 'malformed');
			}
			return;
		default:
			return;	// SIGNAL (candidates we cannot use), reserved
		}
	}

	// an authenticated packet that makes the path up on the other side
	hello() {
		this.lastHello = this.m.now();
		this.send(T.KEEPALIVE, new Uint8Array(0));
	}

	input(b) {
		const h = peek(b);
		if (!equal(h.sender, this.id))
			return this.drop('sender');
		const now = this.m.now();
		let pl, hdr;
		if (h.flags & F_SESSION) {
			if (this.e2e === null)
				return this.drop('nokey');
			({ hdr, payload: pl } = this.e2e.decrypt(b, now));
		} else {
			const r = this.replay.check(h.seq);
			if (r !== null)
				return this.drop(r);
			({ hdr, payload: pl } = decode(b, this.m.meshKey));
			if (hdr.type === T.DATA && this.e2e !== null)
				return this.drop('downgrade');
			this.replay.update(h.seq);
		}
		this.rx++;
		this.lastSeen = now;
		if (this.state !== 'relayed') {
			this.setState('relayed', 'browser: no UDP');
			this.up(now);
		}
		this.dispatch(hdr, pl, now);
	}

	up(now) {
		this.lastKa = 0;
		this.lastPing = 0;
		if (this.e2e !== null && !this.e2e.ready() && !this.e2e.busy())
			this.e2eStart(now);
	}

	dispatch(h, pl, now) {
		switch (h.type) {
		case T.KEEPALIVE:
			this.send(T.KEEPALIVE_ACK, new Uint8Array(0));
			break;
		case T.KEEPALIVE_ACK:
			if (this.kaOut > 0) {
				this.rtt = now - this.kaOut;
				this.kaOut = 0;
				this.m.emit('peer', this);
			}
			break;
		case T.PING:
			pingDecode(pl);
			this.send(T.PONG, pl);
			break;
		case T.PONG: {
			const p = pingDecode(pl);
			const rtt = now - Number(p.ts) / 1e6;
			if (rtt >= 0 && rtt < 3600) {
				this.rtt = rtt;
				this.m.emit('peer', this);
			}
			break;
		}
		case T.DATA:
			this.m.emit('data', { peer: this, data: pl });
			break;
		case T.ANNOUNCE:
			this.m.announceInput(this, pl);
			break;
		case T.E2E_INIT:
		case T.E2E_RESP:
			this.e2eInput(h.type, pl, now);
			break;
		}
	}

	e2eStart(now) {
		try {
			this.send(T.E2E_INIT, this.e2e.start(now), true);
		} catch (e) {
			this.drop('e2e_' + (e.code || 'error'));
		}
	}

	e2eInput(type, pl, now) {
		if (this.e2e === null)
			return this.drop('nopk');
		let r;
		try {
			r = this.e2e.input(type, pl, now, false);
		} catch (e) {
			return this.drop('e2e_' + (e.code || 'error'));
		}
		if (r.flags & OUT_REPLY)
			this.send(r.outType, r.out, true);
		if (r.flags & OUT_CONFIRM)
			this.confirmPing();
		this.flush();
		this.m.emit('peer', this);
	}

	// the initiator's first packet under a new key: a PING with id 0
	confirmPing() {
		this.send(T.PING, pingEncode(0, BigInt(Math.floor(this.m.now() * 1e6))));
	}

	// DATA, PING and PONG under the session key when there is one; the
	// rest (and those, before a session or without node keys) under the
	// mesh key. meshOnly: handshake packets.
	send(type, payload, meshOnly = false) {
		if (this.transport === null)
			return false;
		let b;
		if (!meshOnly && this.e2e !== null && this.e2e.ready() &&
		    (type === T.DATA || type === T.PING || type === T.PONG))
			b = this.e2e.encrypt({ type, sender: this.m.me.id }, payload);
		else
			b = encode({ type, flags: 0, keyId: 0, sender: this.m.me.id,
			    seq: this.m.nextSeq() }, payload, this.m.meshKey);
		if (!this.transport.send(b))
			return false;
		this.tx++;
		return true;
	}

	sendData(data) {
		if (this.e2e === null)
			return this.send(T.DATA, data);
		if (this.e2e.ready())
			return this.send(T.DATA, data);
		if (this.queue.length >= QUEUE_MAX)
			return false;
		this.queue.push(data);
		if (!this.e2e.busy() && this.state === 'relayed')
			this.e2eStart(this.m.now());
		return true;
	}

	flush() {
		while (this.queue.length > 0 && this.e2e.ready())
			this.send(T.DATA, this.queue.shift());
	}

	ping() {
		return this.send(T.PING, pingEncode(this.pingId++ & 0x7fffffff,
		    BigInt(Math.floor(this.m.now() * 1e6))));
	}

	tick(now) {
		if (this.e2e !== null) {
			const f = this.e2e.tick(now);
			if (this.state === 'relayed' && (f & (TICK_REKEY | TICK_RETX)))
				this.e2eStart(now);
			if (f & TICK_CONFIRM)
				this.confirmPing();
		}
		if ((this.state === 'waiting' || this.state === 'lost') &&
		    now - this.lastHello >= HELLO_RETRY)
			this.hello();
		if (this.state !== 'relayed')
			return;
		if (now - this.lastSeen > DEAD_AFTER) {
			this.setState('lost', `nothing heard for ${DEAD_AFTER} s`);
			return;
		}
		if (now - this.lastKa >= KA_INTERVAL) {
			this.lastKa = now;
			this.kaOut = now;
			this.send(T.KEEPALIVE, new Uint8Array(0));
		}
		if (now - this.lastPing >= PING_INTERVAL) {
			this.lastPing = now;
			this.ping();
		}
	}

	info() {
		return {
			id: this.idHex, name: this.name, state: this.state,
			reason: this.reason, path: this.state === 'relayed' ? 'relay' : '-',
			rtt_ms: this.rtt === null ? null : Math.round(this.rtt * 1e4) / 10,
			e2e: this.e2e === null ? 'mesh-key' : this.e2e.ready() ? 'session' :
			    this.e2e.busy() ? 'handshake' : 'none',
			rx: this.rx, tx: this.tx, pk: this.pk ? hex(this.pk) : null,
		};
	}
}
