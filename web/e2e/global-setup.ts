// Starts the stack the e2e tests drive: a fresh PostgreSQL database, the real server
// (UI embedded), and tells the tests where the agent binary and restic are.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildGo, createDatabase, resticBin, startServer, stopLeftoverAgents, stopProcess } from './harness';

export default async function globalSetup() {
  const work = mkdtempSync(path.join(os.tmpdir(), 'rm-e2e-'));
  const t0 = Date.now();
  const server = buildGo('./server', path.join(work, 'restic-manager-server'), true)!;
  const agent = buildGo('./agent', path.join(work, 'restic-manager-agent'), false);
  console.log(`[e2e] built in ${((Date.now() - t0) / 1000).toFixed(1)}s; work dir ${work}`);
  const db = await createDatabase();
  const srv = await startServer(server, work, db.url);
  console.log(`[e2e] server at ${srv.url}`);
  process.env.RM_E2E_BASE_URL = srv.url;
  process.env.RM_E2E_WORK = work;
  process.env.RM_E2E_AGENT = agent ?? '';
  process.env.RM_E2E_RESTIC = resticBin() ?? '';
  return async () => {
    stopLeftoverAgents(work);
    await stopProcess(srv.process);
    await db.drop().catch((e) => console.warn(`[e2e] drop database: ${e}`));
    if (!process.env.RM_E2E_KEEP) rmSync(work, { recursive: true, force: true });
    else console.log(`[e2e] kept ${work}`);
  };
}
