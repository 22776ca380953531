/**
 * SessionLink over Redis (scale-out): an API instance relays a session's requests to the worker
 * holding it, and the worker's answers back, without any network service on the workers.
 *
 * - Each host listens on its own request channel (`channels.sessionHost(id)`); each link has one
 *   reply channel. A request carries a correlation id and the reply channel; every answer for
 *   it carries the correlation id.
 * - Messages are binary frames: a 4-byte header length, a JSON header, then raw bytes (a file's
 *   content, an output chunk), so bytes arrive exactly, never re-encoded. A frame larger than
 *   `inlineBytes` is parked in a short-lived key and the message only names it: pub/sub delivers
 *   a message whole into the subscriber's output buffer, which Redis caps (32 MB by default) and
 *   would disconnect a subscriber for, so megabytes never travel through pub/sub itself.
 * - Bounded waits: a request nobody subscribes to fails at once (PUBLISH counts receivers); while
 *   a host works on a request it sends `alive` every `keepaliveMs`, and a request that hears
 *   nothing for `silenceMs` fails. A killed worker is thus noticed within `silenceMs` even mid-exec,
 *   and a long exec on a live worker is never cut short by the link.
 * - Order: everything one process publishes goes through one connection in call order, and
 *   received frames are handled one after the other, so an exec's output precedes its result.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { CrucibleError, unavailable } from '../domain/errors.js';
import type { ErrorCode } from '../domain/error-codes.js';
import type { ExecRequest, ExecResult, FileWritten, Session, SessionEndReason } from '../domain/session.js';
import { channels } from '../ports/bus.js';
import type { FileRead, OutputListener, ServedHost, SessionHostOps, SessionLink } from '../ports/session-link.js';

export interface RedisSessionLinkOptions {
  url: string;
  /** Channel and key prefix: isolates deployments sharing one Redis. */
  prefix?: string;
  /** A host sends `alive` this often while it works on a request. */
  keepaliveMs?: number;
  /** A request that hears nothing from its host for this long fails with session_unavailable. */
  silenceMs?: number;
  /** Frames above this size go through a key instead of the pub/sub message. */
  inlineBytes?: number;
  /** Connection errors and failures to answer (default: process warning). */
  onError?: (err: unknown) => void;
}

type Op = 'start' | 'exec' | 'writeFile' | 'readFile' | 'end';

interface RequestHeader {
  kind: 'request';
  corr: string;
  reply: string;
  op: Op;
  args: Record<string, unknown>;
}

type ReplyHeader =
  | { kind: 'alive'; corr: string }
  | { kind: 'output'; corr: string; stream: 'stdout' | 'stderr' }
  | { kind: 'result'; corr: string; value: unknown }
  | { kind: 'error'; corr: string; code: string | null; message: string; retryAfterS?: number };

/** Every argument any op takes (each op reads its own). */
interface RequestArgs {
  session: Session;
  id: string;
  request: ExecRequest;
  stream: boolean;
  path: string;
  /** readFile's bound (absent: the host's own). */
  maxBytes?: number;
  reason: SessionEndReason;
  message: string;
}

/** Names a parked frame, and says whom it is for, so the wait can be acknowledged before the fetch. */
interface ParkedHeader {
  kind: 'parked';
  key: string;
  corr: string;
  /** On a parked request: where its answers go. */
  reply?: string;
}

type Header = RequestHeader | ReplyHeader | ParkedHeader;

interface Listener {
  onFrame(frame: Frame): void;
  /** A large frame for `corr` is on its way (it is fetched next). */
  onParked(header: ParkedHeader): void;
}

interface Frame {
  header: Header;
  body: Buffer;
}

function encode(header: Header, body: Buffer = Buffer.alloc(0)): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([length, json, body]);
}

function decode(frame: Buffer): Frame {
  const length = frame.readUInt32BE(0);
  return { header: JSON.parse(frame.subarray(4, 4 + length).toString('utf8')) as Header, body: frame.subarray(4 + length) };
}

interface Pending {
  host: string;
  resolve: (frame: { value: unknown; body: Buffer }) => void;
  reject: (err: Error) => void;
  onOutput?: OutputListener;
  timer: NodeJS.Timeout;
}

export function createRedisSessionLink(options: RedisSessionLinkOptions): SessionLink {
  return new RedisSessionLink(options);
}

class RedisSessionLink implements SessionLink {
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly prefix: string;
  private readonly keepaliveMs: number;
  private readonly silenceMs: number;
  private readonly inlineBytes: number;
  private readonly onError: (err: unknown) => void;
  private readonly replyChannel: string;
  private readonly pending = new Map<string, Pending>();
  /** Subscribed channel → what to do with the frames on it. */
  private readonly handlers = new Map<string, Listener>();
  private replySubscribed: Promise<void> | null = null;
  /** Received frames, handled in arrival order (a parked frame is fetched before the next one is handled). */
  private inbox: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(options: RedisSessionLinkOptions) {
    this.prefix = options.prefix ? `${options.prefix}:` : '';
    this.keepaliveMs = options.keepaliveMs ?? 2000;
    this.silenceMs = options.silenceMs ?? 10_000;
    this.inlineBytes = options.inlineBytes ?? 256 * 1024;
    const report = options.onError ?? ((err) => process.emitWarning(`redis session link: ${String(err)}`));
    // After close, answers still in progress fail on the closed connections: expected, not reported.
    this.onError = (err) => {
      if (!this.closed) report(err);
    };
    this.replyChannel = this.prefix + channels.sessionReply(randomBytes(8).toString('hex'));
    // Named after their role and the deployment's namespace, like the queue's and the rate limiter's.
    const name = `crucible-sessions${options.prefix ? `-${options.prefix}` : ''}`;
    this.commands = new Redis(options.url, { connectionName: name, maxRetriesPerRequest: 1, connectTimeout: this.silenceMs });
    // Handlers are the truth for what to listen to: resubscribed by hand after a reconnect.
    this.subscriber = new Redis(options.url, { connectionName: `${name}-sub`, autoResubscribe: false, maxRetriesPerRequest: null });
    this.commands.on('error', this.onError);
    this.subscriber.on('error', this.onError);
    this.subscriber.on('ready', () => {
      const subscribed = [...this.handlers.keys()];
      if (subscribed.length > 0) this.subscriber.subscribe(...subscribed).catch(this.onError);
    });
    this.subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => this.receive(channel.toString('utf8'), message));
  }

  // The client side: one request, its answers, bounded by silence.

  async start(host: string, session: Session): Promise<void> {
    await this.request(host, 'start', { session });
  }

  async exec(host: string, id: string, request: ExecRequest, onOutput?: OutputListener): Promise<ExecResult> {
    const { value } = await this.request(host, 'exec', { id, request, stream: onOutput !== undefined }, undefined, onOutput);
    return value as ExecResult;
  }

  async writeFile(host: string, id: string, path: string, content: Buffer): Promise<FileWritten> {
    const { value } = await this.request(host, 'writeFile', { id, path }, content);
    return value as FileWritten;
  }

  async readFile(host: string, id: string, path: string, maxBytes?: number): Promise<FileRead> {
    const { value, body } = await this.request(host, 'readFile', { id, path, maxBytes });
    const meta = value as { size: number; sha256: string };
    return { content: body, size: meta.size, sha256: meta.sha256 };
  }

  async end(host: string, id: string, reason: SessionEndReason, message: string): Promise<void> {
    await this.request(host, 'end', { id, reason, message });
  }

  private async request(
    host: string,
    op: Op,
    args: Record<string, unknown>,
    body?: Buffer,
    onOutput?: OutputListener,
  ): Promise<{ value: unknown; body: Buffer }> {
    if (this.closed) throw unavailable('session_unavailable', 'this process is shutting down');
    await this.listenForReplies();
    const corr = randomBytes(12).toString('hex');
    const unreachable = (why: string) =>
      unavailable(
        'session_unavailable',
        `the worker holding the session (${host}) ${why}; if it stopped, the session ends as worker_lost once its heartbeat expires`,
      );
    const answered = new Promise<{ value: unknown; body: Buffer }>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(corr)?.reject(unreachable(`sent nothing for ${this.silenceMs / 1000} s`)), this.silenceMs);
      this.pending.set(corr, { host, resolve, reject, onOutput, timer });
    });
    let receivers: number;
    try {
      const request = encode({ kind: 'request', corr, reply: this.replyChannel, op, args }, body);
      receivers = await this.send(this.prefix + channels.sessionHost(host), request, corr, this.replyChannel);
      // The silence is counted from delivery: uploading a large request is not the host's silence.
      this.pending.get(corr)?.timer.refresh();
    } catch (err) {
      this.settle(corr);
      throw unreachable(`could not be reached through Redis (${(err as Error).message})`);
    }
    if (receivers === 0) {
      this.settle(corr);
      throw unreachable('is not listening');
    }
    return answered;
  }

  private settle(corr: string): Pending | undefined {
    const pending = this.pending.get(corr);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.pending.delete(corr);
    return pending;
  }

  private onReply(frame: Frame): void {
    const header = frame.header as ReplyHeader;
    const pending = this.pending.get(header.corr);
    if (!pending) return; // timed out already, or another link's stale answer
    if (header.kind === 'alive' || header.kind === 'output') {
      pending.timer.refresh();
      if (header.kind === 'output') pending.onOutput?.(header.stream, frame.body);
      return;
    }
    this.settle(header.corr);
    if (header.kind === 'result') pending.resolve({ value: header.value, body: frame.body });
    else pending.reject(header.code ? new CrucibleError(header.code as ErrorCode, header.message, undefined, header.retryAfterS) : new Error(header.message));
  }

  private listenForReplies(): Promise<void> {
    const listener: Listener = {
      onFrame: (frame) => this.onReply(frame),
      // A large answer is coming: the host has spoken, the fetch is ours.
      onParked: (header) => this.pending.get(header.corr)?.timer.refresh(),
    };
    this.replySubscribed ??= this.listen(this.replyChannel, listener).catch((err: unknown) => {
      this.replySubscribed = null;
      throw unavailable('session_unavailable', `cannot listen for session replies on Redis: ${(err as Error).message}`);
    });
    return this.replySubscribed;
  }

  // The host side: requests in, answers out, `alive` while working.

  async serve(hostId: string, ops: SessionHostOps): Promise<ServedHost> {
    const channel = this.prefix + channels.sessionHost(hostId);
    await this.listen(channel, {
      onFrame: (frame) => void this.answer(ops, frame),
      // Acknowledged at once, so the requester keeps waiting while the large request is fetched.
      onParked: (header) => {
        if (header.reply) void this.send(header.reply, encode({ kind: 'alive', corr: header.corr }), header.corr).catch(this.onError);
      },
    });
    return {
      close: async () => {
        this.handlers.delete(channel);
        if (this.subscriber.status === 'ready') await this.subscriber.unsubscribe(channel).catch(this.onError);
      },
    };
  }

  private async answer(ops: SessionHostOps, frame: Frame): Promise<void> {
    const { corr, reply, op, args } = frame.header as RequestHeader;
    // Kept up until the answer is out: uploading a large one is still this host speaking.
    const keepalive = setInterval(() => void this.send(reply, encode({ kind: 'alive', corr }), corr).catch(this.onError), this.keepaliveMs);
    try {
      const { value, body } = await this.perform(ops, op, args, frame.body, (stream, bytes) => {
        void this.send(reply, encode({ kind: 'output', corr, stream }, bytes), corr).catch(this.onError);
      });
      await this.send(reply, encode({ kind: 'result', corr, value: value ?? null }, body), corr);
    } catch (err) {
      const header: ReplyHeader =
        err instanceof CrucibleError
          ? { kind: 'error', corr, code: err.code, message: err.message, ...(err.retryAfterS !== undefined ? { retryAfterS: err.retryAfterS } : {}) }
          : { kind: 'error', corr, code: null, message: (err as Error).message };
      await this.send(reply, encode(header), corr).catch(this.onError);
    } finally {
      clearInterval(keepalive);
    }
  }

  private async perform(
    ops: SessionHostOps,
    op: Op,
    args: Record<string, unknown>,
    body: Buffer,
    onOutput: OutputListener,
  ): Promise<{ value?: unknown; body?: Buffer }> {
    // Written by request() on the other side for this very op.
    const a = args as unknown as RequestArgs;
    switch (op) {
      case 'start':
        return { value: await ops.start(a.session) };
      case 'exec':
        return { value: await ops.exec(a.id, a.request, a.stream ? onOutput : undefined) };
      case 'writeFile':
        return { value: await ops.writeFile(a.id, a.path, body) };
      case 'readFile': {
        const file = await ops.readFile(a.id, a.path, a.maxBytes);
        return { value: { size: file.size, sha256: file.sha256 }, body: file.content };
      }
      case 'end':
        return { value: await ops.end(a.id, a.reason, a.message) };
    }
  }

  // Frames on the wire.

  /**
   * Publishes a frame (parked in a key when large); resolves with the number of receivers. The
   * commands are issued together, so frames leave in the order send() was called.
   */
  private async send(channel: string, frame: Buffer, corr: string, reply?: string): Promise<number> {
    if (frame.length <= this.inlineBytes) return this.commands.publish(channel, frame);
    const key = `${this.prefix}crucible:session-frame:${randomBytes(12).toString('hex')}`;
    const [, receivers] = await Promise.all([
      this.commands.set(key, frame, 'PX', Math.max(60_000, 4 * this.silenceMs)),
      this.commands.publish(channel, encode({ kind: 'parked', key, corr, ...(reply ? { reply } : {}) })),
    ]);
    if (receivers === 0) await this.commands.del(key).catch(this.onError);
    return receivers;
  }

  private async listen(channel: string, listener: Listener): Promise<void> {
    this.handlers.set(channel, listener);
    try {
      await this.subscriber.subscribe(channel);
    } catch (err) {
      this.handlers.delete(channel);
      throw err;
    }
  }

  private receive(channel: string, message: Buffer): void {
    const listener = this.handlers.get(channel);
    if (!listener) return;
    this.inbox = this.inbox.then(async () => {
      try {
        let frame = decode(message);
        if (frame.header.kind === 'parked') {
          listener.onParked(frame.header);
          const parked = await this.commands.getdelBuffer(frame.header.key);
          if (!parked) throw new Error(`a parked session frame (${frame.header.key}) had expired`);
          frame = decode(parked);
        }
        listener.onFrame(frame);
      } catch (err) {
        this.onError(err);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const corr of [...this.pending.keys()]) this.settle(corr)?.reject(unavailable('session_unavailable', 'this process is shutting down'));
    this.handlers.clear();
    this.subscriber.disconnect();
    this.commands.disconnect();
  }
}
