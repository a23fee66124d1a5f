import type { MqttRefusal } from './mqtt-refusal.ts';

/** One PUBLISH being stored. */
export interface InFlightMessage {
  /** The packet id to acknowledge (QoS 1); none for QoS 0. */
  readonly messageId: number | undefined;
  readonly bytes: number;
  settled: boolean;
  /** Why it was refused, once settled; undefined when it was stored. */
  refusal: MqttRefusal | undefined;
}

/**
 * The messages of one connection that are being stored, in the order they arrived. Messages are
 * stored concurrently (each joins the group committer on its own), but released for acknowledgement
 * in arrival order, so PUBACKs go out in the order of their PUBLISHes.
 */
export class InFlightMessages {
  readonly #queue: InFlightMessage[] = [];
  #bytes = 0;
  #whenEmpty: (() => void)[] = [];

  get count(): number {
    return this.#queue.length;
  }

  /** Payload bytes held by messages not yet settled. */
  get bytes(): number {
    return this.#bytes;
  }

  add(messageId: number | undefined, bytes: number): InFlightMessage {
    const message: InFlightMessage = { messageId, bytes, settled: false, refusal: undefined };
    this.#queue.push(message);
    this.#bytes += bytes;
    return message;
  }

  /** Settles one message; returns the settled messages now at the head, oldest first, and removes them. */
  settle(message: InFlightMessage, refusal: MqttRefusal | undefined): InFlightMessage[] {
    message.settled = true;
    message.refusal = refusal;
    this.#bytes -= message.bytes;
    const released: InFlightMessage[] = [];
    while (this.#queue[0]?.settled) released.push(this.#queue.shift() as InFlightMessage);
    if (this.#queue.length === 0) for (const resolve of this.#whenEmpty.splice(0)) resolve();
    return released;
  }

  /** Resolves once every message taken so far has settled. */
  whenEmpty(): Promise<void> {
    if (this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#whenEmpty.push(resolve));
  }
}
