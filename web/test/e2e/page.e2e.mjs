// Headless Chromium loads the pages from a static server (web/dist, as
// relayd's web_root will serve them): the join form is there, labelled and
// readable at phone width, a wrong or expired code gives a clear message,
// the status page shows /health and survives garbage from it. Screenshots
// go to web/test/e2e/out/. Run:
//   cd web && npm run build && node --experimental-websocket --test test/e2e/page.e2e.mjs
// (node >= 22 needs no flag). Skips without chromium, WebSocket or dist/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Browser, CHROMIUM } from './cdp.mjs';
import { a11yCheck } from './a11y.mjs';
import { serveDist } from './static.mjs';
import { haveTool, loadVectors } from '../helpers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const dist = resolve(here, '..', '..', 'dist');
// screenshots: ATM_E2E_OUT (tests/integ/07-browser.sh: its log dir) or out/
const out = process.env.ATM_E2E_OUT || resolve(here, 'out');
const skip = !existsSync(CHROMIUM) ? `no ${CHROMIUM} (apt-get install chromium)` :
    typeof WebSocket === 'undefined' ? 'no WebSocket in node (node >= 22, or --experimental-websocket)' :
    !existsSync(resolve(dist, 'app.js')) ? 'no web/dist (cd web && npm run build)' : false;

test('the pages load in headless Chromium', { skip, timeout: 120000 }, async () => {
	mkdirSync(out, { recursive: true });
	const state = { health: JSON.stringify({ status: 'ok', version: '0.9.0',
	    uptime_s: 93784, sessions: 3, clients: 5, connections: 6,
	    bytes_relayed: 123456789, frames_relayed: 4567, ratelimited_groups: 0,
	    tls: false, open: false, limits: { max_clients: 10000, max_per_session: 2 } }) };
	const srv = await serveDist(dist, { '/health': () => state.health });
	const base = `http://127.0.0.1:${srv.address().port}`;
	const b = await Browser.launch();
	try {
		const p = await b.newPage();
		await p.viewport(390, 844);	// a phone
		await p.goto(`${base}/join.html`);
		await p.waitFor(() => !document.getElementById('join').hidden, 20000);
		const shot = async (name) => writeFileSync(resolve(out, name), await p.screenshot());
		await shot('join-form-phone.png');
		assert.deepEqual(await p.eval(a11yCheck), []);
		assert.equal(await p.eval(() => document.querySelector('label[for=code]').textContent),
		    'Invite code or link');
		assert.ok(await p.eval(() => document.documentElement.scrollWidth <= 390),
		    'no horizontal scrolling at phone width');
		// libsodium runs in the page (the bundle, no CDN): an identity exists
		assert.match(await p.eval(() => localStorage.getItem('atmosphere.member.v1')),
		    /"id":"[0-9a-f]{16}"/);

		const submit = async (code) => {
			await p.eval((c) => {
				document.getElementById('code').value = c;
				document.getElementById('join-btn').click();
			}, code);
			return p.waitFor(() => {
				const m = document.getElementById('join-msg');
				return m.classList.contains('error') && m.textContent;
			}, 15000);
		};
		assert.match(await submit('hello'), /Not an Atmosphere invite code/);
		if (haveTool()) {
			const V = loadVectors();
			const code = V.invites.find((x) => x.what === 'full code').input;
			const typo = V.invites.find((x) => x.what === 'typo').input;
			assert.match(await submit(typo), /typo \(checksum mismatch\)/);
			// invite A expired on 2026-01-01: the clock of this machine says so
			assert.match(await submit(code), /This invite has expired.*2026-01-01 01:00:00 UTC/);
			const minimal = V.invites.find((x) => x.what === 'minimal').input;
			assert.match(await submit(minimal), /The invite has no relay: a browser can only join through a relay/);
			assert.match(await p.eval(() => document.getElementById('paths-body').textContent),
			    /not available in a browser/);
		}
		await shot('join-error-phone.png');
		assert.deepEqual(await p.eval(a11yCheck), []);

		await p.goto(`${base}/`);
		await p.waitFor(() => /Version/.test(document.getElementById('st-list').textContent));
		const st = await p.eval(() => document.getElementById('st-list').textContent);
		assert.match(st, /0\.9\.0/);
		assert.match(st, /1 d 2 h 3 min 4 s/);
		assert.match(st, /117\.7 MiB/);
		assert.match(st, /Limit: max clients10000/);
		await shot('status-phone.png');
		assert.deepEqual(await p.eval(a11yCheck), []);
		state.health = '{"status": <script>alert(1)</script>';
		await p.waitFor(() => /Cannot read the relay/.test(
		    document.getElementById('st-msg').textContent), 15000);
		state.health = JSON.stringify({ status: '<b>x</b>', version: { a: 1 }, sessions: null });
		await p.waitFor(() => /<b>x<\/b>/.test(document.getElementById('st-list').textContent), 15000);
		assert.equal(await p.eval(() => document.querySelectorAll('#st-list b').length), 0);
		await p.viewport(1280, 900);
		await shot('status-desktop.png');
		assert.deepEqual(p.console.filter((l) => /^(error|exception)/.test(l)), []);
	} finally {
		srv.close();	// first: an open server keeps node waiting
		await b.close();
	}
});
