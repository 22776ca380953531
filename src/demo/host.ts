/**
 * The host side of the demo: a TCP listener an exfiltration attempt would reach, a sentinel
 * process a process-escape attempt would kill, and a scan for processes that outlived their run.
 * These turn "the attack printed an error" into "and nothing happened on the host either".
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import type { DemoHost, HostObservations } from './types.js';

export class HostProbes {
  private connections = 0;
  private constructor(
    readonly host: DemoHost,
    private readonly listener: net.Server,
    private readonly sentinel: ChildProcess,
  ) {
    listener.on('connection', (socket) => {
      this.connections++;
      socket.destroy();
    });
  }

  static async open(dataDir: string, canaryEnv: string): Promise<HostProbes> {
    const listener = net.createServer();
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(0, '127.0.0.1', () => resolve());
    });
    // A harmless long sleep whose only job is to be a host process that must survive the demo.
    const sentinel = spawn('/usr/bin/sleep', ['600'], { stdio: 'ignore' });
    const host: DemoHost = {
      listenerPort: (listener.address() as net.AddressInfo).port,
      sentinelPid: sentinel.pid ?? -1,
      dataDir,
      canaryEnv,
      nonce: randomBytes(6).toString('hex'),
    };
    return new HostProbes(host, listener, sentinel);
  }

  async observe(serverUrl: string): Promise<HostObservations> {
    return {
      listenerConnections: this.connections,
      leftoverProcesses: processesWithMarker(this.host.nonce),
      sentinelAlive: this.sentinel.exitCode === null && this.sentinel.signalCode === null && isAlive(this.host.sentinelPid),
      serverHealthy: await fetch(new URL('/healthz', serverUrl)).then(
        (r) => r.ok,
        () => false,
      ),
    };
  }

  async close(): Promise<void> {
    if (this.sentinel.exitCode === null && this.sentinel.signalCode === null) this.sentinel.kill('SIGKILL');
    await new Promise<void>((resolve) => this.listener.close(() => resolve()));
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Host processes whose command line contains `marker` (only this run's programs put it there). */
function processesWithMarker(marker: string): number {
  let count = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${pid}/cmdline`).includes(marker)) count++;
    } catch {
      // the process ended while we looked
    }
  }
  return count;
}
