import type { ServerResponse } from 'node:http';

export type SseEndReason = 'closed' | 'slow' | string;

/**
 * The writing side of one Server-Sent Events response, holding at most `maxBufferBytes` of unsent
 * output. `response.write()` never refuses data: it queues whatever the socket cannot take, so a
 * client that stops reading would grow this process's memory without bound (4 unread clients once
 * held 27 MB). Before each write the unsent bytes (`writableLength`: the response's queue plus the
 * socket's) are checked; past the bound the client is disconnected, so one client holds at most
 * the bound plus one message. It reconnects with Last-Event-ID if it is alive after all.
 */
export class SseConnection {
  readonly #response: ServerResponse;
  readonly #maxBufferBytes: number;
  readonly #onEnd: (reason: SseEndReason) => void;
  /** Removes the close listeners (a socket may outlive its response with keep-alive). */
  readonly #detach: () => void;
  #ended = false;

  constructor(response: ServerResponse, maxBufferBytes: number, onEnd: (reason: SseEndReason) => void) {
    this.#response = response;
    this.#maxBufferBytes = maxBufferBytes;
    this.#onEnd = onEnd;
    const closed = (): void => this.end('closed');
    response.once('close', closed);
    const socket = response.socket;
    socket?.once('close', closed);
    this.#detach = () => {
      response.off('close', closed);
      socket?.off('close', closed);
    };
    // A client can drop while its key is still being checked: by the time the handler runs, 'close'
    // has already fired and would never fire again, so the stream would hold its tenant's slot (and
    // one of STREAMS_TOTAL) until the process restarts. Such a stream ends at once.
    if (response.destroyed || response.req?.destroyed || !socket || socket.destroyed) this.end('closed');
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Bytes written and not yet taken by the client's socket. */
  get bufferedBytes(): number {
    return this.#ended ? 0 : this.#response.writableLength;
  }

  /** Writes `text` unless the client is over its bound, in which case it is disconnected instead. */
  write(text: string): boolean {
    if (this.#ended) return false;
    // Writes to a destroyed response are dropped without an error or growth of writableLength, so
    // the bound below would never notice a client that is gone.
    if (this.#response.destroyed || this.#response.writableEnded) {
      this.end('closed');
      return false;
    }
    if (this.#response.writableLength > this.#maxBufferBytes) {
      this.end('slow');
      return false;
    }
    this.#response.write(text);
    return true;
  }

  /**
   * Resolves once the unsent output is below half the bound (or the stream ended): replay writes at
   * the client's pace instead of disconnecting a client that is merely catching up.
   */
  async writable(): Promise<void> {
    while (!this.#ended && this.#response.writableLength > this.#maxBufferBytes / 2) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.#response.off('drain', done);
          this.#response.off('close', done);
          resolve();
        };
        this.#response.once('drain', done);
        this.#response.once('close', done);
      });
    }
  }

  /**
   * Ends the stream once. A slow client's buffer is dropped with its socket (ending politely would
   * queue behind what it does not read); otherwise the response ends normally.
   */
  end(reason: SseEndReason): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#detach();
    if (reason === 'slow') this.#response.destroy();
    else this.#response.end();
    this.#onEnd(reason);
  }
}
