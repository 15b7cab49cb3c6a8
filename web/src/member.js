// A relay-only member of an Atmosphere mesh (docs/browser-member.md): joins
// with an invite through the invite's relay session, then meets every
// member it knows in their pair's relay session. No UDP: the local and
// public endpoints of an invite cannot be used from a browser.
//
// I/O is injected (openSession, storage, now) so that node's tests run
// the same code against the C peer of tests/tools/vectors.
import { S, sodiumReady } from './sodium.js';
import { hex, equal } from './bytes.js';
import { T, encode, decode, keyDerive, seqStart } from './packet.js';
import { inviteParse } from './invite_uri.js';
import { addrStr } from './invite_addr.js';
import { joinKey, joinTxid, joinSession, pairSession, helloEncode,
    welcomeDecode, welcomeOpen, refuseDecode, reasonStr, announceDecode,
    HELLO_F_RELAY_ONLY } from './join.js';
import { identityNew, identityLoad, identitySave, identityForget }
    from './identity.js';
import { Transport, sessionUrl, kind } from './relay.js';
import { Peer } from './peer.js';

export const JOIN_RESEND = 0.25;	// s between HELLOs, as punchd
export const JOIN_TIMEOUT = 10;		// s, meshctl's relay path default

export class JoinError extends Error {
	constructor(code, message) {
		super(message);
		this.code = code;	// refused timeout relay nopath signature
	}
}

export class Member {
	constructor({ storage, openSession, onEvent, now } = {}) {
		this.storage = storage;
		this.openSession = openSession ||
		    ((url, h) => new Transport(url, h));
		this.onEvent = onEvent || (() => {});
		this.now = now || (() => Date.now() / 1000);
		this.me = null;
		this.peers = new Map();
		this.meshKey = null;
		this.seq = 0n;
		this.drops = 0;
		this.timer = null;
		this.joining = null;
	}

	async init() {
		await sodiumReady();
		this.me = identityLoad(this.storage);
		if (this.me === null) {
			this.me = identityNew();
			identitySave(this.storage, this.me);
		}
		this.seq = seqStart(this.now());
		if (this.me.mesh)
			this.meshKey = keyDerive(this.me.mesh.secret, 0);
		return this;
	}

	emit(type, detail) {
		try {
			this.onEvent(type, detail);
		} catch (e) {
			// a broken listener must not break the protocol
		}
	}

	nextSeq() {
		return this.seq++;
	}

	get idHex() {
		return hex(this.me.id);
	}

	pairUrl(peerId) {
		return sessionUrl(this.me.mesh.relay, pairSession(this.meshKey,
		    this.me.id, peerId), this.me.token);
	}

	// Back in the mesh after a reload: every known member's pair session.
	start() {
		if (!this.me.mesh)
			return false;
		for (const [id, m] of Object.entries(this.me.members))
			this.peerFor(id, m.pk, m.name);
		if (this.timer === null)
			this.timer = setInterval(() => this.tick(), 1000);
		return true;
	}

	stop() {
		if (this.joining)
			this.joining.abort('stopped');
		this.stopPeers();
	}

	stopPeers() {
		if (this.timer !== null)
			clearInterval(this.timer);
		this.timer = null;
		for (const p of this.peers.values())
			p.stop();
		this.peers.clear();
	}

	forget() {
		this.stop();
		identityForget(this.storage);
		this.me = identityNew();
		identitySave(this.storage, this.me);
		this.meshKey = null;
	}

	peerFor(idHex, pk, name) {
		let p = this.peers.get(idHex);
		if (p === undefined) {
			p = new Peer(this, idHex, pk, name);
			this.peers.set(idHex, p);
			p.start();
			this.emit('peer', p);
		}
		return p;
	}

	tick() {
		const now = this.now();
		for (const p of this.peers.values())
			p.tick(now);
	}

	// Join with a code or URI. Paths are reported through 'path' events;
	// resolves { mesh, inviter, welcomeMs } or rejects with an InviteError
	// (the code itself) or a JoinError.
	join(text, { name = 'browser', token = null, timeout = JOIN_TIMEOUT } = {}) {
		const inv = inviteParse(text, BigInt(Math.floor(this.now())));
		if (equal(inv.inviter_id, this.me.id))
			throw new JoinError('self', 'this invite was made by this node');
		for (const path of ['local', 'public'])
			this.emit('path', { path, via: addrStr(inv['ep_' + path], 'udp://') || null,
			    result: 'not available in a browser (no UDP)' });
		if (!inv.ep_relay) {
			this.emit('path', { path: 'relay', via: null, result: 'none in the invite' });
			throw new JoinError('nopath', 'the invite has no relay: a browser ' +
			    'can only join through a relay (ask for an invite made with ' +
			    'a relay_url)');
		}
		if (token !== null)
			this.me.token = token;
		return new Promise((resolve, reject) => this.joinRelay(inv, name,
		    timeout, resolve, reject));
	}

	joinRelay(inv, name, timeout, resolve, reject) {
		const key = joinKey(inv.secret), txid = joinTxid(inv.secret, this.me.id);
		const started = this.now();
		const url = sessionUrl(inv.ep_relay, joinSession(inv.secret), this.me.token);
		let tr = null, resend = null, deadline = null, done = false, heard = false;
		const finish = (err, res) => {
			if (done)
				return;
			done = true;
			clearInterval(resend);
			clearTimeout(deadline);
			if (tr)
				tr.close();
			this.joining = null;
			S.memzero(key);
			if (err) {
				this.emit('path', { path: 'relay', via: inv.ep_relay,
				    result: err.message });
				reject(err);
			} else
				resolve(res);
		};
		this.joining = { abort: (why) => finish(new JoinError('aborted', why)) };
		const hello = () => {
			if (!tr || !tr.connected)
				return;
			tr.send(encode({ type: T.JOIN_HELLO, flags: 0, keyId: 0,
			    sender: this.me.id, seq: this.nextSeq() },
			    helloEncode(txid, this.me.id, this.me.pk, this.me.sk, name,
			    HELLO_F_RELAY_ONLY), key));
		};
		const frame = (b) => {
			if (done || kind(b) !== 'data')
				return;
			let r;
			try {
				r = decode(b, key);
			} catch (e) {
				this.drops++;
				return;
			}
			if (!equal(r.hdr.sender, inv.inviter_id))
				return void this.drops++;
			try {
				if (r.hdr.type === T.JOIN_WELCOME)
					this.welcome(inv, txid, r.payload, started, finish);
				else if (r.hdr.type === T.JOIN_REFUSE) {
					const rf = refuseDecode(r.payload);
					if (equal(rf.txid, txid))
						finish(new JoinError('refused', 'the inviter refused: ' +
						    reasonStr(rf.reason)));
				}
			} catch (e) {
				this.drops++;	// malformed: keep waiting
			}
		};
		this.emit('path', { path: 'relay', via: inv.ep_relay, result: 'connecting' });
		tr = this.openSession(url, {
			onopen: () => {
				heard = true;
				this.emit('path', { path: 'relay', via: inv.ep_relay,
				    result: 'connected, waiting for the inviter' });
				hello();
			},
			onframe: frame,
			onclose: (why) => this.emit('path', { path: 'relay',
			    via: inv.ep_relay, result: why }),
		});
		resend = setInterval(hello, JOIN_RESEND * 1000);
		deadline = setTimeout(() => finish(heard ?
		    new JoinError('timeout', `no answer from ${inv.ep_relay} within ` +
		    `${timeout * 1000} ms: is the inviter's punchd running, and was ` +
		    'the invite made with this relay?') :
		    new JoinError('relay', `cannot reach the relay ${inv.ep_relay} ` +
		    '(down, refused, or a relay token is required)')), timeout * 1000);
	}

	welcome(inv, txid, pl, started, finish) {
		const w = welcomeDecode(pl);
		if (!equal(w.txid, txid) || !equal(w.meshId, inv.mesh_id))
			throw new Error('not ours');
		let secret;
		try {
			secret = welcomeOpen(w, this.me.id, this.me.pk, this.me.sk,
			    inv.inviter_pk);
		} catch (e) {
			throw new Error(e.message);	// not the inviter: ignored
		}
		this.stopPeers();	// the mesh we were in, if any
		const name = w.meshName || inv.mesh_name;
		this.me.mesh = { id: inv.mesh_id, name, secret, relay: inv.ep_relay };
		this.me.members = {};
		this.me.members[hex(inv.inviter_id)] = { pk: inv.inviter_pk, name: '' };
		identitySave(this.storage, this.me);
		this.meshKey = keyDerive(secret, 0);
		const ms = Math.round((this.now() - started) * 1000);
		this.emit('path', { path: 'relay', via: inv.ep_relay,
		    result: `connected (welcome in ${ms} ms)` });
		finish(null, { mesh: name, meshId: hex(inv.mesh_id),
		    inviter: hex(inv.inviter_id), welcomeMs: ms });
		this.start();
	}

	// ANNOUNCE: a member the sender knows; meet it in our pair session
	announceInput(from, pl) {
		const a = announceDecode(pl);
		const id = hex(a.id);
		if (id === this.idHex)
			return;
		const known = this.me.members[id];
		if (!known || known.pk.every((x) => x === 0)) {
			this.me.members[id] = { pk: a.pk, name: a.name };
			identitySave(this.storage, this.me);
		}
		const p = this.peerFor(id, a.pk.every((x) => x === 0) ? null : a.pk,
		    a.name);
		if (p.e2e === null && !a.pk.every((x) => x === 0))
			p.setPk(a.pk);
		if (a.name && !p.name)
			p.name = a.name;
	}

	send(idHex, data) {
		const p = this.peers.get(idHex);
		return p !== undefined && p.sendData(data);
	}

	ping(idHex) {
		const p = this.peers.get(idHex);
		return p !== undefined && p.ping();
	}

	status() {
		return {
			id: this.idHex, pk: hex(this.me.pk),
			mesh: this.me.mesh && { name: this.me.mesh.name,
			    id: hex(this.me.mesh.id), relay: this.me.mesh.relay },
			peers: [...this.peers.values()].map((p) => p.info()),
			drops: this.drops,
		};
	}
}

