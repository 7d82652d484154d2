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
// It is idempotent and prints one line per step (long steps print progress; the output of the
// commands it runs is shown only when they fail). Environment:
//   PRUNEKIT_CACHE_DIR        cache root (default: $XDG_CACHE_HOME or ~/.cache, then /prunekit)
//   PRUNEKIT_TFJS_SOURCE      auto (default) | download | wheel: which path(s) to try
//   PRUNEKIT_TF_WHEEL_VERSION tensorflow-cpu version to take from pip (default 2.21.0)
//   PRUNEKIT_DOWNLOAD_TIMEOUT_S  time allowed for the standard download attempt (default 600)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const workspaceRoot = path.resolve(here, '..', '..');
const log = (msg) => console.log(`[provision-tfjs] ${msg}`);
const started = Date.now();

function formatDuration(ms) {
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

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

/**
 * Runs a command with its output captured (shown only when it fails, last lines), printing
 * `progress(line)`'s answer for lines worth showing and a heartbeat every 30 s of silence.
 */
function run(cmd, args, opts = {}) {
  const { progress, poll, timeout, showOutputOnFailure = true, ...spawnOpts } = opts;
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts });
    const t0 = Date.now();
    let output = '';
    let pending = '';
    let lastPrint = Date.now();
    const onData = (chunk) => {
      const text = chunk.toString();
      output += text;
      if (output.length > 1_000_000) output = output.slice(-500_000);
      if (!progress) return;
      pending += text;
      const lines = pending.split(/\r?\n|\r/);
      pending = lines.pop();
      for (const line of lines) {
        const shown = progress(line);
        if (shown) {
          log(`  ${shown}`);
          lastPrint = Date.now();
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const heartbeat = setInterval(() => {
      for (const shown of poll?.() ?? []) {
        log(`  ${shown}`);
        lastPrint = Date.now();
      }
      if (Date.now() - lastPrint < 30_000) return;
      log(`  ... still working (${formatDuration(Date.now() - t0)})`);
      lastPrint = Date.now();
    }, 1000);
    const timer = timeout ? setTimeout(() => child.kill('SIGTERM'), timeout) : null;
    const finish = (result) => {
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
      if (!result.ok && showOutputOnFailure && output.trim()) {
        const tail = output.trim().split('\n').slice(-25).join('\n');
        console.log(`[provision-tfjs] output of \`${[cmd, ...args.map((a) => (a.length > 80 ? '…' : a))].join(' ')}\` (last lines):\n${tail}`);
      }
      resolve({ ...result, output, seconds: (Date.now() - t0) / 1000 });
    };
    child.on('error', (err) => finish({ ok: false, reason: err.message }));
    child.on('close', (code, signal) => {
      if (signal) finish({ ok: false, reason: `killed by ${signal}` });
      else finish({ ok: code === 0, reason: `exit code ${code}` });
    });
  });
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

/** Network failures of install.js (DNS, refused, timed out, proxy): the machine cannot reach the download host. */
const OFFLINE_PATTERN = /ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|socket hang up|getaddrinfo|killed by SIGTERM/;

async function tryStandardInstall(tfjs) {
  log('trying the standard TensorFlow download (storage.googleapis.com)');
  const timeout = Number(process.env.PRUNEKIT_DOWNLOAD_TIMEOUT_S || 600) * 1000;
  // its output (a stack trace when offline) is kept for the one-line summary, not shown
  const r = await run(process.execPath, ['scripts/install.js'], { cwd: tfjs.dir, env: buildEnv(tfjs), timeout, showOutputOnFailure: false });
  if (r.ok) return r;
  const offline = OFFLINE_PATTERN.test(r.output) || OFFLINE_PATTERN.test(r.reason);
  const lastError = r.output.split('\n').map((l) => l.trim()).filter((l) => /error/i.test(l)).slice(-1)[0] ?? r.reason;
  return { ok: false, offline, reason: offline ? 'no network access to the TensorFlow download' : `the TensorFlow download failed: ${lastError.slice(0, 200)}` };
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

async function extractFromWheel(wheel, destDeps, libtfVersion) {
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
    members = [i for i in z.infolist() if i.filename in wanted or (i.filename.startswith('tensorflow/include/') and not i.is_dir())]
    total = sum(i.file_size for i in members) or 1
    done = 0; shown = -1
    def copy(info, target):
        # byte-wise progress: the C library alone is most of the 1 GB
        global done, shown
        with z.open(info) as src, open(target, 'wb') as dst:
            while True:
                chunk = src.read(1 << 22)
                if not chunk: break
                dst.write(chunk)
                done += len(chunk)
                pct = done * 100 // total // 10 * 10
                if pct != shown:
                    shown = pct
                    print(f'extracting: {pct}% of {total / 1e9:.1f} GB', flush=True)
    for info in members:
        name = info.filename
        if name in wanted:
            copy(info, os.path.join(lib, wanted[name]))
            n += 1
        else:
            target = os.path.join(inc, name[len('tensorflow/include/'):])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            copy(info, target)
if n != 2:
    sys.exit('the wheel does not contain tensorflow/libtensorflow_cc.so.2 and tensorflow/libtensorflow_framework.so.2')
`;
  const r = await run('python3', ['-c', script, wheel, destDeps], { progress: (line) => (line.startsWith('extracting: ') ? line : null) });
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

async function tryWheelInstall(tfjs, entry) {
  const version = process.env.PRUNEKIT_TF_WHEEL_VERSION || '2.21.0';
  log(`downloading the tensorflow-cpu==${version} wheel (about 270 MB) from the configured pip index`);
  const dl = `${entry}.wheel`;
  rmrf(dl);
  fs.mkdirSync(dl, { recursive: true });
  const pip = await run('python3', [
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
  const ex = await extractFromWheel(path.join(dl, wheel), depsDir, tfjs.libtfVersion);
  rmrf(dl);
  if (!ex.ok) return { ok: false, reason: `extracting the wheel failed (${ex.reason})` };
  // install.js skips its download when deps/lib/libtensorflow.so.<version> exists; it then tries
  // the prebuilt addon (fails offline) and builds from source with node-gyp.
  const depsLink = path.join(tfjs.dir, 'deps');
  rmrf(depsLink);
  fs.renameSync(depsDir, depsLink);
  log('building the tfjs-node addon against that library (node-gyp, about 30 s)');
  // install.js first tries the prebuilt addon download (fails offline), then compiles; it runs
  // node-gyp through exec, which swallows the compiler's output, so progress comes from the object
  // files appearing in the build folder
  const sources = fs.readdirSync(path.join(tfjs.dir, 'binding')).filter((f) => f.endsWith('.cc'));
  const seen = new Set();
  const build = await run(process.execPath, ['scripts/install.js'], {
    cwd: tfjs.dir,
    env: buildEnv(tfjs),
    poll: () => {
      const found = [];
      for (const d of fs.readdirSync(tfjs.dir).filter((n) => n === 'build' || n.startsWith('build-tmp-'))) {
        const objDir = path.join(tfjs.dir, d, 'Release', 'obj.target', 'tfjs_binding', 'binding');
        const objects = fs.existsSync(objDir) ? fs.readdirSync(objDir).filter((f) => f.endsWith('.o')) : [];
        for (const o of objects) if (!seen.has(o)) found.push(o);
        const addon = path.join(tfjs.dir, d, 'Release', 'tfjs_binding.node');
        if (fs.existsSync(addon) && !seen.has('addon')) found.push('addon');
      }
      const lines = found.map((o) => {
        seen.add(o);
        return o === 'addon' ? 'built tfjs_binding.node' : `compiled ${o.replace(/\.o$/, '.cc')} (${seen.size} of ${sources.length})`;
      });
      if (seen.size === sources.length && !seen.has('addon') && !seen.has('linking')) {
        seen.add('linking');
        lines.push('linking tfjs_binding.node against the TensorFlow library (the longest part)');
      }
      return lines;
    },
  });
  if (!build.ok) return { ok: false, reason: `building the addon failed (${build.reason})` };
  return { ok: true, source: { path: 'wheel', wheel, tensorflowCpu: version } };
}

async function main() {
  const tfjs = findTfjsNode();
  log(`setting up the native TensorFlow backend of @tensorflow/tfjs-node ${tfjs.version} (${path.relative(workspaceRoot, tfjs.dir)})`);
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
    const r = await tryStandardInstall(tfjs);
    const p = r.ok ? probe(tfjs.dir) : { ok: false };
    if (p.ok) {
      storeInCache(tfjs, entry, { path: 'download', libtensorflow: tfjs.libtfVersion });
      log(`native backend works: TensorFlow ${p.tf} (standard download), ready in ${formatDuration(Date.now() - started)}`);
      return;
    }
    failures.push(`standard download: ${r.ok ? p.reason : r.reason}`);
    if (mode === 'auto') log(`${r.ok ? `the downloaded backend does not load (${p.reason})` : r.reason}; using the local TensorFlow wheel instead`);
  }
  if (mode === 'auto' || mode === 'wheel') {
    const r = await tryWheelInstall(tfjs, entry);
    const p = r.ok ? probe(tfjs.dir) : { ok: false };
    if (p.ok) {
      storeInCache(tfjs, entry, r.source);
      log(`native backend works: TensorFlow ${p.tf} (C library from the tensorflow-cpu wheel, addon built here), ready in ${formatDuration(Date.now() - started)}`);
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
  await main();
} catch (err) {
  if (err instanceof ProvisionError) {
    console.error(`[provision-tfjs] error: ${err.message}`);
    process.exit(1);
  }
  throw err;
}
