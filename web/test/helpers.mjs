// Where the C vectors tool is: $VECTORS, else $BUILD/tests/tools/vectors
// (BUILD relative to the repository root, default build).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function vectorsTool() {
	if (process.env.VECTORS)
		return process.env.VECTORS;
	return resolve(root, process.env.BUILD || 'build', 'tests/tools/vectors');
}

export function haveTool() {
	return existsSync(vectorsTool());
}

export function loadVectors() {
	return JSON.parse(execFileSync(vectorsTool(), { encoding: 'utf8' }));
}

// The C peer of `vectors serve`: write a line, get the lines up to ".".
export class CPeer {
	constructor() {
		this.proc = spawn(vectorsTool(), ['serve'], { stdio: ['pipe', 'pipe', 'inherit'] });
		this.rl = createInterface({ input: this.proc.stdout });
		this.waiting = [];
		this.buf = [];
		this.rl.on('line', (l) => {
			if (l !== '.') {
				this.buf.push(l);
				return;
			}
			const w = this.waiting.shift();
			const lines = this.buf;
			this.buf = [];
			if (w)
				w(lines);
		});
	}

	call(line) {
		return new Promise((res) => {
			this.waiting.push(res);
			this.proc.stdin.write(line + '\n');
		});
	}

	close() {
		this.proc.stdin.end();
		return new Promise((res) => this.proc.on('close', res));
	}
}
