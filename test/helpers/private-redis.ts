/**
 * A private redis-server for outage tests: a free loopback port, its own directory, nothing kept on
 * disk (like the machine's Redis), killed by its PID (SIGKILL: everything in it is lost) and
 * started again, empty, on the same port. The shared Redis on 6379 is never touched, so other
 * tests running meanwhile are not disturbed.
 */
import { restartableServer, type RestartableServer } from './processes.js';
import { freePort, tempDir } from './server.js';

export interface PrivateRedis extends RestartableServer {
  url: string;
  port: number;
}

export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const dir = tempDir('crucible-redis-');
  const server = await restartableServer({
    argv: ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    ready: /Ready to accept connections/,
    killSignal: 'SIGKILL',
    dir,
  });
  return Object.assign(server, { url: `redis://127.0.0.1:${port}`, port });
}
