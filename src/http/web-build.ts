/**
 * The web UI's built files. The UI is built by Vite from `web/` on first start (and again whenever its sources
 * change), into a folder named after a hash of those sources under `node_modules/.cache/`, so every orgadmin process
 * and state folder on the machine shares one build and a fresh clone needs no separate build command.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** What the UI bundle is made of: its own sources and the pure domain code it imports for validation. */
const SOURCES = ['web', 'src/domain'];

function filesUnder(directory: string): string[] {
  if (!existsSync(directory)) return [];
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : filesUnder(path);
    return entry.isFile() ? [path] : [];
  });
}

export function webSourceHash(): string {
  const hash = createHash('sha256');
  for (const file of SOURCES.flatMap((source) => filesUnder(join(ROOT, source))).sort()) {
    hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** The folder holding the built UI (`index.html` and `assets/`), building it first when needed. */
export async function ensureWebBuild(options: { log?: (line: string) => void } = {}): Promise<string> {
  const cache = join(ROOT, 'node_modules', '.cache', 'orgadmin-web');
  const target = join(cache, webSourceHash());
  if (existsSync(join(target, 'index.html'))) return target;
  const log = options.log ?? (() => undefined);
  log('orgadmin: building the web UI (once per change of its sources)…');
  const started = Date.now();
  // Built beside the target and renamed into place, so a concurrent process never serves half a build.
  const temporary = `${target}.${process.pid}.tmp`;
  const { build } = await import('vite');
  await build({
    configFile: join(ROOT, 'web', 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir: temporary, emptyOutDir: true },
  });
  try {
    renameSync(temporary, target);
  } catch (error) {
    // Another process finished the same build first: use theirs.
    rmSync(temporary, { recursive: true, force: true });
    if (!existsSync(join(target, 'index.html'))) throw error;
  }
  for (const entry of readdirSync(cache)) {
    const path = join(cache, entry);
    if (path !== target && !entry.endsWith('.tmp') && statSync(path).isDirectory())
      rmSync(path, { recursive: true, force: true });
  }
  log(`orgadmin: web UI built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return target;
}
