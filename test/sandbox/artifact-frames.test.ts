/**
 * The server's side of the artifact collection, fed frames as a misbehaving collector could send
 * them: nothing beyond the run's limits is kept, no path leaves the output folder, and a record
 * split across reads arrives whole.
 */
import { describe, expect, it } from 'vitest';
import { ArtifactReceiver } from '../../src/sandbox/run/artifact-receiver.js';
import { StatusChannel } from '../../src/sandbox/run/status-channel.js';

function channel(limits = { max_artifacts: 2, max_artifact_bytes: 10 }) {
  const status = new StatusChannel();
  const receiver = new ArtifactReceiver(limits);
  status.receiver = receiver;
  status.push(Buffer.from('ready\nstarted\nexit 0\n'));
  return { status, receiver };
}

const artifact = (path: string, content: string) =>
  Buffer.concat([Buffer.from(`artifact ${Buffer.byteLength(path)} ${Buffer.byteLength(content)}\n${path}`), Buffer.from(content)]);

describe('artifact frames on the status channel', () => {
  it('receives artifacts and drops, split at any byte, with hash and type', () => {
    const { status, receiver } = channel();
    const stream = Buffer.concat([artifact('a/b.txt', 'hello'), Buffer.from('drop max_artifacts 5 7\nc.txt'), Buffer.from('collected 3\n')]);
    for (const byte of stream) status.push(Buffer.from([byte]));
    const result = receiver.result();
    expect(result.items).toHaveLength(1);
    expect(result.items[0]).toMatchObject({ path: 'a/b.txt', size_bytes: 5, content_type: 'text/plain; charset=utf-8' });
    expect(result.items[0]!.sha256).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
    expect(result.dropped).toEqual([{ path: 'c.txt', size_bytes: 7, reason: 'max_artifacts' }]);
    expect(result.dropped_more).toBe(3);
    expect(status.ending).toEqual({ exitCode: 0, signal: null });
  });

  it('refuses what breaks the limits or names a path outside the folder, and says the collection is incomplete', () => {
    const { status, receiver } = channel();
    status.push(artifact('../escape.txt', 'x'));
    status.push(artifact('/etc/passwd', 'x'));
    status.push(artifact('ok.txt', '12345'));
    // Over max_artifact_bytes: skipped unread, and nothing after it is believed.
    status.push(artifact('big.bin', 'y'.repeat(1000)));
    status.push(artifact('late.txt', 'z'));
    status.push(Buffer.from('collected 0\n'));
    const result = receiver.result();
    expect(result.items.map((a) => a.path)).toEqual(['ok.txt']);
    expect(result.dropped).toEqual([
      { path: '../escape.txt', size_bytes: 1, reason: 'invalid_name' },
      { path: '/etc/passwd', size_bytes: 1, reason: 'invalid_name' },
      { path: '', size_bytes: null, reason: 'collection_incomplete' },
    ]);
  });

  it('an error from the collector after the exit is not a set-up failure of the run', () => {
    const { status, receiver } = channel();
    status.push(Buffer.from('error cannot write the artifacts: Broken pipe\n'));
    expect(status.setupError).toBeNull();
    expect(receiver.result().dropped).toEqual([{ path: '', size_bytes: null, reason: 'collection_incomplete' }]);
  });
});
