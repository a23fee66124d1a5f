import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Config, KeyIdentity, Logger, TenantAuthenticator } from '@strata/core';
import { authenticateConnect } from './authenticate-connect.ts';
import { MqttConnection, type ConnectionHost, type MqttConnectionOptions } from './mqtt-connection.ts';
import { MqttRefusal, disconnection } from './mqtt-refusal.ts';
import { publishTelemetry, type PublishTelemetryDeps } from './publish-telemetry.ts';
import { CONNACK_RETURN_CODES, REASON_CODES } from './reason-codes.ts';
import { SaturationGate } from './saturation-gate.ts';
import { TenantCounts } from '../../ingest/tenant-counts.ts';

/** Room in a packet beside its payload (MAX_BODY_BYTES): a topic of at most 150 bytes and MQTT 5 properties. */
const PACKET_OVERHEAD_BYTES = 64 * 1024;
/**
 * How long a socket may sit before CONNECT before it gives way to a new one when the pending pool is
 * full. A device with a key sends CONNECT within a round trip; a socket still silent after this is
 * the likelier squatter, and one that has only just arrived is never evicted (a reconnect storm of a
 * whole fleet, often from one NAT address, must not cut its own handshakes).
 */
const PENDING_GRACE_MS = 1000;

export type MqttConfig = Pick<
  Config,
  'host' | 'mqttPort' | 'mqttMaxConnections' | 'mqttMaxConnectionsPerTenant' | 'mqttMaxPendingConnections' | 'mqttConnectTimeoutMs' | 'mqttMaxKeepAliveSeconds' | 'mqttMaxInFlight' | 'maxBodyBytes'
>;

export interface MqttListenerDeps extends PublishTelemetryDeps {
  config: PublishTelemetryDeps['config'] & MqttConfig;
  authenticator: Pick<TenantAuthenticator, 'cached' | 'authenticate' | 'onRevoked'>;
  logger: Logger;
}

export interface MqttListenerOptions {
  /** Events held by the group committer at which sockets stop being read; reading resumes below half. */
  pauseAtHeldEvents: number;
  /** Events of one tenant held by the group committer at which that tenant's sockets stop being read. */
  pauseAtTenantHeldEvents: number;
  /** How long a closing connection may take to store and acknowledge its messages; 15 s by default. */
  closeGraceMs?: number;
}

/**
 * The command API's MQTT door (decision 0073): a TCP server on MQTT_PORT whose connections publish
 * telemetry into acceptEvents, the path HTTP writes take. It holds only per-connection state (and a
 * per-process count of each tenant's connections), so any number of instances run side by side.
 */
export class MqttListener {
  readonly #deps: MqttListenerDeps;
  readonly #server: Server;
  readonly #connections = new Set<MqttConnection>();
  /**
   * Sockets not yet past CONNECT, oldest first, with when each arrived. They are bounded apart from
   * the authenticated connections (MQTT_MAX_CONNECTIONS), and the oldest give way to new ones: a
   * socket that never sends CONNECT can hold no slot a device with a key needs.
   */
  readonly #pending = new Map<MqttConnection, number>();
  #authenticated = 0;
  readonly #connectionsPerTenant = new TenantCounts();
  readonly #gate: SaturationGate;
  readonly #connectionOptions: MqttConnectionOptions;
  readonly #host: ConnectionHost;
  #stopEndingRevoked: (() => void) | undefined;
  #closing = false;

  constructor(deps: MqttListenerDeps, options: MqttListenerOptions) {
    this.#deps = deps;
    const { config } = deps;
    this.#connectionOptions = {
      connectTimeoutMs: config.mqttConnectTimeoutMs,
      maxKeepAliveSeconds: config.mqttMaxKeepAliveSeconds,
      maxInFlight: config.mqttMaxInFlight,
      maxPacketBytes: config.maxBodyBytes + PACKET_OVERHEAD_BYTES,
      closeGraceMs: options.closeGraceMs ?? 15_000,
    };
    this.#gate = new SaturationGate({
      heldEvents: () => deps.committer.heldEvents,
      heldEventsOf: (tenantId) => deps.committer.heldEventsOf(tenantId),
      pauseAt: options.pauseAtHeldEvents,
      tenantPauseAt: options.pauseAtTenantHeldEvents,
      pollMs: 5,
      onChange: () => {
        for (const connection of this.#connections) {
          const tenantId = connection.tenantId;
          if (tenantId !== undefined) connection.setSaturated(this.#gate.saturated(tenantId));
        }
      },
    });
    this.#host = this.#buildHost();
    this.#server = createServer(this.#onSocket);
  }

  /** Listens on HOST:MQTT_PORT and starts disconnecting revoked keys. */
  async start(): Promise<void> {
    this.#stopEndingRevoked = this.#deps.authenticator.onRevoked((keyId) => this.#endKey(keyId));
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: this.#deps.config.host, port: this.#deps.config.mqttPort }, () => {
        this.#server.off('error', reject);
        // Once listening, a failed accept (EMFILE) costs that client, never the process.
        this.#server.on('error', (error) => this.#deps.logger.warn({ err: error }, 'MQTT listener error'));
        resolve();
      });
    });
  }

  address(): AddressInfo | null {
    const address = this.#server.address();
    return typeof address === 'object' ? address : null;
  }

  /** Connections open now (any state). */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /**
   * Stops accepting connections, then lets every connection store and acknowledge the messages it
   * holds (reading nothing new), tells MQTT 5 clients the server is shutting down, and closes them.
   */
  async stop(): Promise<void> {
    this.#closing = true;
    this.#stopEndingRevoked?.();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const shuttingDown = disconnection(REASON_CODES.serverShuttingDown, 'shutting_down', 'the server is shutting down; reconnect');
    await Promise.all([...this.#connections].map((connection) => connection.shutdown(shuttingDown)));
    await closed;
    this.#gate.stop();
  }

  readonly #onSocket = (socket: Socket): void => {
    if (this.#closing) {
      // Before a byte is read: a refused socket costs nothing but its accept.
      this.#deps.metrics.mqttRefusals.inc({ reason: 'shutting_down' });
      socket.destroy();
      return;
    }
    if (this.#pending.size >= this.#deps.config.mqttMaxPendingConnections && !this.#evictOldestPending()) {
      // Every waiting socket arrived just now (a reconnect storm): this one is refused, and retries.
      this.#deps.metrics.mqttRefusals.inc({ reason: 'pending_cap' });
      socket.destroy();
      return;
    }
    const connection = new MqttConnection(socket, this.#host, this.#connectionOptions);
    this.#connections.add(connection);
    this.#pending.set(connection, this.#deps.clock.now());
    this.#deps.metrics.mqttConnections.inc({ state: 'connecting' });
  };

  /** Closes the oldest socket still before CONNECT if it has waited past the grace; false if none has. */
  #evictOldestPending(): boolean {
    const oldest = this.#pending.entries().next();
    if (oldest.done) return false;
    const [connection, since] = oldest.value;
    if (this.#deps.clock.now() - since < PENDING_GRACE_MS) return false;
    this.#pending.delete(connection);
    this.#deps.metrics.mqttRefusals.inc({ reason: 'pending_evicted' });
    connection.abandon();
    return true;
  }

  #leavePending(connection: MqttConnection): void {
    this.#pending.delete(connection);
  }

  #endKey(keyId: string): void {
    const revoked = disconnection(REASON_CODES.notAuthorized, 'revoked', 'the key was revoked');
    let ended = 0;
    for (const connection of this.#connections) {
      if (connection.keyId !== keyId) continue;
      ended++;
      this.#deps.metrics.mqttRefusals.inc({ reason: 'revoked' });
      void connection.shutdown(revoked);
    }
    if (ended > 0) this.#deps.logger.info({ keyId, connections: ended }, 'ending the MQTT connections of a revoked key');
  }

  #admit(identity: KeyIdentity): void {
    if (this.#closing) {
      throw new MqttRefusal(REASON_CODES.serverUnavailable, 'shutting_down', 'the server is shutting down; reconnect', { returnCode: CONNACK_RETURN_CODES.serverUnavailable });
    }
    if (this.#authenticated >= this.#deps.config.mqttMaxConnections) {
      throw new MqttRefusal(REASON_CODES.serverBusy, 'connection_cap', `this server holds ${this.#authenticated} connections (MQTT_MAX_CONNECTIONS); try another or later`, {
        returnCode: CONNACK_RETURN_CODES.serverUnavailable,
      });
    }
    const held = this.#connectionsPerTenant.get(identity.tenantId);
    if (held >= this.#deps.config.mqttMaxConnectionsPerTenant) {
      throw new MqttRefusal(REASON_CODES.quotaExceeded, 'tenant_cap', `the tenant has ${held} connections to this server (MQTT_MAX_CONNECTIONS_PER_TENANT)`, {
        returnCode: CONNACK_RETURN_CODES.serverUnavailable,
      });
    }
    this.#connectionsPerTenant.add(identity.tenantId, 1);
    this.#authenticated++;
  }

  #release(tenantId: string): void {
    this.#connectionsPerTenant.add(tenantId, -1);
    this.#authenticated--;
  }

  #buildHost(): ConnectionHost {
    const deps = this.#deps;
    return {
      authenticate: (packet, clientAddress) => authenticateConnect(deps.authenticator, packet, clientAddress),
      admit: (identity) => this.#admit(identity),
      publish: async (key, message, tenantId) => {
        this.#gate.check(tenantId);
        try {
          return await publishTelemetry(deps, key, message);
        } finally {
          this.#gate.check(tenantId);
        }
      },
      arrivalMs: () => deps.clock.now(),
      saturated: (tenantId) => this.#gate.saturated(tenantId),
      connected: (connection) => {
        this.#leavePending(connection);
        deps.metrics.mqttConnections.dec({ state: 'connecting' });
        deps.metrics.mqttConnections.inc({ state: 'connected' });
      },
      closed: (connection, tenantId) => {
        this.#connections.delete(connection);
        this.#leavePending(connection);
        deps.metrics.mqttConnections.dec({ state: tenantId === undefined ? 'connecting' : 'connected' });
        if (tenantId !== undefined) this.#release(tenantId);
      },
      countMessage: (outcome) => deps.metrics.mqttMessages.inc({ outcome }),
      countRefusal: (reason) => deps.metrics.mqttRefusals.inc({ reason }),
      warn: (error, message) => deps.logger.warn({ err: error }, message),
    };
  }
}
