#!/usr/bin/env node
// Builds the `orgadmin` command line into plain JavaScript under dist/ (dist/orgadmin.mjs and its chunks), run with
// plain `node dist/orgadmin.mjs <command>`: no tsx loader (whose hooks thread and transformed sources cost every
// process ~60 MB) and no module-per-file packages. The provisioning benchmark's workers run it.
//
//   node bin/build.js             build (npm run build)
//   node bin/build.js --if-stale  build only when dist/ is missing or out of date, saying why
//   node bin/build.js --check     exit 0 when dist/ is up to date, 1 when not; builds nothing
//
// Our sources and the packages a worker runs on are bundled (BUNDLED_PACKAGES); the other packages stay imports
// resolved from node_modules. Each dynamic import — one per command, the portal's and GitOps' modules — becomes a
// chunk of its own, so a process loads only what its command needs. "Up to date" is checked by content, not by
// mtime (checkouts and copies reset mtimes): every file that went into the build (bundled packages' files too, so
// an `npm ci` of other versions counts), this script, tsconfig.json and esbuild's version must hash as they did,
// and so must every output file. bin/orgadmin.js does not use dist/: it runs the sources through tsx.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, extname, join, relative, resolve } from 'node:path';
import { isBuiltin } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIST = join(ROOT, 'dist');
const BUILT_CLI = join(DIST, 'orgadmin.mjs');
const RECORD = join(DIST, 'orgadmin.build.json');
const ENTRY = 'src/cli/main.ts';
/** Files that shape the output without being inputs of the bundle. */
const ALWAYS_HASHED = ['bin/build.js', 'tsconfig.json', 'node_modules/esbuild/package.json'];
/** The program's entry, a module of this script's (so its hash covers it): bin/orgadmin.js minus tsx and re-exec. */
const ENTRY_MODULE = 'orgadmin-entry';
const ENTRY_SOURCE = `import { main } from './${ENTRY}';\nprocess.exitCode = await main(process.argv.slice(2));\n`;
const LOADERS = { '.ts': 'ts', '.js': 'js', '.mjs': 'js', '.cjs': 'js', '.json': 'json' };
/**
 * Packages bundled into dist/ rather than imported from node_modules: the ones a worker runs on. Node keeps a module
 * record, the source and compiled code for every file it imports, and these come as hundreds of small files —
 * `auth0` alone is 755 of them, 41 MB imported as it is, 15 MB as one bundled file. Whatever they import comes along,
 * except NEVER_BUNDLED. The rest (the portal's, GitOps', auth0-local's, Vite) stay imports, loaded only by the
 * commands that use them.
 */
const BUNDLED_PACKAGES = [
  'auth0',
  'pg',
  'pg-boss',
  'prom-client',
  'yaml',
  'zod',
  'standardwebhooks',
  'request-filtering-agent',
  'ipaddr.js',
  '@noble/hashes',
];
/** Optional native addons the bundled packages try to load and do without. */
const NEVER_BUNDLED = ['pg-native'];
/** Chunks of earlier builds are deleted this long after they stopped being current (a process may still use them). */
const OLD_CHUNK_MS = 24 * 60 * 60 * 1000;

const packageOf = (specifier) =>
  specifier
    .split('/')
    .slice(0, specifier.startsWith('@') ? 2 : 1)
    .join('/');
const posix = (path) => path.split('\\').join('/');
const sha256 = (contents) => createHash('sha256').update(contents).digest('hex');
const hashFile = (path) => {
  try {
    return sha256(readFileSync(join(ROOT, path)));
  } catch {
    return 'missing';
  }
};

/** Why dist/ must not be run as it is, or undefined when it is up to date. */
export function staleReason() {
  let record;
  try {
    record = JSON.parse(readFileSync(RECORD, 'utf8'));
  } catch {
    return existsSync(BUILT_CLI) ? 'no readable build record' : 'not built';
  }
  if (record.entry !== ENTRY || typeof record.inputs !== 'object' || typeof record.outputs !== 'object')
    return 'build record of another version';
  for (const [path, hash] of Object.entries(record.outputs))
    if (hashFile(path) !== hash) return `${path} differs from what was built`;
  for (const [path, hash] of Object.entries(record.inputs))
    if (hashFile(path) !== hash) return `${path} changed`;
  return undefined;
}

/** Writes through a temporary file and a rename: a process starting meanwhile reads the old file or the new one. */
function replaceFile(path, contents) {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, contents);
  renameSync(temporary, path);
}

export async function build() {
  const esbuild = await import('esbuild');
  const inputs = Object.fromEntries(ALWAYS_HASHED.map((path) => [path, hashFile(path)]));
  const ownSources = {
    name: 'orgadmin-sources',
    setup(context) {
      context.onResolve({ filter: new RegExp(`^${ENTRY_MODULE}$`) }, () => ({
        path: ENTRY_MODULE,
        namespace: ENTRY_MODULE,
      }));
      context.onResolve({ filter: /^[^./]/ }, (args) => {
        if (isBuiltin(args.path) || args.namespace === ENTRY_MODULE) return undefined;
        const name = packageOf(args.path);
        const fromPackage = posix(args.importer).includes('/node_modules/');
        const bundled = fromPackage ? !NEVER_BUNDLED.includes(name) : BUNDLED_PACKAGES.includes(name);
        return bundled ? undefined : { path: args.path, external: true };
      });
      context.onLoad({ filter: /.*/, namespace: ENTRY_MODULE }, () => ({
        contents: ENTRY_SOURCE,
        resolveDir: ROOT,
        loader: 'ts',
      }));
      // Our files are read here, so the record hashes exactly what was bundled (a file edited during the build
      // makes the build stale, never wrongly fresh). Sources find files beside themselves through import.meta.url
      // (migrations, package.json, web/, auth0-local's contract); in the bundle that URL is dist/'s, so each
      // source's own URL is derived from it (every output file sits directly in dist/).
      context.onLoad({ filter: /.*/ }, (args) => {
        const path = posix(relative(ROOT, args.path));
        const loader = LOADERS[extname(args.path)];
        if (!loader) return undefined;
        const source = readFileSync(args.path);
        inputs[path] = sha256(source);
        // Packages are taken as they are (none of the bundled ones uses import.meta.url or __dirname).
        if (loader === 'json' || path.includes('node_modules/')) return { contents: source, loader };
        const ownUrl = `new URL(${JSON.stringify(posix(relative(DIST, args.path)))}, import.meta.url).href`;
        return { contents: source.toString('utf8').replace(/\bimport\.meta\.url\b/g, ownUrl), loader };
      });
    },
  };
  const result = await esbuild.build({
    absWorkingDir: ROOT,
    entryPoints: [{ in: ENTRY_MODULE, out: 'orgadmin' }],
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20.19',
    // Bundled CommonJS packages call require() for Node's modules; an ES module has none of its own.
    banner: {
      js: "import { createRequire as __orgadminRequire } from 'node:module';\nconst require = __orgadminRequire(import.meta.url);",
    },
    // Names stay as written (errors, logs) whatever renaming the bundle's one scope needs.
    keepNames: true,
    // Maps for stack traces (node --enable-source-maps); they point at the files rather than copying them.
    sourcemap: 'linked',
    sourcesContent: false,
    outdir: DIST,
    chunkNames: 'chunk-[hash]',
    outExtension: { '.js': '.mjs' },
    write: false,
    metafile: true,
    logLevel: 'warning',
    plugins: [ownSources],
  });
  const unrecorded = Object.keys(result.metafile.inputs).filter(
    (path) => !path.startsWith(`${ENTRY_MODULE}:`) && !inputs[path],
  );
  if (unrecorded.length > 0)
    throw new Error(
      `${unrecorded.length} inputs missing from the build record: ${unrecorded.slice(0, 5).join(', ')}…`,
    );
  mkdirSync(DIST, { recursive: true });
  const outputs = {};
  // Chunks first, the entry last: a process that reads the new entry finds every chunk it names.
  const files = [...result.outputFiles].sort(
    (a, b) => Number(a.path === BUILT_CLI) - Number(b.path === BUILT_CLI),
  );
  for (const output of files) {
    replaceFile(output.path, output.contents);
    outputs[posix(relative(ROOT, output.path))] = sha256(output.contents);
  }
  const sorted = (object) =>
    Object.fromEntries(Object.entries(object).sort(([a], [b]) => a.localeCompare(b)));
  replaceFile(
    RECORD,
    `${JSON.stringify({ entry: ENTRY, builtAt: new Date().toISOString(), outputs: sorted(outputs), inputs: sorted(inputs) }, null, 2)}\n`,
  );
  const now = Date.now();
  for (const name of readdirSync(DIST)) {
    const path = join(DIST, name);
    if (/^chunk-.*\.mjs(\.map)?$/.test(name) && !(posix(relative(ROOT, path)) in outputs)) {
      if (now - statSync(path).mtimeMs > OLD_CHUNK_MS) rmSync(path, { force: true });
    }
  }
  return { inputs: Object.keys(inputs).length - ALWAYS_HASHED.length, outputs: Object.keys(outputs).length };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const mode = process.argv[2];
  if (mode !== undefined && mode !== '--if-stale' && mode !== '--check') {
    console.error('usage: node bin/build.js [--if-stale | --check]');
    process.exitCode = 2;
  } else if (mode === '--check') {
    const reason = staleReason();
    console.error(reason ? `dist/ is out of date: ${reason}` : 'dist/ is up to date');
    process.exitCode = reason ? 1 : 0;
  } else {
    const reason = mode === '--if-stale' ? staleReason() : 'asked to';
    if (reason === undefined) {
      console.error('dist/ is up to date');
    } else {
      const started = Date.now();
      try {
        const { inputs, outputs } = await build();
        console.error(
          `built dist/orgadmin.mjs (${outputs} files) from ${inputs} sources in ${Date.now() - started} ms${mode === '--if-stale' ? ` (${reason})` : ''}`,
        );
      } catch (error) {
        // A failed build must not leave a record that calls the old output current.
        rmSync(RECORD, { force: true });
        console.error(`build failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exitCode = 1;
      }
    }
  }
}
