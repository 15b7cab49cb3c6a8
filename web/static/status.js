// The relay status page: /health for a person. Every value is put in with
// textContent: whatever the relay answers, nothing is read as HTML.
const list = document.getElementById('st-list');
const msg = document.getElementById('st-msg');

function duration(s) {
	s = Math.floor(s);
	const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24;
	const m = Math.floor(s / 60) % 60;
	return (d ? `${d} d ` : '') + (d || h ? `${h} h ` : '') + `${m} min ${s % 60} s`;
}

function bytes(n) {
	const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
	let i = 0;
	while (n >= 1024 && i < u.length - 1) {
		n /= 1024;
		i++;
	}
	return `${i ? n.toFixed(1) : n} ${u[i]}`;
}

const rows = [
	['status', 'Status', (v) => v === 'ok' ? 'running' : String(v)],
	['version', 'Version', String],
	['uptime_s', 'Up for', duration],
	['sessions', 'Sessions', String],
	['clients', 'Clients (WebSocket)', String],
	['connections', 'TCP connections', String],
	['frames_relayed', 'Frames relayed', String],
	['bytes_relayed', 'Data relayed', bytes],
	['tls', 'TLS (wss://)', (v) => v ? 'yes' : 'no'],
	['open', 'Access', (v) => v ? 'open: no token needed' : 'a token is required'],
	['ratelimited_groups', 'Rate-limited address groups', String],
];

function show(h) {
	const items = [];
	for (const [k, label, f] of rows)
		if (k in h)
			items.push([label, f(h[k])]);
	// limits, when the relay reports them
	if (h.limits && typeof h.limits === 'object')
		for (const [k, v] of Object.entries(h.limits))
			if (typeof v === 'number' || typeof v === 'string')
				items.push([`Limit: ${k.replace(/_/g, ' ')}`, String(v)]);
	list.replaceChildren(...items.flatMap(([a, b]) => {
		const dt = document.createElement('dt');
		const dd = document.createElement('dd');
		dt.textContent = a;
		dd.textContent = b;
		return [dt, dd];
	}));
}

async function refresh() {
	try {
		const r = await fetch('health', { cache: 'no-store' });
		if (!r.ok)
			throw new Error(`HTTP ${r.status}`);
		const h = await r.json();
		if (h === null || typeof h !== 'object')
			throw new Error('not a JSON object');
		show(h);
		msg.className = 'msg';
		msg.textContent = '';
	} catch (e) {
		msg.className = 'msg error';
		msg.textContent = `Cannot read the relay's status: ${e.message}`;
	}
}

refresh();
setInterval(refresh, 5000);
