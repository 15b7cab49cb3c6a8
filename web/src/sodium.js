// libsodium (npm libsodium-wrappers, bundled: no CDN at run time). Every
// module takes `S` from here after `sodiumReady()` resolved.
import sodium from 'libsodium-wrappers';

export let S = null;

export async function sodiumReady() {
	if (S === null) {
		await sodium.ready;
		S = sodium;
	}
	return S;
}
