#!/usr/bin/env node
// Runs one TypeScript script (benchmarks, tools) through tsx's loader: `node bin/run-ts.js path/to/script.ts args…`.
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

const [script, ...rest] = process.argv.slice(2);
if (!script) {
  console.error('usage: node bin/run-ts.js <script.ts> [args…]');
  process.exit(2);
}
process.argv = [process.argv[0] ?? 'node', resolve(script), ...rest];
register();
await import(pathToFileURL(resolve(script)).href);
