/**
 * The SessionLink adapters against one contract: the in-process link (embedded) and the Redis
 * request/reply link (scale-out, real Redis). The host on the far end is a small in-test host that
 * keeps files in memory and echoes execs, so what is checked is the relay: bytes exact (64 MiB),
 * streamed output ahead of the result, the host's errors with their codes, and bounded failure
 * when no host listens or a host falls silent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { CrucibleError, conflict } from '../../src/domain/errors.js';
import type { ExecRequest, ExecResult, Session } from '../../src/domain/session.js';
import { createLocalSessionLink } from '../../src/events/local-session-link.js';
import { createRedisSessionLink } from '../../src/events/redis-session-link.js';
import type { OutputListener, SessionHostOps, SessionLink } from '../../src/ports/session-link.js';
import { deleteKeys, REDIS_URL, testPrefix } from '../queue/redis-helpers.js';

/** Files in memory; an exec writes each argv word as an output chunk, then answers with the stdin it got. */
class EchoHost implements SessionHostOps {
  readonly files = new Map<string, Buffer>();
  readonly started: string[] = [];
  hang = false;
  async start(session: Session) {
    this.started.push(session.id);
  }
  async exec(_id: string, request: ExecRequest, onOutput?: OutputListener): Promise<ExecResult> {
    if (this.hang) await new Promise(() => undefined);
    for (const word of request.cmd ?? []) onOutput?.('stdout', Buffer.from(word));
    const stdin = Buffer.from(request.stdin_base64 ?? '', 'base64');
    return {
      exit_code: 0,
      signal: null,
      reason: 'completed',
      message: 'the command completed',
      stdout_base64: stdin.toString('base64'),
      stderr_base64: '',
      stdout_truncated: false,
      stderr_truncated: false,
      metrics: { wall_ms: 1 },
    };
  }
  async writeFile(_id: string, path: string, content: Buffer) {
    this.files.set(path, Buffer.from(content));
    return { path, size: content.length, sha256: createHash('sha256').update(content).digest('hex') };
  }
  async readFile(_id: string, path: string) {
    const content = this.files.get(path);
    if (!content) throw new CrucibleError('file_not_found', `${path} does not exist`);
    return { content, size: content.length, sha256: createHash('sha256').update(content).digest('hex') };
  }
  async end(id: string) {
    if (!this.started.includes(id)) throw conflict('session_ended', `session ${id} has ended`);
  }
}

const execRequest = (cmd: string[], stdin: Buffer) =>
  ({ cmd, stdin_base64: stdin.toString('base64'), env: {}, timeout_s: 10, output_encoding: 'base64', max_output_bytes: 1024 }) as unknown as ExecRequest;

function contract(name: string, makeLinks: () => { client: SessionLink; server: SessionLink }) {
  describe(name, () => {
    const { client, server } = makeLinks();
    const host = new EchoHost();
    afterAll(async () => {
      await client.close();
      await server.close();
    });

    it('relays every operation to the host serving that id, bytes exact', async () => {
      await server.serve('worker-a', host);
      await client.start('worker-a', { id: 'ses_1' } as Session);
      expect(host.started).toEqual(['ses_1']);

      const content = randomBytes(64 * 1024 * 1024);
      const written = await client.writeFile('worker-a', 'ses_1', 'big.bin', content);
      expect(written.sha256).toBe(createHash('sha256').update(content).digest('hex'));
      const read = await client.readFile('worker-a', 'ses_1', 'big.bin');
      expect(read.size).toBe(content.length);
      expect(read.content.equals(content)).toBe(true);

      const chunks: string[] = [];
      const stdin = Buffer.from([0, 255, 10, 13]);
      const result = await client.exec('worker-a', 'ses_1', execRequest(['one', 'two', 'three'], stdin), (_stream, bytes) => chunks.push(bytes.toString()));
      // Every output chunk arrived, in order, before the answer did.
      expect(chunks).toEqual(['one', 'two', 'three']);
      expect(Buffer.from(result.stdout_base64!, 'base64')).toEqual(stdin);
    }, 60_000);

    it("passes the host's errors on with their codes, and fails at once for a host nobody serves", async () => {
      const missing = await client.readFile('worker-a', 'ses_1', 'nope').catch((err: unknown) => err);
      expect(missing).toBeInstanceOf(CrucibleError);
      expect((missing as CrucibleError).code).toBe('file_not_found');
      const ended = await client.end('worker-a', 'ses_other', 'deleted', 'by test').catch((err: unknown) => err);
      expect((ended as CrucibleError).code).toBe('session_ended');

      const unserved = await client.exec('worker-gone', 'ses_1', execRequest(['x'], Buffer.alloc(0))).catch((err: unknown) => err);
      expect((unserved as CrucibleError).code).toBe('session_unavailable');
      expect((unserved as CrucibleError).httpStatus).toBe(503);
    });
  });
}

contract('in-process session link', () => {
  const link = createLocalSessionLink();
  return { client: link, server: link };
});

const prefix = testPrefix();
afterAll(() => deleteKeys(prefix));
contract('Redis session link', () => ({
  client: createRedisSessionLink({ url: REDIS_URL, prefix }),
  server: createRedisSessionLink({ url: REDIS_URL, prefix }),
}));

describe('Redis session link: a host that falls silent', () => {
  it('a request in progress fails with session_unavailable once nothing came for silenceMs, while keepalives keep a slow one going', async () => {
    const client = createRedisSessionLink({ url: REDIS_URL, prefix, silenceMs: 1500 });
    const server = createRedisSessionLink({ url: REDIS_URL, prefix, keepaliveMs: 200 });
    const host = new EchoHost();
    try {
      await server.serve('worker-slow', host);
      host.hang = true;
      // The host is alive (keepalives) but the exec never ends: the link does not cut it short.
      const pending = client.exec('worker-slow', 'ses_1', execRequest([], Buffer.alloc(0))).catch((err: unknown) => err);
      const early = await Promise.race([pending, new Promise((r) => setTimeout(() => r('still waiting'), 3000))]);
      expect(early).toBe('still waiting');
      // The host's process goes away (its connections close, as when it is killed).
      await server.close();
      const failed = (await pending) as CrucibleError;
      expect(failed.code).toBe('session_unavailable');
      expect(failed.message).toMatch(/worker-slow/);
    } finally {
      await client.close();
      await server.close();
    }
  }, 30_000);
});
