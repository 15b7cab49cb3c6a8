// A small DevTools-protocol driver for headless Chromium (the Debian
// chromium package), without puppeteer: start the browser, open a page,
// evaluate, take screenshots. Needs node's WebSocket (node >= 22, or node
// 20 with --experimental-websocket).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export class Browser {
	static async launch() {
		const b = new Browser();
		b.dir = mkdtempSync(join(tmpdir(), 'atm-chromium-'));
		b.proc = spawn(CHROMIUM, ['--headless', '--no-sandbox', '--disable-gpu',
		    '--disable-quic', '--no-first-run', '--disable-background-networking',
		    '--disable-component-update', '--disable-sync',
		    '--disable-dev-shm-usage', `--user-data-dir=${b.dir}`,
		    '--remote-debugging-port=0', 'about:blank'],
		    // its own process group: close() ends the helpers with it
		    // (the crashpad handler, zygotes), which write in the profile
		    { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
		const url = await new Promise((res, rej) => {
			let err = '';
			const t = setTimeout(() => rej(new Error('chromium did not start: ' + err)), 30000);
			b.proc.stderr.on('data', (d) => {
				err += d;
				const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
				if (m) {
					clearTimeout(t);
					res(m[1]);
				}
			});
			b.proc.on('exit', (c) => rej(new Error(`chromium exited ${c}: ${err}`)));
		});
		b.port = new URL(url).port;
		return b;
	}

	async newPage() {
		const r = await fetch(`http://127.0.0.1:${this.port}/json/new?about:blank`,
		    { method: 'PUT' });
		const t = await r.json();
		const p = new Page(t.webSocketDebuggerUrl);
		await p.open();
		return p;
	}

	killGroup(sig) {
		try {
			process.kill(-this.proc.pid, sig);
		} catch {
			// the group is gone already
		}
	}

	async close() {
		if (this.proc.exitCode === null && this.proc.signalCode === null) {
			await new Promise((r) => {
				const t = setTimeout(() => { this.killGroup('SIGKILL'); r(); }, 5000);
				this.proc.once('exit', () => { clearTimeout(t); r(); });
				this.killGroup('SIGTERM');
			});
		}
		this.killGroup('SIGKILL');
		// a helper that was still writing may leave a file behind the
		// directory walk (ENOTEMPTY): rmSync retries those
		rmSync(this.dir, { recursive: true, force: true, maxRetries: 20,
		    retryDelay: 50 });
	}
}

export class Page {
	constructor(url) {
		this.url = url;
		this.id = 0;
		this.pending = new Map();
		this.events = [];
		this.console = [];
	}

	open() {
		this.ws = new WebSocket(this.url);
		this.ws.onmessage = (ev) => {
			const m = JSON.parse(ev.data);
			if (m.id && this.pending.has(m.id)) {
				const { res, rej } = this.pending.get(m.id);
				this.pending.delete(m.id);
				m.error ? rej(new Error(m.error.message)) : res(m.result);
			} else if (m.method) {
				this.events.push(m);
				if (m.method === 'Runtime.consoleAPICalled')
					this.console.push(m.params.type + ': ' +
					    m.params.args.map((a) => a.value ?? a.description).join(' '));
				if (m.method === 'Runtime.exceptionThrown')
					this.console.push('exception: ' +
					    m.params.exceptionDetails.exception?.description);
			}
		};
		return new Promise((res, rej) => {
			this.ws.onopen = async () => {
				await this.send('Page.enable');
				await this.send('Runtime.enable');
				res();
			};
			this.ws.onerror = () => rej(new Error('DevTools connection failed'));
		});
	}

	send(method, params = {}) {
		const id = ++this.id;
		this.ws.send(JSON.stringify({ id, method, params }));
		return new Promise((res, rej) => this.pending.set(id, { res, rej }));
	}

	async goto(url) {
		this.events = [];
		await this.send('Page.navigate', { url });
		await this.waitFor(() => document.readyState === 'complete', 15000);
	}

	async eval(fn, ...args) {
		const r = await this.send('Runtime.evaluate', {
			expression: `(${fn})(...${JSON.stringify(args)})`,
			awaitPromise: true, returnByValue: true,
		});
		if (r.exceptionDetails)
			throw new Error(r.exceptionDetails.exception?.description ||
			    r.exceptionDetails.text);
		return r.result.value;
	}

	async waitFor(fn, ms = 10000, ...args) {
		const end = Date.now() + ms;
		for (;;) {
			try {
				const v = await this.eval(fn, ...args);
				if (v)
					return v;
			} catch (e) {
				// the page is navigating
			}
			if (Date.now() > end)
				throw new Error(`timed out waiting for ${fn}`);
			await new Promise((r) => setTimeout(r, 100));
		}
	}

	async viewport(width, height) {
		await this.send('Emulation.setDeviceMetricsOverride', { width, height,
		    deviceScaleFactor: 1, mobile: width < 600 });
	}

	async screenshot() {
		const r = await this.send('Page.captureScreenshot', { format: 'png',
		    captureBeyondViewport: true });
		return Buffer.from(r.data, 'base64');
	}
}
