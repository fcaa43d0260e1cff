/**
 * A queue with SQS's semantics, in memory (the local upload queue, local/local-stack.ts): a
 * received message is invisible for the visibility timeout and comes back unless deleted; each
 * receive counts; past `maxReceiveCount` receives the message moves to the dead-letter queue (kept
 * in memory and written to a folder); only the latest receipt handle deletes a message.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as path from 'node:path';

interface Message {
  readonly messageId: string;
  readonly body: string;
  readonly sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  visibleAt: number;
  receiptHandle?: string;
}

/** One delivery of a message, as received (a copy: later receives do not change it). */
export type Received = Readonly<Omit<Message, 'receiptHandle'>> & { readonly receiptHandle: string };

export interface DeadLetter {
  readonly messageId: string;
  readonly body: string;
  readonly receiveCount: number;
  readonly movedAt: string;
  /** Why, when the function sent it (a poison message's `reason` attribute); absent for the receive limit. */
  readonly reason?: string;
}

/**
 * What a queue tells its listeners, synchronously, as it happens (tests wait on these instead of
 * the clock): each receive (a redelivery has a receiveCount above 1), each delete, each dead letter.
 */
export interface QueueEvents {
  received: [message: { readonly messageId: string; readonly body: string; readonly receiveCount: number }];
  deleted: [messageId: string];
  deadLetter: [letter: DeadLetter];
}

export interface QueueOptions {
  readonly name: string;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  /** Where dead letters are also written, one JSON file each (absent: memory only). */
  readonly deadLetterDir?: string;
  /** Visibility's clock (default Date.now). `changed` waits with setTimeout: tests fake both at once (jest's fake timers). */
  readonly now?: () => number;
}

export class LocalQueue extends EventEmitter<QueueEvents> {
  private readonly messages = new Map<string, Message>();
  readonly deadLetters: DeadLetter[] = [];
  /** Times each message was received (the load run checks "exactly once"). */
  readonly receives = new Map<string, number>();
  private readonly waiters = new Set<() => void>();
  private readonly now: () => number;

  constructor(readonly options: QueueOptions) {
    super();
    this.now = options.now ?? Date.now;
    if (options.deadLetterDir) fs.mkdirSync(options.deadLetterDir, { recursive: true });
  }

  send(body: string): string {
    const messageId = randomUUID();
    const now = this.now();
    this.messages.set(messageId, { messageId, body, sentAt: now, receiveCount: 0, visibleAt: now });
    this.wake();
    return messageId;
  }

  /**
   * Up to `max` visible messages, now invisible for the visibility timeout; past the receive limit
   * they move to the dead-letter queue instead. Each is a snapshot taken at this receive (as SQS
   * hands out): its receipt handle and count stay this delivery's when the message is received
   * again meanwhile, so an older delivery can never delete a newer one's message.
   */
  receive(max: number): Received[] {
    const now = this.now();
    const out: Received[] = [];
    for (const m of this.messages.values()) {
      if (out.length >= max) break;
      if (m.visibleAt > now) continue;
      if (m.receiveCount >= this.options.maxReceiveCount) {
        this.moveToDeadLetters(m);
        continue;
      }
      m.receiveCount++;
      m.firstReceivedAt ??= now;
      m.visibleAt = now + this.options.visibilityTimeoutMs;
      m.receiptHandle = randomUUID();
      this.receives.set(m.messageId, (this.receives.get(m.messageId) ?? 0) + 1);
      out.push({ ...m, receiptHandle: m.receiptHandle });
      this.emit('received', { messageId: m.messageId, body: m.body, receiveCount: m.receiveCount });
    }
    return out;
  }

  /** Like SQS: only the latest receipt handle of a message deletes it. */
  delete(messageId: string, receiptHandle: string): boolean {
    const m = this.messages.get(messageId);
    if (!m || m.receiptHandle !== receiptHandle) return false;
    this.messages.delete(messageId);
    this.wake();
    this.emit('deleted', messageId);
    return true;
  }

  /**
   * Like SQS's ChangeMessageVisibility: the in-flight message of this (latest) receipt handle comes
   * back `ms` from now instead of at its visibility timeout; its receive count is unchanged. False
   * for a handle that is not the latest of a message still here.
   */
  changeVisibility(receiptHandle: string, ms: number): boolean {
    for (const m of this.messages.values()) {
      if (m.receiptHandle !== receiptHandle) continue;
      m.visibleAt = this.now() + ms;
      this.wake();
      return true;
    }
    return false;
  }

  /** Whether the queue still holds the message (visible or in flight): a deleted or dead-lettered one never comes back. */
  has(messageId: string): boolean {
    return this.messages.has(messageId);
  }

  /** Messages waiting (visible) and in flight (received, not yet deleted or visible again). */
  depth(): { visible: number; inFlight: number } {
    const now = this.now();
    let visible = 0;
    for (const m of this.messages.values()) if (m.visibleAt <= now) visible++;
    return { visible, inFlight: this.messages.size - visible };
  }

  /** Resolves when a message is sent or deleted, or when the next one becomes visible (at most `maxMs`). */
  changed(maxMs: number): Promise<void> {
    const now = this.now();
    let next = maxMs;
    for (const m of this.messages.values()) if (m.visibleAt > now) next = Math.min(next, m.visibleAt - now);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1, next));
      this.waiters.add(done);
    });
  }

  /** Ends every pending `changed` wait now, its timer cleared (a change, or a consumer stopping). */
  wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** A message sent straight to this queue's dead letters (by the function, with its reason). */
  deadLetter(body: string, reason?: string, receiveCount = 0): string {
    const messageId = randomUUID();
    this.storeDeadLetter({ messageId, body, receiveCount, movedAt: new Date(this.now()).toISOString(), ...(reason ? { reason } : {}) });
    return messageId;
  }

  private moveToDeadLetters(m: Message): void {
    this.messages.delete(m.messageId);
    this.storeDeadLetter({ messageId: m.messageId, body: m.body, receiveCount: m.receiveCount, movedAt: new Date(this.now()).toISOString() });
  }

  private storeDeadLetter(letter: DeadLetter): void {
    this.deadLetters.push(letter);
    if (this.options.deadLetterDir) fs.writeFileSync(path.join(this.options.deadLetterDir, `${letter.messageId}.json`), `${JSON.stringify(letter, null, 2)}\n`);
    this.wake();
    this.emit('deadLetter', letter);
  }
}
