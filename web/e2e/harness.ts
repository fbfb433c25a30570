// The e2e harness: builds the real server (with the freshly built UI embedded) and
// agent, gives the server a fresh PostgreSQL database, starts it on a free loopback
// port, and runs real agents with real restic. Only processes started here are
// stopped here, by their pid.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import path from 'node:path';
import pg from 'pg';

export const repoRoot = path.resolve(import.meta.dirname, '..', '..');

export const ADMIN = { email: 'admin@example.com', password: 'e2e-admin-password-1' };
export const VIEWER = { email: 'viewer@example.com', password: 'e2e-viewer-password-1' };

export function goBin(): string {
  for (const p of (process.env.PATH ?? '').split(':')) {
    if (p && existsSync(path.join(p, 'go'))) return path.join(p, 'go');
  }
  return '/usr/local/go/bin/go';
}

/** Builds a main package of the module into dir; undefined when it does not build (yet). */
export function buildGo(pkg: string, out: string, required: boolean): string | undefined {
  const r = spawnSync(goBin(), ['build', '-o', out, pkg], { cwd: repoRoot, encoding: 'utf8', env: { ...process.env, CGO_ENABLED: '0' } });
  if (r.status !== 0) {
    const msg = `go build ${pkg} failed:\n${r.stderr}`;
    if (required) throw new Error(msg);
    console.warn(`[e2e] ${msg}`);
    return undefined;
  }
  return out;
}

export function resticBin(): string | undefined {
  if (process.env.RESTIC_018 && existsSync(process.env.RESTIC_018)) return process.env.RESTIC_018;
  for (const p of (process.env.PATH ?? '').split(':')) {
    if (p && existsSync(path.join(p, 'restic'))) return path.join(p, 'restic');
  }
  return undefined;
}

const defaultPG = 'postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable';

export async function createDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = process.env.TEST_DATABASE_URL || defaultPG;
  const name = `rm_e2e_${process.pid}_${Date.now().toString(36)}`;
  const c = new pg.Client({ connectionString: admin });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(admin);
  u.pathname = '/' + name;
  return {
    url: u.toString(),
    drop: async () => {
      const d = new pg.Client({ connectionString: admin });
      await d.connect();
      try {
        await d.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await d.end();
      }
    },
  };
}

export async function stopProcess(p: ChildProcess | undefined, graceMs = 8000): Promise<void> {
  if (!p || p.exitCode !== null || p.signalCode !== null || !p.pid) return;
  const done = new Promise<void>((res) => p.once('exit', () => res()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await done;
  clearTimeout(timer);
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export type Server = { url: string; process: ChildProcess; logFile: string };

export async function startServer(bin: string, work: string, databaseURL: string): Promise<Server> {
  const addrFile = path.join(work, 'server.addr');
  const logFile = path.join(work, 'server.log');
  const log = createWriteStream(logFile);
  const p = spawn(
    bin,
    [
      'serve',
      '-listen', '127.0.0.1:0',
      '-addr-file', addrFile,
      '-database-url', databaseURL,
      '-data-dir', path.join(work, 'server-data'),
      '-last-seen-flush', '1s',
      // Evaluate backup objectives every second, so an objective override opens an alert at once.
      '-health-interval', '1s',
    ],
    {
      cwd: work,
      env: { ...process.env, RM_ADMIN_EMAIL: ADMIN.email, RM_ADMIN_PASSWORD: ADMIN.password, RM_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  p.stdout?.pipe(log);
  p.stderr?.pipe(log);
  let exited = false;
  p.once('exit', () => (exited = true));
  const addr = await waitFor(
    'the server address file',
    () => {
      if (exited) throw new Error('server exited');
      const s = existsSync(addrFile) ? readFileSync(addrFile, 'utf8').trim() : '';
      return s || undefined;
    },
    60_000,
  ).catch((e) => {
    throw new Error(`${e.message}; server log:\n${readFileSync(logFile, 'utf8').slice(-4000)}`);
  });
  const url = addr.startsWith('http') ? addr : `http://${addr}`;
  await waitFor('the server to answer', async () => ((await fetch(`${url}/api/v1/info`)).ok ? true : undefined), 30_000);
  return { url, process: p, logFile };
}

/** A real agent on this machine: enrol it with a token, then run it. */
export class Agent {
  readonly dir: string;
  process?: ChildProcess;
  constructor(
    readonly bin: string,
    readonly restic: string,
    work: string,
    readonly name: string,
  ) {
    this.dir = path.join(work, `agent-${name}`);
    mkdirSync(this.dir, { recursive: true });
  }
  get config() {
    return path.join(this.dir, 'agent.yaml');
  }
  enroll(server: string, token: string): string {
    const r = spawnSync(
      this.bin,
      ['enroll', '--server', server, '--token', token, '--config', this.config, '--state-dir', path.join(this.dir, 'state'), '--restic', this.restic],
      { encoding: 'utf8', env: { ...process.env, HOME: this.dir, XDG_CACHE_HOME: path.join(this.dir, 'cache') } },
    );
    if (r.status !== 0) throw new Error(`agent enroll failed (${r.status}): ${r.stdout}\n${r.stderr}`);
    return r.stdout + r.stderr;
  }
  start() {
    // The log goes straight to a file (not through this process), so the agent outlives the
    // spec file that started it: later specs use the same host. The global teardown stops it.
    const log = openSync(path.join(this.dir, 'agent.log'), 'a');
    this.process = spawn(this.bin, ['run', '--config', this.config, '--log-format', 'text'], {
      env: { ...process.env, HOME: this.dir, XDG_CACHE_HOME: path.join(this.dir, 'cache') },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    writeFileSync(path.join(this.dir, 'agent.pid'), String(this.process.pid));
  }
  stop() {
    return stopProcess(this.process);
  }
}

export function sourcesOf(work: string) {
  const small = path.join(work, 'data', 'small');
  return { small, big: path.join(work, 'data', 'big'), repo: path.join(work, 'repo'), blob: path.join(small, 'blob.bin') };
}

/** Files to back up: a small nested tree with a binary file, and a huge sparse file that makes a backup slow. */
export function makeSources(work: string) {
  const s = sourcesOf(work);
  mkdirSync(path.join(s.small, 'etc', 'app', 'conf.d'), { recursive: true });
  for (let i = 0; i < 40; i++) {
    writeFileSync(path.join(s.small, 'etc', `file-${i}.conf`), `setting_${i} = ${'x'.repeat(200 + i * 37)}\n`.repeat(50));
  }
  writeFileSync(path.join(s.small, 'etc', 'app', 'app.conf'), 'listen = 127.0.0.1:8080\n');
  writeFileSync(path.join(s.small, 'etc', 'app', 'conf.d', 'deep.conf'), 'deep = true\n'.repeat(100));
  // Bytes of every value, pseudo-random but the same each run.
  const blob = Buffer.alloc(300 * 1024);
  let x = 2463534242;
  for (let i = 0; i < blob.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    blob[i] = x & 0xff;
  }
  writeFileSync(s.blob, blob);
  mkdirSync(s.big, { recursive: true });
  const sparse = path.join(s.big, 'disk.img');
  if (!existsSync(sparse)) spawnSync('truncate', ['-s', '40G', sparse]);
  return s;
}

/** Changes health.spec.ts makes before the second backup, which compare.spec.ts then finds. */
export function sourceChanges(work: string) {
  const s = sourcesOf(work);
  return {
    changed: path.join(s.small, 'etc', 'app', 'app.conf'),
    added: path.join(s.small, 'new.txt'),
    removed: path.join(s.small, 'etc', 'file-0.conf'),
  };
}

export function changeSources(work: string) {
  const c = sourceChanges(work);
  writeFileSync(c.changed, 'listen = 0.0.0.0:9090\n');
  writeFileSync(c.added, 'new\n');
  rmSync(c.removed, { force: true });
  return c;
}

/** What one spec file learnt and the next ones need (they share one server and agent). */
export type SharedState = { hostURL?: string; hostId?: string };

export function saveState(work: string, st: SharedState) {
  writeFileSync(path.join(work, 'e2e-state.json'), JSON.stringify({ ...loadState(work), ...st }));
}

export function loadState(work: string): SharedState {
  const f = path.join(work, 'e2e-state.json');
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as SharedState) : {};
}

/** Stops agents whose pid files are in work (those a crashed worker left running). */
export function stopLeftoverAgents(work: string) {
  for (const d of existsSync(work) ? readdirSync(work) : []) {
    const f = path.join(work, d, 'agent.pid');
    if (!d.startsWith('agent-') || !existsSync(f)) continue;
    const pid = Number(readFileSync(f, 'utf8'));
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
}
