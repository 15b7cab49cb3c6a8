// The "Join a mesh" page. Everything shown comes from the member (member.js)
// through textContent: nothing a relay or a peer sends is read as HTML.
import { Member, JoinError } from './member.js';
import { InviteError } from './invite.js';

const $ = (id) => document.getElementById(id);
const MAX_RX = 200;
let member = null;
const paths = new Map();

function message(el, kind, text) {
	el.className = text ? `msg ${kind}` : 'msg';
	el.textContent = text ? text[0].toUpperCase() + text.slice(1) : '';
}

function cell(tr, text, cls) {
	const td = document.createElement('td');
	td.textContent = text;
	if (cls)
		td.className = cls;
	tr.appendChild(td);
}

function renderPaths() {
	$('paths').hidden = paths.size === 0;
	$('paths-body').replaceChildren(...[...paths.values()].map((p) => {
		const tr = document.createElement('tr');
		cell(tr, p.path);
		cell(tr, p.via || '-', 'mono');
		cell(tr, p.result);
		return tr;
	}));
}

function renderMesh() {
	const st = member.status();
	$('mesh').hidden = $('talk').hidden = st.mesh === null;
	if (st.mesh === null)
		return;
	$('mesh-name').textContent = `${st.mesh.name} (id ${st.mesh.id})`;
	$('mesh-relay').textContent = st.mesh.relay;
	$('mesh-self').textContent = `${st.id} (relay only: no UDP in a browser)`;
	$('members-body').replaceChildren(...st.peers.map((p) => {
		const tr = document.createElement('tr');
		cell(tr, p.name ? `${p.name} (${p.id})` : p.id, 'mono');
		cell(tr, p.state + (p.reason && p.state !== 'relayed' ? `: ${p.reason}` : ''),
		    `state-${p.state}`);
		cell(tr, p.path);
		cell(tr, p.rtt_ms === null ? '-' : `${p.rtt_ms} ms`);
		cell(tr, p.e2e, 'wide');
		return tr;
	}));
	const sel = $('to'), keep = sel.value;
	sel.replaceChildren(...st.peers.map((p) => {
		const o = document.createElement('option');
		o.value = p.id;
		o.textContent = p.name ? `${p.name} (${p.id})` : p.id;
		return o;
	}));
	if (st.peers.some((p) => p.id === keep))
		sel.value = keep;
}

function received({ peer, data }) {
	const li = document.createElement('li');
	let text;
	try {
		text = new TextDecoder('utf-8', { fatal: true }).decode(data);
	} catch (e) {
		text = `${data.length} bytes (not text)`;
	}
	li.textContent = `${new Date().toLocaleTimeString()} from ${peer.name || peer.idHex}: ${text}`;
	const rx = $('rx');
	rx.appendChild(li);
	while (rx.children.length > MAX_RX)
		rx.firstChild.remove();
}

function onEvent(type, d) {
	if (type === 'path') {
		paths.set(d.path, d);
		renderPaths();
	} else if (type === 'data')
		received(d);
	else if (type === 'peer')
		renderMesh();
}

// what a person should read for each failure
function explain(e) {
	if (e instanceof InviteError) {
		if (e.code === 'expired')
			return `This invite has expired. ${e.message}.`;
		if (e.code === 'checksum' || e.code === 'char' || e.code === 'truncated')
			return `This code is not right: ${e.message}.`;
		return e.message;
	}
	if (e instanceof JoinError && e.code === 'refused')
		return /used/.test(e.message) ? 'This invite has already been used: ask for a new one.' :
		    /expired/.test(e.message) ? 'The inviter says this invite has expired: ask for a new one.' :
		    e.message;
	return e.message || String(e);
}

async function join(ev) {
	ev.preventDefault();
	const btn = $('join-btn');
	btn.disabled = true;
	paths.clear();
	renderPaths();
	message($('join-msg'), 'info', 'Joining…');
	try {
		const tok = $('token').value.trim();
		const r = await member.join($('code').value, { name: $('name').value.trim() ||
		    'browser', token: tok === '' ? null : tok });
		message($('join-msg'), 'info', `Joined mesh ${r.mesh} through the relay ` +
		    `(welcome in ${r.welcomeMs} ms).`);
		$('code').value = '';
		renderMesh();
	} catch (e) {
		message($('join-msg'), 'error', explain(e));
	} finally {
		btn.disabled = false;
	}
}

async function scan() {
	const video = $('video');
	let stream;
	try {
		stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
	} catch (e) {
		message($('join-msg'), 'error', `No camera: ${e.message}. Paste the code instead.`);
		return;
	}
	const det = new globalThis.BarcodeDetector({ formats: ['qr_code'] });
	$('scanner').hidden = false;
	video.srcObject = stream;
	await video.play();
	let stop = false;
	const end = () => {
		stop = true;
		stream.getTracks().forEach((t) => t.stop());
		$('scanner').hidden = true;
	};
	$('scan-stop').onclick = end;
	while (!stop) {
		try {
			const found = await det.detect(video);
			const qr = found.find((b) => /^(ATM-|atmosphere:)/i.test(b.rawValue));
			if (qr) {
				$('code').value = qr.rawValue;
				end();
				message($('join-msg'), 'info', 'Code read from the QR code: press Join.');
				break;
			}
		} catch (e) {
			// a frame the detector could not read
		}
		await new Promise((r) => setTimeout(r, 250));
	}
}

async function main() {
	member = await new Member({ storage: globalThis.localStorage, onEvent }).init();
	$('loading').hidden = true;
	$('join').hidden = false;
	$('join-form').addEventListener('submit', join);
	if ('BarcodeDetector' in globalThis && navigator.mediaDevices) {
		$('scan').hidden = false;
		$('scan').addEventListener('click', scan);
	}
	$('send-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		const ok = member.send($('to').value, new TextEncoder().encode($('text').value));
		message($('mesh-msg'), ok ? 'info' : 'error', ok ? 'Sent.' :
		    'Not sent: no path to that member yet.');
		if (ok)
			$('text').value = '';
	});
	$('ping-btn').addEventListener('click', () => {
		const ok = member.ping($('to').value);
		message($('mesh-msg'), ok ? 'info' : 'error', ok ? 'Ping sent; RTT shows in the table.' :
		    'No path to that member yet.');
	});
	$('leave').addEventListener('click', () => {
		member.forget();
		paths.clear();
		renderPaths();
		renderMesh();
		message($('join-msg'), 'info', 'Left the mesh; this browser has a new key.');
	});
	$('token').value = member.me.token;	// kept with the identity
	// a code in the fragment (never sent to a server): join.html#ATM-...
	const frag = decodeURIComponent(location.hash.slice(1));
	if (/^(ATM-|atmosphere:)/i.test(frag))
		$('code').value = frag;
	if (member.start())
		message($('mesh-msg'), 'info', 'Back in the mesh with the identity kept in this browser.');
	renderMesh();
	setInterval(renderMesh, 2000);
}

main().catch((e) => {
	$('loading').className = 'msg error';
	$('loading').textContent = `This page cannot start: ${e.message}`;
});
