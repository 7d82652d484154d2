#!/usr/bin/env node
// Provisions the native TensorFlow backend of @tensorflow/tfjs-node.
//
// tfjs-node's own install script downloads libtensorflow and a prebuilt addon from
// storage.googleapis.com. Many machines (CI sandboxes, air-gapped clusters) reach an npm
// registry and a Python package index but not that host. This script:
//   1. does nothing when the binding already loads;
//   2. re-links a provisioned library + addon from the cache (outside node_modules, keyed by
//      versions), so a second fresh clone costs seconds;
//   3. otherwise tries tfjs-node's standard install (download) unchanged;
//   4. otherwise takes the TensorFlow C library from the `tensorflow-cpu` wheel of the configured
//      pip index and builds the addon from source against it (see ../shared/notes/tfjs-node-offline.md);
//   5. otherwise stops with a message that says what the user can do.
// It is idempotent and prints every step. Environment:
//   PRUNEKIT_CACHE_DIR        cache root (default: $XDG_CACHE_HOME or ~/.cache, then /prunekit)
//   PRUNEKIT_TFJS_SOURCE      auto (default) | download | wheel: which path(s) to try
//   PRUNEKIT_TF_WHEEL_VERSION tensorflow-cpu version to take from pip (default 2.21.0)
//   PRUNEKIT_DOWNLOAD_TIMEOUT_S  time allowed for the standard download attempt (default 600)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const workspaceRoot = path.resolve(here, '..', '..');
const log = (msg) => console.log(`[provision-tfjs] ${msg}`);

class ProvisionError extends Error {}

function findTfjsNode() {
  // tensor-core is the package that depends on tfjs-node; resolve from there so this works
  // whether npm hoisted the package or not.
  const from = path.join(workspaceRoot, 'packages', 'tensor-core', 'package.json');
  const require = createRequire(fs.existsSync(from) ? from : path.join(workspaceRoot, 'package.json'));
  let pkgJson;
  try {
    pkgJson = require.resolve('@tensorflow/tfjs-node/package.json');
  } catch {
    throw new ProvisionError(
      '@tensorflow/tfjs-node is not installed. Run `npm ci --ignore-scripts` in the workspace root first.',
    );
  }
  const dir = path.dirname(pkgJson);
  const version = JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version;
  const constants = fs.readFileSync(path.join(dir, 'scripts', 'deps-constants.js'), 'utf8');
  const m = /LIBTENSORFLOW_VERSION\s*=\s*'([^']+)'/.exec(constants);
  if (!m) throw new ProvisionError(`cannot read LIBTENSORFLOW_VERSION from ${dir}/scripts/deps-constants.js`);
  return { dir, version, libtfVersion: m[1] };
}

/** Loads the binding in a child process (a broken native library must not crash this script). */
function probe(tfjsDir) {
  const code = `
    const tf = require(${JSON.stringify(tfjsDir)});
    const b = tf.backend();
    process.stdout.write(JSON.stringify({ backend: tf.getBackend(), tf: b.binding && b.binding.TF_Version }));`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  if (r.status !== 0) {
    const lastLine = (r.stderr || '').trim().split('\n').filter((l) => /Error|error/.test(l)).slice(-1)[0] ?? '';
    return { ok: false, reason: lastLine.slice(0, 300) };
  }
  try {
    const info = JSON.parse(r.stdout.trim().split('\n').pop());
    return { ok: info.backend === 'tensorflow', ...info };
  } catch {
    return { ok: false, reason: `unexpected probe output: ${r.stdout.slice(0, 200)}` };
  }
}

function run(cmd, args, opts = {}) {
  const shown = args.map((a) => (a.length > 80 ? `'${a.trim().split('\n')[0].slice(0, 40)}…'` : a));
  log(`$ ${[cmd, ...shown].join(' ')}${opts.cwd ? `   (in ${path.relative(workspaceRoot, opts.cwd) || '.'})` : ''}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.error) return { ok: false, reason: r.error.message };
  if (r.signal) return { ok: false, reason: `killed by ${r.signal}` };
  return { ok: r.status === 0, reason: `exit code ${r.status}` };
}

function rmrf(p) {
  fs.rmSync(p, { recursive: true, force: true });
}

/** rename, or copy + delete when the cache is on another file system */
function moveDir(from, to) {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if (err.code !== 'EXDEV') throw err;
    fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
    rmrf(from);
  }
}

function cacheRoot() {
  const base = process.env.PRUNEKIT_CACHE_DIR || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'prunekit');
  return base;
}

/** Points node_modules/@tensorflow/tfjs-node/{deps,lib} at a provisioned cache entry. */
function linkFromCache(tfjs, entry) {
  const depsLink = path.join(tfjs.dir, 'deps');
  rmrf(depsLink);
  fs.symlinkSync(path.join(entry, 'deps'), depsLink, 'dir');
  const libDir = path.join(tfjs.dir, 'lib');
  rmrf(libDir);
  fs.cpSync(path.join(entry, 'lib'), libDir, { recursive: true });
  log(`linked ${path.relative(workspaceRoot, depsLink)} -> ${path.join(entry, 'deps')} and copied the built addon`);
}

/** Moves what tfjs-node's install produced into the cache entry (atomically), then links it back. */
function storeInCache(tfjs, entry, source) {
  const staging = `${entry}.staging-${process.pid}`;
  rmrf(staging);
  fs.mkdirSync(staging, { recursive: true });
  moveDir(path.join(tfjs.dir, 'deps'), path.join(staging, 'deps'));
  fs.cpSync(path.join(tfjs.dir, 'lib'), path.join(staging, 'lib'), { recursive: true });
  fs.writeFileSync(path.join(staging, 'source.json'), JSON.stringify({ ...source, createdAt: new Date().toISOString() }, null, 2));
  rmrf(entry);
  fs.renameSync(staging, entry);
  linkFromCache(tfjs, entry);
}

function tryStandardInstall(tfjs) {
  log('trying tfjs-node\'s standard install (downloads libtensorflow from storage.googleapis.com)');
  const timeout = Number(process.env.PRUNEKIT_DOWNLOAD_TIMEOUT_S || 600) * 1000;
  const r = run(process.execPath, ['scripts/install.js'], { cwd: tfjs.dir, env: buildEnv(tfjs), timeout });
  return r;
}

function buildEnv(tfjs) {
  const env = { ...process.env };
  env.PATH = [path.join(workspaceRoot, 'node_modules', '.bin'), path.join(tfjs.dir, 'node_modules', '.bin'), env.PATH].join(path.delimiter);
  // node-gyp would otherwise download Node's headers; use the local ones when they are there.
  if (!env.npm_config_nodedir) {
    const guess = path.resolve(path.dirname(process.execPath), '..');
    if (fs.existsSync(path.join(guess, 'include', 'node', 'node_api.h'))) env.npm_config_nodedir = guess;
  }
  return env;
}

function extractFromWheel(wheel, destDeps, libtfVersion) {
  // python's zipfile is always there where pip is; `unzip` often is not.
  const script = `
import sys, zipfile, os, shutil
wheel, dest = sys.argv[1], sys.argv[2]
lib = os.path.join(dest, 'lib'); inc = os.path.join(dest, 'include')
os.makedirs(lib, exist_ok=True); os.makedirs(inc, exist_ok=True)
wanted = {'tensorflow/libtensorflow_cc.so.2': 'libtensorflow.so.${libtfVersion}',
          'tensorflow/libtensorflow_framework.so.2': 'libtensorflow_framework.so.${libtfVersion}'}
n = 0
with zipfile.ZipFile(wheel) as z:
    for info in z.infolist():
        name = info.filename
        if name in wanted:
            with z.open(info) as src, open(os.path.join(lib, wanted[name]), 'wb') as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            n += 1
        elif name.startswith('tensorflow/include/') and not info.is_dir():
            target = os.path.join(inc, name[len('tensorflow/include/'):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with z.open(info) as src, open(target, 'wb') as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
if n != 2:
    sys.exit('the wheel does not contain tensorflow/libtensorflow_cc.so.2 and tensorflow/libtensorflow_framework.so.2')
`;
  const r = run('python3', ['-c', script, wheel, destDeps]);
  if (!r.ok) return r;
  const lib = path.join(destDeps, 'lib');
  const links = {
    'libtensorflow.so': `libtensorflow.so.${libtfVersion}`,
    'libtensorflow.so.2': `libtensorflow.so.${libtfVersion}`,
    // the library's SONAME; without it dlopen of the addon fails
    'libtensorflow_cc.so.2': `libtensorflow.so.${libtfVersion}`,
    'libtensorflow_framework.so': `libtensorflow_framework.so.${libtfVersion}`,
    'libtensorflow_framework.so.2': `libtensorflow_framework.so.${libtfVersion}`,
  };
  for (const [name, target] of Object.entries(links)) {
    rmrf(path.join(lib, name));
    fs.symlinkSync(target, path.join(lib, name));
  }
  return { ok: true };
}

function tryWheelInstall(tfjs, entry) {
  const version = process.env.PRUNEKIT_TF_WHEEL_VERSION || '2.21.0';
  log(`taking the TensorFlow C library from the tensorflow-cpu==${version} wheel of the configured pip index`);
  const dl = `${entry}.wheel`;
  rmrf(dl);
  fs.mkdirSync(dl, { recursive: true });
  const pip = run('python3', [
    '-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--disable-pip-version-check',
    '--python-version', '3.11', '--implementation', 'cp',
    '--platform', 'manylinux_2_27_x86_64', '--platform', 'manylinux_2_17_x86_64', '--platform', 'manylinux2014_x86_64',
    `tensorflow-cpu==${version}`, '-d', dl,
  ]);
  if (!pip.ok) return { ok: false, reason: `pip download of tensorflow-cpu==${version} failed (${pip.reason})` };
  const wheel = fs.readdirSync(dl).find((f) => f.endsWith('.whl'));
  if (!wheel) return { ok: false, reason: 'pip reported success but left no wheel' };
  const depsDir = path.join(tfjs.dir, `deps.partial-${process.pid}`);
  rmrf(depsDir);
  log(`extracting the C library and headers from ${wheel} (about 1 GB unpacked)`);
  const ex = extractFromWheel(path.join(dl, wheel), depsDir, tfjs.libtfVersion);
  rmrf(dl);
  if (!ex.ok) return { ok: false, reason: `extracting the wheel failed (${ex.reason})` };
  // install.js skips its download when deps/lib/libtensorflow.so.<version> exists; it then tries
  // the prebuilt addon (fails offline) and builds from source with node-gyp.
  const depsLink = path.join(tfjs.dir, 'deps');
  rmrf(depsLink);
  fs.renameSync(depsDir, depsLink);
  log('building the tfjs-node addon from source against that library (node-gyp, ~20 s)');
  const build = run(process.execPath, ['scripts/install.js'], { cwd: tfjs.dir, env: buildEnv(tfjs) });
  if (!build.ok) return { ok: false, reason: `building the addon failed (${build.reason})` };
  return { ok: true, source: { path: 'wheel', wheel, tensorflowCpu: version } };
}

function main() {
  const tfjs = findTfjsNode();
  log(`@tensorflow/tfjs-node ${tfjs.version} at ${path.relative(workspaceRoot, tfjs.dir)} (expects libtensorflow ${tfjs.libtfVersion})`);
  const first = probe(tfjs.dir);
  if (first.ok) {
    log(`native backend already works: backend=${first.backend}, TensorFlow ${first.tf}. Nothing to do.`);
    return;
  }
  const key = `tfjs-node-${tfjs.version}-${os.platform()}-${os.arch()}-napi${process.versions.napi}-node${process.versions.modules}`;
  const entry = path.join(cacheRoot(), key);
  fs.mkdirSync(cacheRoot(), { recursive: true });
  if (fs.existsSync(path.join(entry, 'source.json'))) {
    log(`re-linking the provisioned library from the cache ${entry}`);
    linkFromCache(tfjs, entry);
    const p = probe(tfjs.dir);
    if (p.ok) {
      log(`native backend works: TensorFlow ${p.tf} (from cache)`);
      return;
    }
    log(`the cached entry does not load (${p.reason}); provisioning it again`);
    rmrf(entry);
  }

  const mode = process.env.PRUNEKIT_TFJS_SOURCE || 'auto';
  if (!['auto', 'download', 'wheel'].includes(mode)) {
    throw new ProvisionError(`PRUNEKIT_TFJS_SOURCE must be auto, download or wheel (got "${mode}")`);
  }
  const failures = [];
  if (mode === 'auto' || mode === 'download') {
    const r = tryStandardInstall(tfjs);
    const p = r.ok ? probe(tfjs.dir) : { ok: false };
    if (p.ok) {
      storeInCache(tfjs, entry, { path: 'download', libtensorflow: tfjs.libtfVersion });
      log(`native backend works: TensorFlow ${p.tf} (standard download)`);
      return;
    }
    failures.push(`standard download: ${r.ok ? p.reason : r.reason}`);
    log('the standard download did not work; falling back');
  }
  if (mode === 'auto' || mode === 'wheel') {
    const r = tryWheelInstall(tfjs, entry);
    const p = r.ok ? probe(tfjs.dir) : { ok: false };
    if (p.ok) {
      storeInCache(tfjs, entry, r.source);
      log(`native backend works: TensorFlow ${p.tf} (C library from the tensorflow-cpu wheel, addon built here)`);
      return;
    }
    failures.push(`pip wheel: ${r.ok ? p.reason : r.reason}`);
  }
  throw new ProvisionError(
    `could not provision the native TensorFlow backend.\n${failures.map((f) => `  - ${f}`).join('\n')}\n` +
      'What you can do:\n' +
      '  - allow access to https://storage.googleapis.com (tfjs-node downloads libtensorflow from there), or\n' +
      '  - make `python3 -m pip download tensorflow-cpu==2.21.0` work (a pip index that has it), then run `npm run setup` again, or\n' +
      '  - run on the pure-JavaScript backend (much slower): set PRUNEKIT_BACKEND=cpu.',
  );
}

try {
  main();
} catch (err) {
  if (err instanceof ProvisionError) {
    console.error(`[provision-tfjs] error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
