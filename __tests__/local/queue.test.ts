/** The local queue's SQS semantics: visibility, receive counts, receipt handles per delivery, dead letters. The queue's clock is given. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LocalQueue } from '../../local/queue';
import { tempDir } from '../helpers/temp';

describe('queue', () => {
  test('a received message is invisible for the visibility timeout, then comes back with its receive count', () => {
    let now = 1000;
    const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 100, maxReceiveCount: 3, now: () => now });
    const id = q.send('x');
    const [first] = q.receive(10);
    expect(first).toMatchObject({ messageId: id, receiveCount: 1 });
    expect(q.receive(10)).toEqual([]);
    expect(q.depth()).toEqual({ visible: 0, inFlight: 1 });
    now += 100;
    const [again] = q.receive(10);
    expect(again.receiveCount).toBe(2);
    // An old receipt handle no longer deletes it.
    expect(q.delete(id, 'stale')).toBe(false);
    expect(q.delete(id, again.receiptHandle)).toBe(true);
    expect(q.depth()).toEqual({ visible: 0, inFlight: 0 });
  });

  test('changeVisibility: the latest delivery comes back when asked, not at its visibility timeout, its receive count growing; an older handle changes nothing', () => {
    let now = 0;
    const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 30_000, maxReceiveCount: 5, now: () => now });
    q.send('x');
    const [first] = q.receive(1);
    expect(q.changeVisibility(first.receiptHandle, 2_000)).toBe(true);
    now = 1_999;
    expect(q.receive(1)).toEqual([]);
    now = 2_000;
    const [second] = q.receive(1);
    expect(second.receiveCount).toBe(2);
    expect(q.changeVisibility(first.receiptHandle, 0)).toBe(false);
    expect(q.receive(1)).toEqual([]);
    expect(q.changeVisibility('never', 0)).toBe(false);
  });

  test("a delivery keeps its own receipt handle: once the message was received again, the older delivery's delete does nothing", () => {
    let now = 0;
    const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 10, maxReceiveCount: 5, now: () => now });
    const id = q.send('x');
    const [older] = q.receive(1);
    now += 10;
    const [newer] = q.receive(1);
    // The first delivery finishes late and deletes with what it was given at its receive.
    expect(older.receiveCount).toBe(1);
    expect(q.delete(id, older.receiptHandle)).toBe(false);
    expect(q.has(id)).toBe(true);
    expect(q.delete(id, newer.receiptHandle)).toBe(true);
  });

  test('events as it happens: each receive with its count, each delete, each dead letter; has() until then', () => {
    let now = 0;
    const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 10, maxReceiveCount: 2, now: () => now });
    const events: string[] = [];
    q.on('received', (m) => events.push(`received ${m.body}#${m.receiveCount}`));
    q.on('deleted', (id) => events.push(`deleted ${id === kept ? 'kept' : id}`));
    q.on('deadLetter', (letter) => events.push(`dead ${letter.body}#${letter.receiveCount}`));
    const kept = q.send('kept');
    const lost = q.send('lost');
    const [first] = q.receive(1);
    expect(q.delete(kept, 'stale')).toBe(false);
    expect(q.delete(kept, first.receiptHandle)).toBe(true);
    expect(q.has(kept)).toBe(false);
    q.receive(1);
    now += 10;
    q.receive(1);
    expect(q.has(lost)).toBe(true);
    now += 10;
    expect(q.receive(1)).toEqual([]);
    expect(q.has(lost)).toBe(false);
    expect(events).toEqual(['received kept#1', 'deleted kept', 'received lost#1', 'received lost#2', 'dead lost#2']);
  });

  test('past the receive limit a message moves to the dead-letter queue (and its folder)', () => {
    let now = 0;
    const dir = tempDir('dlq');
    try {
      const q = new LocalQueue({ name: 'q', visibilityTimeoutMs: 10, maxReceiveCount: 2, now: () => now, deadLetterDir: dir });
      const id = q.send('poison');
      expect(q.receive(1)).toHaveLength(1);
      now += 10;
      expect(q.receive(1)).toHaveLength(1);
      now += 10;
      expect(q.receive(1)).toEqual([]);
      expect(q.deadLetters).toEqual([expect.objectContaining({ messageId: id, body: 'poison', receiveCount: 2 })]);
      expect(JSON.parse(fs.readFileSync(path.join(dir, `${id}.json`), 'utf8'))).toMatchObject({ body: 'poison' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
