// Build the served directory dist/: the static files and the join page's
// bundle (esbuild: libsodium-wrappers inside, nothing fetched at run time).
import { build } from 'esbuild';
import { cpSync, mkdirSync, rmSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
mkdirSync('dist');
cpSync('static', 'dist', { recursive: true });
await build({
	entryPoints: ['src/main.js'],
	bundle: true,
	format: 'esm',
	target: ['es2020'],
	minify: true,
	outfile: 'dist/app.js',
	legalComments: 'eof',
	logLevel: 'warning',
});
