// web/dist over HTTP for the Chromium tests, with the headers relayd/web.c
// sends (the Content-Security-Policy above all: the page must work under
// it), and routes a test adds (/health).
import { createServer } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { resolve, extname } from 'node:path';

// the same string as web_headers() in relayd/web.c
export const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; " +
    "connect-src 'self' ws: wss:; img-src 'self' data: blob:; media-src 'self' blob:; " +
    "style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8',
    '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' };

export function serveDist(dist, routes = {}) {
	const srv = createServer((req, res) => {
		const path = new URL(req.url, 'http://x').pathname;
		if (routes[path]) {
			res.writeHead(200, { 'Content-Type': 'application/json' });
			res.end(routes[path]());
			return;
		}
		const f = resolve(dist, '.' + (path.endsWith('/') ? path + 'index.html' : path));
		if (!f.startsWith(dist + '/') || !existsSync(f) || !TYPES[extname(f)]) {
			res.writeHead(404);
			res.end('not found');
			return;
		}
		res.writeHead(200, { 'Content-Type': TYPES[extname(f)],
		    'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' });
		res.end(readFileSync(f));
	});
	return new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv)));
}
