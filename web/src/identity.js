// What a member keeps across reloads (localStorage in a browser): its node
// id and Ed25519 key, the mesh (id, name, secret, relay), the relay token
// the person gave, and the members it knows. The key and the mesh secret
// are secrets: this is the browser's equivalent of node.key and mesh
// (mode 0600) on a C node. Wiped by forget().
import { S } from './sodium.js';
import { hex, unhex } from './bytes.js';

const KEY = 'atmosphere.member.v1';

export function identityNew() {
	const kp = S.crypto_sign_keypair();
	return { id: S.randombytes_buf(8), pk: kp.publicKey, sk: kp.privateKey,
	    mesh: null, token: '', members: {} };
}

export function identityLoad(storage) {
	let j;
	try {
		j = JSON.parse(storage.getItem(KEY));
	} catch (e) {
		return null;
	}
	if (j === null || typeof j !== 'object')
		return null;
	try {
		const me = { id: unhex(j.id), pk: unhex(j.pk), sk: unhex(j.sk),
		    mesh: null, token: typeof j.token === 'string' ? j.token : '',
		    members: {} };
		if (me.id.length !== 8 || me.pk.length !== 32 || me.sk.length !== 64)
			return null;
		if (j.mesh) {
			me.mesh = { id: unhex(j.mesh.id), name: String(j.mesh.name),
			    secret: unhex(j.mesh.secret), relay: String(j.mesh.relay) };
			if (me.mesh.secret.length !== 32)
				return null;
		}
		for (const [id, m] of Object.entries(j.members || {}))
			if (/^[0-9a-f]{16}$/.test(id) && /^[0-9a-f]{64}$/.test(m.pk))
				me.members[id] = { pk: unhex(m.pk), name: String(m.name || '') };
		return me;
	} catch (e) {
		return null;	// a damaged entry: start again
	}
}

export function identitySave(storage, me) {
	const members = {};
	for (const [id, m] of Object.entries(me.members))
		members[id] = { pk: hex(m.pk), name: m.name };
	storage.setItem(KEY, JSON.stringify({
		id: hex(me.id), pk: hex(me.pk), sk: hex(me.sk), token: me.token,
		mesh: me.mesh && { id: hex(me.mesh.id), name: me.mesh.name,
		    secret: hex(me.mesh.secret), relay: me.mesh.relay },
		members,
	}));
}

export function identityForget(storage) {
	storage.removeItem(KEY);
}
