#!/usr/bin/env node
// `npm start` and `npm test` on a fresh clone: set up what is missing, then run the main job.
//
//   node tools/setup/run.mjs start [demo args...]   set up, build the CLI, run `prunekit demo`
//   node tools/setup/run.mjs test  [nx args...]     set up, prepare test prerequisites, run every project's tests
//   node tools/setup/run.mjs setup                  set up only (dependencies + native TensorFlow backend)
//
// Uses only Node built-ins: it runs before node_modules exists. Each step is skipped when a stamp
// says it is done, so an already set-up clone pays a few file reads (no npm, no Nx, no TensorFlow load).
// Stamps live in node_modules/.prunekit-setup.json, so deleting node_modules resets all of them.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const stampFile = path.join(root, 'node_modules', '.prunekit-setup.json');
const inCi = process.env.CI === 'true';
const started = Date.now();
const log = (msg) => console.log(`[setup] ${msg}`);

class SetupError extends Error {}

export function formatDuration(ms) {
  const s = Math.round(ms / 1000);
  if (s < 60) return ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${s} s`;
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

function sha256(...parts) {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function readStamps() {
  try {
    return JSON.parse(fs.readFileSync(stampFile, 'utf8'));
  } catch {
    return {};
  }
}

function writeStamp(key, value) {
  if (!fs.existsSync(path.dirname(stampFile))) return;
  const stamps = { ...readStamps(), [key]: value };
  const tmp = `${stampFile}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${JSON.stringify(stamps, null, 2)}\n`);
  fs.renameSync(tmp, stampFile);
}

/** Runs a command with inherited output; resolves to its exit status (signals count as failure). */
function runInherit(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
    child.on('error', (err) => {
      console.error(`[setup] cannot run ${cmd}: ${err.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => resolve(signal ? 128 : code ?? 1));
  });
}

// ---------------------------------------------------------------- dependencies

function lockHash() {
  const lock = path.join(root, 'package-lock.json');
  if (!fs.existsSync(lock)) throw new SetupError('package-lock.json is missing; the workspace installs exactly what it locks');
  return sha256(fs.readFileSync(lock));
}

function platformMatches(list, value) {
  if (!Array.isArray(list) || list.length === 0) return true;
  const allowed = list.filter((v) => !v.startsWith('!'));
  if (list.includes(`!${value}`)) return false;
  return allowed.length === 0 || allowed.includes(value);
}

/**
 * Whether node_modules holds every package of the lock at its locked version (other platforms'
 * optional packages aside). Used once, when there is no stamp yet (e.g. a copied node_modules).
 */
function installedMatchesLock() {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  for (const [key, entry] of Object.entries(lock.packages ?? {})) {
    if (!key.startsWith('node_modules/')) continue;
    if (!platformMatches(entry.os, process.platform) || !platformMatches(entry.cpu, process.arch)) continue;
    const dir = path.join(root, key);
    if (entry.link) {
      if (!fs.existsSync(dir)) return false;
      continue;
    }
    try {
      const version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
      if (version !== entry.version) return false;
    } catch {
      if (entry.optional || entry.peer) continue;
      return false;
    }
  }
  return true;
}

/**
 * Optional dependencies the lock names but does not resolve (usually other platforms' native
 * binaries, left out by an install on this platform): `npm install` would add them and so change
 * package-lock.json on the next clone. Returns "package -> optional dependency" strings.
 */
export function missingOptionalEntries(lock) {
  const packages = lock.packages ?? {};
  const missing = [];
  for (const [key, entry] of Object.entries(packages)) {
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) {
      // node resolution: <key>/node_modules/<dep>, then each ancestor's node_modules
      let base = key;
      let found = false;
      for (;;) {
        if (packages[`${base ? `${base}/` : ''}node_modules/${dep}`]) {
          found = true;
          break;
        }
        if (!base) break;
        const i = base.lastIndexOf('/node_modules/');
        base = i >= 0 ? base.slice(0, i) : '';
      }
      if (!found) missing.push(`${key || '(root)'} -> ${dep}`);
    }
  }
  return missing;
}

function checkLockComplete() {
  const lock = JSON.parse(fs.readFileSync(path.join(root, 'package-lock.json'), 'utf8'));
  const missing = missingOptionalEntries(lock);
  if (missing.length === 0) return;
  const message =
    `package-lock.json is incomplete: ${missing.length} optional packages are not locked (${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ', ...' : ''}); ` +
    'run `npm install --package-lock-only --ignore-scripts` and commit the lock (CONTRIBUTING.md, "Adding a dependency")';
  if (inCi) throw new SetupError(message);
  log(`warning: ${message}`);
}

async function ensureDependencies() {
  const hash = lockHash();
  if (readStamps().lock === hash) return false;
  if (fs.existsSync(path.join(root, 'node_modules')) && installedMatchesLock()) {
    writeStamp('lock', hash);
    return false;
  }
  const t0 = Date.now();
  log('installing the workspace dependencies exactly as package-lock.json locks them (npm ci; about 2 min)');
  // Scripts stay off: tfjs-node's would download from a host many machines cannot reach (the next
  // step provisions it), onnxruntime-node's likewise (ONNXRUNTIME_NODE_INSTALL=skip for good measure).
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const status = await runInherit(npm, ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], {
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
  });
  if (status !== 0) {
    throw new SetupError(
      `npm ci failed (exit ${status}). If it says package.json and package-lock.json are out of sync, ` +
        'a dependency was added without updating the lock: see CONTRIBUTING.md, "Adding a dependency".',
    );
  }
  if (lockHash() !== hash) throw new SetupError('npm ci changed package-lock.json; please report this (see CONTRIBUTING.md)');
  writeStamp('lock', hash);
  log(`dependencies installed in ${formatDuration(Date.now() - t0)}`);
  return true;
}

// ---------------------------------------------------------------- native TensorFlow backend

/** The addon and the library it links exist (what provision.mjs leaves); loading is checked by provision itself. */
function nativeBackendInPlace() {
  const dir = path.join(root, 'node_modules', '@tensorflow', 'tfjs-node');
  try {
    const constants = fs.readFileSync(path.join(dir, 'scripts', 'deps-constants.js'), 'utf8');
    const libtf = /LIBTENSORFLOW_VERSION\s*=\s*'([^']+)'/.exec(constants)?.[1];
    if (!libtf || !fs.existsSync(path.join(dir, 'deps', 'lib', `libtensorflow.so.${libtf}`))) return false;
    return fs.readdirSync(path.join(dir, 'lib')).some((d) => fs.existsSync(path.join(dir, 'lib', d, 'tfjs_binding.node')));
  } catch {
    return false;
  }
}

/** `force`: run provision.mjs even when the stamp says done (it loads the backend to check it). */
async function ensureNativeBackend(force = false) {
  if (process.env.PRUNEKIT_BACKEND === 'cpu') return false;
  const hash = readStamps().lock;
  if (!force && readStamps().tfjs === hash && nativeBackendInPlace()) return false;
  const status = await runInherit(process.execPath, [path.join(root, 'tools', 'tfjs-native', 'provision.mjs')]);
  if (status !== 0) {
    if (inCi) throw new SetupError('the native TensorFlow backend could not be provisioned (see above)');
    log('continuing on the pure-JavaScript backend (much slower); see above for how to get the native one');
    return true;
  }
  writeStamp('tfjs', hash);
  return true;
}

// ---------------------------------------------------------------- build

/** Workspace projects by package name, with their folder and workspace dependencies. */
function workspaceProjects() {
  const projects = new Map();
  for (const group of ['packages', 'apps']) {
    const dir = path.join(root, group);
    if (!fs.existsSync(dir)) continue;
    for (const name of fs.readdirSync(dir)) {
      const pkgFile = path.join(dir, name, 'package.json');
      if (!fs.existsSync(pkgFile)) continue;
      const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8'));
      projects.set(pkg.name, { dir: path.join(dir, name), deps: Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies }) });
    }
  }
  return projects;
}

function listFiles(dir, out = []) {
  if (!fs.existsSync(dir)) return out;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) listFiles(p, out);
    else out.push(p);
  }
  return out;
}

/** Hash of everything a project's build reads (sources, manifests, configs) for it and its workspace dependencies. */
function buildInputsHash(projectName) {
  const projects = workspaceProjects();
  const seen = new Set();
  const visit = (name) => {
    if (seen.has(name) || !projects.has(name)) return;
    seen.add(name);
    for (const d of projects.get(name).deps) visit(d);
  };
  visit(projectName);
  const h = crypto.createHash('sha256');
  const files = [path.join(root, 'tsconfig.base.json'), path.join(root, 'package-lock.json')];
  for (const name of [...seen].sort()) {
    const { dir } = projects.get(name);
    files.push(...listFiles(path.join(dir, 'src')).sort());
    for (const f of fs.readdirSync(dir)) if (f === 'package.json' || /^tsconfig.*\.json$/.test(f)) files.push(path.join(dir, f));
  }
  for (const f of files) {
    h.update(path.relative(root, f));
    h.update(fs.existsSync(f) ? fs.readFileSync(f) : '');
  }
  const dists = [...seen].map((n) => path.join(projects.get(n).dir, 'dist'));
  return { hash: h.digest('hex'), distsPresent: dists.every((d) => fs.existsSync(d)) };
}

async function ensureBuilt(projectName) {
  const { hash, distsPresent } = buildInputsHash(projectName);
  const key = `build:${projectName}`;
  if (distsPresent && readStamps()[key] === hash) return false;
  const t0 = Date.now();
  log(`building ${projectName} and the packages it uses (Nx, cached; about 1 min the first time)`);
  const nx = path.join(root, 'node_modules', '.bin', 'nx');
  const status = await runInherit(nx, ['run', `${projectName}:build`, '--output-style=static']);
  if (status !== 0) throw new SetupError(`building ${projectName} failed (see above)`);
  writeStamp(key, hash);
  log(`built in ${formatDuration(Date.now() - t0)}`);
  return true;
}

// ---------------------------------------------------------------- test prerequisites

function sharedDir() {
  return process.env.PRUNEKIT_SHARED_DIR ?? path.resolve(root, '..', 'shared');
}

async function ensurePythonStack() {
  const venvPython = path.join(root, 'tools', '.venv', 'bin', 'python');
  const reqHash = sha256(fs.readFileSync(path.join(root, 'tools', 'python', 'requirements.txt')));
  if (fs.existsSync(venvPython) && readStamps().venv === reqHash) return { ok: true };
  const t0 = Date.now();
  log('setting up the Python reference stack in tools/.venv (bash tools/python/setup-venv.sh; a few minutes the first time)');
  const status = await runInherit('bash', [path.join(root, 'tools', 'python', 'setup-venv.sh')]);
  if (status !== 0) return { ok: false };
  writeStamp('venv', reqHash);
  log(`Python reference stack ready (${formatDuration(Date.now() - t0)})`);
  return { ok: true };
}

const CHROMIUM = '/usr/bin/chromium';
const REDIS = '/usr/bin/redis-server';

/** A Debian package that some tests need, installed when running as root with apt-get. */
function ensureDebianTool(binary, pkg, purpose) {
  if (fs.existsSync(binary)) return { ok: true };
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const hasApt = spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasApt) return { ok: false, why: isRoot ? 'no apt-get here' : 'not running as root' };
  const t0 = Date.now();
  log(`installing ${pkg} for ${purpose} (apt-get install -y ${pkg}; about a minute)`);
  const logFile = path.join(root, 'node_modules', '.cache', `prunekit-apt-${pkg}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const apt = (args) => {
    const r = spawnSync('apt-get', args, { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    fs.appendFileSync(logFile, `$ apt-get ${args.join(' ')}\n${r.stdout ?? ''}${r.stderr ?? ''}`);
    return r.status === 0;
  };
  // the package lists may be missing or stale on a fresh machine: refresh them only when needed
  if (!apt(['install', '-y', pkg]) && !(apt(['update']) && apt(['install', '-y', pkg]))) {
    return { ok: false, why: `apt-get failed (its output: ${path.relative(root, logFile)})` };
  }
  log(`${pkg} installed (${formatDuration(Date.now() - t0)})`);
  return { ok: fs.existsSync(binary), why: `${binary} still absent after apt-get` };
}

const ensureChromium = () => ensureDebianTool(CHROMIUM, 'chromium', 'the report rendering tests');
// the job-queue tests start their own redis-server on a free loopback port; it is only installed here
const ensureRedis = () => ensureDebianTool(REDIS, 'redis-server', 'the job-queue tests');

// ---------------------------------------------------------------- main jobs

async function setUp(force = false) {
  const changed = [await ensureDependencies(), await ensureNativeBackend(force)];
  return changed.some(Boolean);
}

async function start(args) {
  const setUpChanged = await setUp();
  const built = await ensureBuilt('@prunekit/cli');
  const didSetUp = setUpChanged || built;
  log(didSetUp ? `set-up done in ${formatDuration(Date.now() - started)}; running the demo` : `already set up (${formatDuration(Date.now() - started)}); running the demo`);
  return runInherit(process.execPath, [path.join(root, 'apps', 'cli', 'dist', 'main.js'), 'demo', ...args]);
}

async function test(args) {
  await setUp();
  checkLockComplete();
  const skipped = [];
  const available = [];
  const py = await ensurePythonStack();
  if (py.ok) available.push('python');
  else skipped.push(['the Python round-trip tests (tools/.venv could not be set up; see above)', 'bash tools/python/setup-venv.sh']);
  const chromium = ensureChromium();
  if (chromium.ok) available.push('chromium');
  else skipped.push([`the report rendering tests (Chromium is absent: ${chromium.why})`, 'sudo apt-get install -y chromium']);
  const redis = ensureRedis();
  if (redis.ok) available.push('redis');
  else skipped.push([`the job-queue tests (redis-server is absent: ${redis.why})`, 'sudo apt-get install -y redis-server']);
  if (fs.existsSync(sharedDir())) available.push('shared');
  else skipped.push([`the tests on the shared models and datasets (${sharedDir()} is absent)`, 'put the shared folder there, or set PRUNEKIT_SHARED_DIR']);
  if (inCi && skipped.length > 0) {
    throw new SetupError(`CI=true, so nothing may skip, but ${skipped.map(([what]) => what).join('; ')}`);
  }
  log(`set-up done in ${formatDuration(Date.now() - started)}; running every project's tests`);
  const nx = path.join(root, 'node_modules', '.bin', 'nx');
  const env = {
    ...process.env,
    // the skip lines below replace the per-test ones; the cache key follows what is available
    PRUNEKIT_QUIET_SKIPS: '1',
    PRUNEKIT_TEST_PREREQS: available.join(','),
  };
  for (const f of listReports()) fs.rmSync(f, { force: true });
  const status = await runInherit(nx, ['run-many', '-t', 'test', '--output-style=static', ...args], { env });
  for (const [what, command] of skipped) console.log(`skipped ${what}; to run them: ${command}`);
  const summary = await runInherit(process.execPath, [path.join(root, 'tools', 'ci', 'test-summary.mjs')]);
  return status !== 0 ? status : summary;
}

function listReports() {
  return ['packages', 'apps'].flatMap((g) => {
    const dir = path.join(root, g);
    return fs.existsSync(dir) ? fs.readdirSync(dir).map((n) => path.join(dir, n, 'test-report.json')) : [];
  });
}

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'start') return start(args);
  if (mode === 'test') return test(args);
  if (mode === 'setup') {
    await setUp(true);
    log(`set-up done in ${formatDuration(Date.now() - started)}`);
    return 0;
  }
  throw new SetupError(`usage: node tools/setup/run.mjs start|test|setup [args...] (got "${mode ?? ''}")`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = await main();
  } catch (err) {
    if (!(err instanceof SetupError)) throw err;
    console.error(`[setup] error: ${err.message}`);
    process.exitCode = 1;
  }
}
