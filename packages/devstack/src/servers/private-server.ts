/** A database server this process started and therefore must stop. */
export interface PrivateServer {
  readonly kind: 'postgres' | 'redis';
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Stops the server cleanly (data flushed); safe to call more than once. */
  stop(): Promise<void>;
}
