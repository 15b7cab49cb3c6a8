// End-to-end session keys (proto/e2e.c, docs/e2e.md), the same state
// machine: a signed ephemeral X25519 exchange in E2E_INIT / E2E_RESP under
// the mesh key, one key per direction, key confirmation (the responder
// sends under a new key only after the initiator used it), key ids split
// by node id (the smaller id picks odd ones), a grace period for the
// previous key. No I/O: the caller passes `now` (seconds) and sends.
import { S } from './sodium.js';
import { concat, utf8, get64, put64, compare, equal } from './bytes.js';
import { encode, decode, peek, Replay, F_SESSION, PacketError } from './packet.js';
import { T } from './packet.js';

export const MSG_LEN = 138;
export const OUT_REPLY = 1, OUT_NEWKEY = 2, OUT_CONFIRM = 4;
export const TICK_REKEY = 1, TICK_RETX = 2, TICK_CONFIRM = 4;
const SEQ_LIMIT = 1n << 60n;

export function paramsDefault() {
	return { rekeyInterval: 120, rekeyPackets: 1n << 30n, grace: 10, retx: 1,
	    maxTries: 10 };
}

function sigMsg(lbl, a, b, id, k1, k2, ts) {
	return concat(utf8(lbl), a, b, Uint8Array.of(id), k1, k2, ts);
}

// okm = BLAKE2b-512(key = X25519(eph_sk, their), label || e_i || e_r || id_i || id_r || key id)
export function derive(ephSk, theirEph, eI, eR, idI, idR, keyId) {
	let dh;
	try {
		dh = S.crypto_scalarmult(ephSk, theirEph);
	} catch (e) {
		throw new E2EError('dh');
	}
	if (dh.every((x) => x === 0))
		throw new E2EError('dh');
	const okm = S.crypto_generichash(64, concat(utf8('atm-e2e-keys-v1'), eI, eR,
	    idI, idR, Uint8Array.of(keyId)), dh);
	S.memzero(dh);
	return { iToR: okm.slice(0, 32), rToI: okm.slice(32, 64) };
}

export class E2EError extends Error {
	constructor(code) {
		super(code);
		this.code = code;	// nokey sig state nopk dh payload
	}
}

function newKey(id, tx, rx, now) {
	return { valid: true, id, tx, rx, txSeq: 1n, replay: new Replay(),
	    created: now, expires: 0 };
}

const NOKEY = { valid: false };

export class E2EPeer {
	// selfSk: Ed25519 secret key (64 bytes); peerPk null when not known
	constructor(par, selfId, selfPk, selfSk, peerId, peerPk = null) {
		this.par = par;
		this.selfId = selfId;
		this.peerId = peerId;
		this.selfPk = selfPk;
		this.selfSk = selfSk;
		this.peerPk = peerPk;
		this.learnedPk = false;
		this.cur = NOKEY;
		this.prev = NOKEY;
		this.next = NOKEY;
		this.confirm = false;
		this.confirmSent = 0;
		this.confirmTries = 0;
		this.pending = false;
		this.eph = null;
		this.pendId = 0;
		this.pendSent = 0;
		this.pendTries = 0;
		this.initMsg = null;
		this.respMsg = null;
		this.lastId = 0;
		this.initTsSent = 0n;
		this.initTsSeen = 0n;
		this.epoch = 0;
		this.handshakesFailed = 0;
		this.rxNokey = this.rxAuth = this.rxReplay = 0;
	}

	ready() {
		return this.cur.valid && this.cur.txSeq < SEQ_LIMIT;
	}

	busy() {
		return this.pending || this.next.valid || this.confirm;
	}

	retire(now) {
		if (this.cur.valid)
			this.prev = { ...this.cur, expires: now + this.par.grace };
		else
			this.prev = NOKEY;
		this.cur = NOKEY;
	}

	install(id, tx, rx, now) {
		if (this.cur.valid && this.cur.id === id)
			this.cur = NOKEY;
		this.retire(now);
		this.next = NOKEY;
		this.cur = newKey(id, tx, rx, now);
		this.lastId = id;
		this.epoch++;
		this.confirm = true;
		this.confirmSent = now;
		this.confirmTries = 1;
	}

	acceptNext(id, tx, rx, now) {
		if (this.cur.valid && this.cur.id === id)
			this.cur = NOKEY;
		if (this.prev.valid && this.prev.id === id)
			this.prev = NOKEY;
		this.next = newKey(id, tx, rx, now);
		this.next.expires = now + (2 * this.par.maxTries + 1) * this.par.retx;
		this.lastId = id;
	}

	promote(now) {
		this.retire(now);
		this.cur = { ...this.next, created: now, expires: 0 };
		this.next = NOKEY;
		this.confirm = false;
		this.epoch++;
	}

	nextId() {
		const odd = compare(this.selfId, this.peerId) < 0 ? 1 : 0;
		const has = (k, id) => k.valid && k.id === id;
		let id = this.lastId;
		do {
			id = (id + 1) & 0xff;
		} while (id === 0 || (id & 1) !== odd || has(this.cur, id) ||
		    has(this.prev, id) || has(this.next, id));
		return id;
	}

	// -> INIT payload (a resend while one is pending)
	start(now) {
		if (this.peerPk === null)
			throw new E2EError('nopk');
		if (!this.pending && (this.next.valid || this.confirm))
			throw new E2EError('state');
		if (!this.pending) {
			this.eph = S.crypto_box_keypair();
			this.pendId = this.nextId();
			this.pending = true;
			this.pendTries = 0;
			let ts = now > 0 ? BigInt(Math.floor(now * 1e6)) : 0n;
			if (ts <= this.initTsSent)
				ts = this.initTsSent + 1n;
			this.initTsSent = ts;
			const m = new Uint8Array(MSG_LEN);
			m[0] = this.pendId;
			m.set(this.eph.publicKey, 2);
			m.set(this.selfPk, 34);
			put64(m, 66, ts);
			m.set(S.crypto_sign_detached(sigMsg('atm-e2e-init-v1',
			    this.selfId, this.peerId, this.pendId, this.eph.publicKey,
			    this.selfPk, m.subarray(66, 74)), this.selfSk), 74);
			this.initMsg = m;
		}
		this.pendSent = now;
		this.pendTries++;
		return this.initMsg.slice();
	}

	pendingWipe() {
		if (this.eph)
			S.memzero(this.eph.privateKey);
		this.eph = null;
		this.pending = false;
		this.pendTries = 0;
	}

	inputInit(pl, now, allowLearn) {
		const id = pl[0], eI = pl.subarray(2, 34), pkI = pl.subarray(34, 66);
		const ts = pl.subarray(66, 74);
		if (id === 0)
			throw new E2EError('payload');
		if (this.peerPk !== null) {
			if (!equal(pkI, this.peerPk))
				throw new E2EError('sig');
		} else if (!allowLearn)
			throw new E2EError('nopk');
		if (!S.crypto_sign_verify_detached(pl.subarray(74, 138),
		    sigMsg('atm-e2e-init-v1', this.peerId, this.selfId, id, eI, pkI, ts),
		    pkI))
			throw new E2EError('sig');
		if (this.peerPk === null) {
			this.peerPk = pkI.slice();
			this.learnedPk = true;
		}
		if (this.respMsg && this.respMsg[0] === id &&
		    equal(this.respMsg.subarray(2, 34), eI) &&
		    equal(this.respMsg.subarray(66, 74), ts))
			return { flags: OUT_REPLY, out: this.respMsg.slice(), outType: T.E2E_RESP };
		const tsv = get64(pl, 66);
		if (tsv <= this.initTsSeen)
			throw new E2EError('state');
		if (this.pending) {
			if (compare(this.selfId, this.peerId) < 0) {
				this.initTsSeen = tsv;
				return { flags: 0 };
			}
			this.pendingWipe();
		}
		const r = S.crypto_box_keypair();
		let k;
		try {
			k = derive(r.privateKey, eI, eI, r.publicKey, this.peerId,
			    this.selfId, id);
		} finally {
			S.memzero(r.privateKey);
		}
		this.acceptNext(id, k.rToI, k.iToR, now);
		this.initTsSeen = tsv;
		const m = new Uint8Array(MSG_LEN);
		m[0] = id;
		m.set(eI, 2);
		m.set(r.publicKey, 34);
		m.set(ts, 66);
		m.set(S.crypto_sign_detached(sigMsg('atm-e2e-resp-v1', this.selfId,
		    this.peerId, id, eI, r.publicKey, ts), this.selfSk), 74);
		this.respMsg = m;
		return { flags: OUT_REPLY, out: m.slice(), outType: T.E2E_RESP };
	}

	inputResp(pl, now) {
		const eI = pl.subarray(2, 34), eR = pl.subarray(34, 66);
		const ts = pl.subarray(66, 74);
		if (!this.pending || pl[0] !== this.pendId ||
		    !equal(eI, this.eph.publicKey))
			throw new E2EError('state');
		if (this.peerPk === null)
			throw new E2EError('nopk');
		if (!equal(ts, this.initMsg.subarray(66, 74)))
			throw new E2EError('state');
		if (!S.crypto_sign_verify_detached(pl.subarray(74, 138),
		    sigMsg('atm-e2e-resp-v1', this.peerId, this.selfId, pl[0], eI, eR,
		    ts), this.peerPk))
			throw new E2EError('sig');
		let k;
		try {
			k = derive(this.eph.privateKey, eR, eI, eR, this.selfId,
			    this.peerId, pl[0]);
		} finally {
			this.pendingWipe();
		}
		this.install(pl[0], k.iToR, k.rToI, now);
		this.respMsg = null;
		return { flags: OUT_NEWKEY | OUT_CONFIRM };
	}

	// an authenticated (mesh key) E2E_INIT or E2E_RESP payload
	input(type, pl, now, allowLearn = true) {
		if (pl.length < MSG_LEN)
			throw new E2EError('payload');
		try {
			if (type === T.E2E_INIT)
				return this.inputInit(pl, now, allowLearn);
			if (type === T.E2E_RESP)
				return this.inputResp(pl, now);
		} catch (e) {
			if (e instanceof E2EError && e.code !== 'state')
				this.handshakesFailed++;
			throw e;
		}
		throw new E2EError('payload');
	}

	// h: { type, sender }; -> the packet under the current session key
	encrypt(h, payload) {
		if (!this.ready())
			throw new E2EError('nokey');
		const out = encode({ type: h.type, flags: (h.flags || 0) | F_SESSION,
		    keyId: this.cur.id, sender: h.sender, seq: this.cur.txSeq },
		    payload, this.cur.tx);
		this.cur.txSeq++;
		return out;
	}

	// a packet with flag SESSION -> { hdr, payload }
	decrypt(buf, now) {
		const h = peek(buf);
		if (!(h.flags & F_SESSION))
			throw new E2EError('nokey');
		const has = (k) => k.valid && k.id === h.keyId;
		let k = null;
		if (has(this.cur))
			k = this.cur;
		else if (has(this.next))
			k = this.next;
		else if (has(this.prev) && (now < this.prev.expires || this.confirm))
			k = this.prev;
		if (k === null) {
			this.rxNokey++;
			throw new E2EError('nokey');
		}
		if (k.replay.check(h.seq) !== null) {
			this.rxReplay++;
			throw new PacketError(k.replay.check(h.seq));
		}
		let r;
		try {
			r = decode(buf, k.rx);
		} catch (e) {
			this.rxAuth++;
			throw e;
		}
		k.replay.update(h.seq);
		if (k === this.next)
			this.promote(now);
		else if (k === this.cur && this.confirm) {
			this.confirm = false;
			if (this.prev.valid && this.prev.expires < now + this.par.grace)
				this.prev.expires = now + this.par.grace;
		}
		return r;
	}

	tick(now) {
		let need = 0;
		if (this.prev.valid && now >= this.prev.expires && !this.confirm)
			this.prev = NOKEY;
		if (this.next.valid && now >= this.next.expires) {
			this.next = NOKEY;
			this.handshakesFailed++;
		}
		if (this.confirm && now - this.confirmSent >= this.par.retx) {
			if (this.confirmTries >= this.par.maxTries) {
				this.confirm = false;
				this.handshakesFailed++;
			} else {
				this.confirmSent = now;
				this.confirmTries++;
				need |= TICK_CONFIRM;
			}
		}
		if (this.pending) {
			if (now - this.pendSent >= this.par.retx) {
				if (this.pendTries >= this.par.maxTries) {
					this.pendingWipe();
					this.handshakesFailed++;
				} else
					need |= TICK_RETX;
			}
			return need;
		}
		if (this.peerPk === null || this.next.valid || this.confirm)
			return need;
		if (!this.cur.valid || now - this.cur.created >= this.par.rekeyInterval ||
		    this.cur.txSeq >= this.par.rekeyPackets || this.cur.txSeq >= SEQ_LIMIT)
			need |= TICK_REKEY;
		return need;
	}
}
