import type { Socket } from 'node:net';
import type { KeyIdentity } from '@strata/core';
import { generate, parser, type IConnectPacket, type IPublishPacket, type Packet, type Parser } from 'mqtt-packet';
import type { ConnectAuthentication } from './authenticate-connect.ts';
import { buildConnack } from './build-connack.ts';
import { checkConnect } from './check-connect.ts';
import { InFlightMessages, type InFlightMessage } from './in-flight-messages.ts';
import { disconnection, type MqttRefusal } from './mqtt-refusal.ts';
import { packetSize } from './packet-size.ts';
import type { ConnectionKey, TelemetryMessage } from './publish-telemetry.ts';
import { CONNACK_RETURN_CODES, REASON_CODES, SUBACK_FAILURE } from './reason-codes.ts';
import { refusalFromError } from './refusal-from-error.ts';

/** The longest delay setTimeout keeps (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

export interface MqttConnectionOptions {
  connectTimeoutMs: number;
  maxKeepAliveSeconds: number;
  maxInFlight: number;
  /** The largest packet taken, whole; advertised to MQTT 5 clients as Maximum Packet Size. */
  maxPacketBytes: number;
  /** How long a closing connection may take to finish its messages before its socket is destroyed. */
  closeGraceMs: number;
}

/** What a connection asks of its listener. */
export interface ConnectionHost {
  authenticate(packet: IConnectPacket, clientAddress: string): Promise<ConnectAuthentication>;
  /** Takes a slot for the key's tenant, or throws an MqttRefusal (tenant cap, shutting down). */
  admit(identity: KeyIdentity): void;
  /** `tenantId` is the connection's, as authenticated at CONNECT (for the tenant's backpressure). */
  publish(key: ConnectionKey, message: TelemetryMessage, tenantId: string): Promise<unknown>;
  arrivalMs(): number;
  /** Whether the group committer holds too much, in all or of this tenant, to read more of its connections. */
  saturated(tenantId: string): boolean;
  connected(connection: MqttConnection): void;
  closed(connection: MqttConnection, tenantId: string | undefined): void;
  /** A message's outcome (`accepted` or a refusal's label). */
  countMessage(outcome: string): void;
  /** A connection refused or closed by the server, by reason. */
  countRefusal(reason: string): void;
  /** Something that should not happen (a bug): logged, and the connection is dropped. */
  warn(error: unknown, message: string): void;
}

type State = 'awaiting-connect' | 'authenticating' | 'connected' | 'closing' | 'closed';
/** Why the socket is not being read; it is read again once there is no reason left. */
type PauseReason = 'authenticating' | 'in-flight' | 'saturated' | 'rate-limited' | 'write-backlog' | 'closing';

const NDJSON = 'application/x-ndjson';
/** Acknowledgements a client leaves unread before its socket stops being read (it is then cut by keep-alive). */
const WRITE_BACKLOG_BYTES = 64 * 1024;
const MAX_REASON_STRING = 256;
/** After our last bytes, how long the client has to close its side. */
const END_GRACE_MS = 1000;
/** MQTT's "unacceptable protocol version" CONNACK in 3.1.1 form, the one every client version can read. */
const UNSUPPORTED_VERSION_CONNACK = Buffer.from([0x20, 0x02, 0x00, CONNACK_RETURN_CODES.unacceptableProtocolVersion]);

/**
 * One MQTT client: CONNECT/CONNACK, PUBLISH/PUBACK, PINGREQ/PINGRESP, DISCONNECT; SUBSCRIBE is
 * answered with a failure (Strata is not a broker). Every bound is here: the CONNECT deadline, the
 * keep-alive (1.5 times the client's, at most the server's), the packet size (refused while its first
 * bytes arrive), the messages and bytes in flight, the unread acknowledgements; past a bound the
 * socket is no longer read, so a client's backlog waits in its own TCP window, not in our memory.
 */
export class MqttConnection {
  readonly clientAddress: string;
  /** Resolves once the socket is closed. */
  readonly closed: Promise<void>;
  readonly #socket: Socket;
  readonly #host: ConnectionHost;
  readonly #options: MqttConnectionOptions;
  readonly #parser: Parser;
  readonly #inFlight = new InFlightMessages();
  readonly #paused = new Set<PauseReason>();
  /** Packets that came right behind CONNECT, before it was answered (clients need not wait). */
  readonly #early: Packet[] = [];
  #state: State = 'awaiting-connect';
  #version = 4;
  #problemInformation = true;
  #clientMaxPacket: number | undefined;
  #auth: ConnectAuthentication | undefined;
  #timer: NodeJS.Timeout;
  /** False once a refusal ends the connection: nothing after a refused message is acknowledged. */
  #acknowledging = true;
  #closing: Promise<void> | undefined;
  #rateTimer: NodeJS.Timeout | undefined;

  constructor(socket: Socket, host: ConnectionHost, options: MqttConnectionOptions) {
    this.#socket = socket;
    this.#host = host;
    this.#options = options;
    this.clientAddress = socket.remoteAddress ?? '';
    this.#parser = parser();
    this.#parser.on('packet', this.#onPacket);
    this.#parser.on('error', this.#onParseError);
    socket.setNoDelay(true);
    socket.on('data', this.#onData);
    socket.on('drain', () => this.#resume('write-backlog'));
    // A reset or an unreachable peer: 'close' follows and does the cleaning up.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve(this.#onClose())));
    this.#timer = setTimeout(this.#onTimer, options.connectTimeoutMs).unref();
  }

  get keyId(): string | undefined {
    return this.#auth?.identity.keyId;
  }

  /** The tenant of the key it connected with; undefined before CONNECT is accepted. */
  get tenantId(): string | undefined {
    return this.#auth?.identity.tenantId;
  }

  /**
   * Pauses (true) or resumes (false) reading while the group committer is saturated, in all or with
   * this connection's tenant. Only connected clients are paused: a CONNECT costs the committer
   * nothing, and a paused one would miss its deadline.
   */
  setSaturated(saturated: boolean): void {
    if (!saturated) this.#resume('saturated');
    else if (this.#state === 'connected') this.#pause('saturated');
  }

  /**
   * Ends the connection for `refusal` (shutdown, revocation): no more messages are read, those in
   * hand are stored and acknowledged, then MQTT 5 clients are told why, then the socket closes. A
   * connection not yet past CONNECT has nothing in hand and is closed at once.
   */
  async shutdown(refusal: MqttRefusal): Promise<void> {
    if (this.#state === 'connected' || this.#state === 'closing') await this.#close(refusal);
    else this.#socket.destroy();
    await this.closed;
  }

  /** Closes a socket that has not finished CONNECT, to make room for newer ones (the listener's bound). */
  abandon(): void {
    if (this.#state === 'awaiting-connect' || this.#state === 'authenticating') this.#socket.destroy();
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    if (this.#state === 'connected') this.#timer.refresh();
    try {
      this.#parser.parse(chunk);
    } catch (error) {
      return this.#fail(error);
    }
    // A packet announced larger than the bound is refused as its first bytes arrive, never held whole.
    const announced = (this.#parser as unknown as { packet: { length: number } }).packet.length;
    if (announced >= 0 && packetSize(announced) > this.#options.maxPacketBytes) this.#refuseTooLarge();
  };

  readonly #onPacket = (packet: Packet): void => {
    if (this.#state === 'connected') this.#handle(packet);
    else if (this.#state === 'authenticating') this.#early.push(packet);
    else if (this.#state === 'awaiting-connect') {
      if (packet.cmd === 'connect') this.#connect(packet).catch(this.#fail);
      else this.#abort('protocol_error');
    }
  };

  readonly #onParseError = (error: Error): void => {
    if (this.#state === 'awaiting-connect') {
      const unsupported = /protocol version/i.test(error.message);
      if (unsupported) this.#socket.write(UNSUPPORTED_VERSION_CONNACK);
      this.#abort(unsupported ? 'unsupported_protocol' : 'malformed');
    } else if (this.#state === 'authenticating') {
      this.#abort('malformed');
    } else {
      this.#refuse(disconnection(REASON_CODES.malformedPacket, 'malformed', `malformed packet: ${error.message}`));
    }
  };

  async #connect(packet: IConnectPacket): Promise<void> {
    this.#state = 'authenticating';
    this.#pause('authenticating');
    this.#version = packet.protocolVersion ?? 4;
    if (this.#version === 5) {
      this.#problemInformation = packet.properties?.requestProblemInformation !== false;
      this.#clientMaxPacket = packet.properties?.maximumPacketSize;
    }
    let auth: ConnectAuthentication;
    try {
      checkConnect(packet, this.#version);
      auth = await this.#host.authenticate(packet, this.clientAddress);
      if (this.#state !== 'authenticating') return;
      this.#host.admit(auth.identity);
    } catch (error) {
      if (this.#state === 'authenticating') this.#refuseConnect(refusalFromError(error));
      return;
    }
    this.#auth = auth;
    this.#state = 'connected';
    const asked = packet.keepalive ?? 0;
    const keepAliveSeconds = asked > 0 && asked <= this.#options.maxKeepAliveSeconds ? asked : this.#options.maxKeepAliveSeconds;
    this.#send(
      buildConnack(packet, { version: this.#version, keepAliveSeconds, maxInFlight: this.#options.maxInFlight, maxPacketBytes: this.#options.maxPacketBytes }),
    );
    this.#host.connected(this);
    clearTimeout(this.#timer);
    // MQTT: a client silent for one and a half keep-alive periods is gone.
    this.#timer = setTimeout(this.#onTimer, keepAliveSeconds * 1500).unref();
    if (this.#host.saturated(auth.identity.tenantId)) this.#pause('saturated');
    this.#resume('authenticating');
    for (const early of this.#early.splice(0)) if (this.#state === 'connected') this.#handle(early);
  }


  #handle(packet: Packet): void {
    switch (packet.cmd) {
      case 'publish':
        return this.#publish(packet);
      case 'pingreq':
        return this.#send({ cmd: 'pingresp' });
      case 'subscribe': {
        if (packet.subscriptions.length === 0) return this.#refuse(disconnection(REASON_CODES.protocolError, 'protocol_error', 'SUBSCRIBE without a topic filter'));
        const code = this.#version === 5 ? REASON_CODES.notAuthorized : SUBACK_FAILURE;
        const properties = this.#reasonProperties('Strata takes telemetry; there is nothing to subscribe to');
        return this.#send({ cmd: 'suback', messageId: packet.messageId ?? 0, granted: packet.subscriptions.map(() => code), ...properties });
      }
      case 'unsubscribe': {
        if (packet.unsubscriptions.length === 0) return this.#refuse(disconnection(REASON_CODES.protocolError, 'protocol_error', 'UNSUBSCRIBE without a topic filter'));
        const granted = this.#version === 5 ? packet.unsubscriptions.map(() => REASON_CODES.noSubscriptionExisted) : [];
        return this.#send({ cmd: 'unsuback', messageId: packet.messageId ?? 0, granted });
      }
      case 'disconnect':
        void this.#close(undefined);
        return;
      default:
        this.#refuse(disconnection(REASON_CODES.protocolError, 'protocol_error', `${packet.cmd} is not expected from a client here`));
    }
  }

  #publish(packet: IPublishPacket): void {
    const arrivalMs = this.#host.arrivalMs();
    if (packet.qos === 2) {
      this.#host.countMessage('qos_not_supported');
      return this.#refuse(disconnection(REASON_CODES.qosNotSupported, 'qos_not_supported', 'QoS 2 is not supported (Maximum QoS is 1); publish with QoS 1'));
    }
    if (packet.qos === 1 && !packet.messageId) {
      // MQTT: a QoS 1 PUBLISH carries a non-zero packet identifier; its PUBACK could name nothing else.
      this.#host.countMessage('protocol_error');
      return this.#refuse(disconnection(REASON_CODES.protocolError, 'protocol_error', 'a QoS 1 PUBLISH needs a packet identifier other than 0'));
    }
    if (packet.properties?.topicAlias !== undefined) {
      this.#host.countMessage('protocol_error');
      return this.#refuse(disconnection(REASON_CODES.topicAliasInvalid, 'protocol_error', 'topic aliases are not supported (Topic Alias Maximum is 0)'));
    }
    if (packet.length !== undefined && packetSize(packet.length) > this.#options.maxPacketBytes) return this.#refuseTooLarge();
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
    const message = this.#inFlight.add(packet.qos === 1 ? packet.messageId : undefined, payload.length);
    if (this.#inFlight.count >= this.#options.maxInFlight || this.#inFlight.bytes >= this.#options.maxPacketBytes) this.#pause('in-flight');
    const auth = this.#auth as ConnectAuthentication;
    this.#host
      .publish(
        { key: auth.key, clientAddress: this.clientAddress },
        { topic: packet.topic, payload, ndjson: packet.properties?.contentType === NDJSON, arrivalMs },
        auth.identity.tenantId,
      )
      .then(
        () => this.#settle(message, undefined),
        (error: unknown) => this.#settle(message, refusalFromError(error)),
      )
      .catch(this.#fail);
  }

  /** Answers the messages now due, in arrival order; a refusal that ends the connection ends the answers. */
  #settle(message: InFlightMessage, refusal: MqttRefusal | undefined): void {
    const released = this.#inFlight.settle(message, refusal);
    this.#socket.cork();
    for (const { messageId, refusal: why } of released) {
      this.#host.countMessage(why ? why.label : 'accepted');
      if (!this.#acknowledging) continue;
      if (!why) {
        if (messageId !== undefined) this.#puback(messageId, REASON_CODES.success, undefined);
      } else if (this.#version === 5 && why.effect === 'nack' && messageId !== undefined) {
        this.#puback(messageId, why.reasonCode, why.message);
        if (why.retryAfterMs !== undefined) this.#holdOff(why.retryAfterMs);
      } else {
        // MQTT 3.1.1 has no negative PUBACK, QoS 0 no PUBACK at all: the connection is the answer.
        this.#acknowledging = false;
        this.#refuse(why);
      }
    }
    this.#socket.uncork();
    if (this.#inFlight.count < this.#options.maxInFlight && this.#inFlight.bytes < this.#options.maxPacketBytes) this.#resume('in-flight');
  }

  /**
   * Over its tenant's rate the client is not read until the rate allows more: a flood waits in its
   * own TCP window instead of being read, parsed and refused message by message on the cores every
   * tenant shares (the hostile review measured a neighbour's PUBACKs 100x slower without this).
   */
  #holdOff(ms: number): void {
    if (this.#rateTimer !== undefined) return;
    this.#pause('rate-limited');
    // setTimeout takes at most 2^31 - 1 ms and fires after 1 ms beyond it: a debt of more than 24
    // days (a tiny byte rate after one large payload) would otherwise read the client again at once.
    this.#rateTimer = setTimeout(() => {
      this.#rateTimer = undefined;
      this.#resume('rate-limited');
    }, Math.min(ms, MAX_TIMER_MS)).unref();
  }

  #puback(messageId: number, reasonCode: number, reason: string | undefined): void {
    if (this.#version !== 5) return this.#send({ cmd: 'puback', messageId });
    this.#send({ cmd: 'puback', messageId, reasonCode, ...(reason === undefined ? {} : this.#reasonProperties(reason)) });
  }

  #refuseConnect(refusal: MqttRefusal): void {
    this.#host.countRefusal(refusal.label);
    if (this.#version === 5) {
      this.#send({ cmd: 'connack', sessionPresent: false, reasonCode: refusal.reasonCode, ...this.#reasonProperties(refusal.message) });
    } else {
      this.#send({ cmd: 'connack', sessionPresent: false, returnCode: refusal.returnCode });
    }
    this.#end();
  }

  #refuseTooLarge(): void {
    const refusal = disconnection(REASON_CODES.packetTooLarge, 'packet_too_large', `packets are limited to ${this.#options.maxPacketBytes} bytes`);
    if (this.#state === 'connected') return this.#refuse(refusal);
    if (this.#state === 'awaiting-connect' || this.#state === 'authenticating') this.#abort(refusal.label);
  }

  /** Counts the refusal and closes: messages in hand first (they came before), then DISCONNECT (MQTT 5). */
  #refuse(refusal: MqttRefusal): void {
    if (this.#state !== 'connected') return;
    this.#host.countRefusal(refusal.label);
    void this.#close(refusal);
  }

  /** Closes a connection that never got as far as CONNACK: there is nobody to tell. */
  #abort(reason: string): void {
    this.#host.countRefusal(reason);
    this.#end();
  }

  #close(refusal: MqttRefusal | undefined): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#state = 'closing';
    this.#pause('closing');
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#socket.destroy(), this.#options.closeGraceMs).unref();
    this.#closing = this.#inFlight.whenEmpty().then(() => {
      if (refusal && this.#version === 5) {
        this.#send({ cmd: 'disconnect', reasonCode: refusal.reasonCode, ...this.#reasonProperties(refusal.message) });
      }
      this.#end();
    });
    return this.#closing;
  }

  /** Sends what is written, then reads only to see the client close its side (everything read is dropped). */
  #end(): void {
    if (this.#state === 'closed') return;
    this.#state = 'closing';
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#socket.destroy(), END_GRACE_MS).unref();
    this.#socket.end();
    this.#paused.clear();
    this.#socket.resume();
  }

  readonly #onTimer = (): void => {
    if (this.#state === 'awaiting-connect' || this.#state === 'authenticating') return this.#abort('connect_timeout');
    if (this.#state !== 'connected') return;
    // Silent because we hold its messages or stopped reading it: the client is not the one idle.
    if (this.#inFlight.count > 0 || this.#paused.has('saturated') || this.#paused.has('rate-limited')) {
      this.#timer.refresh();
      return;
    }
    this.#refuse(disconnection(REASON_CODES.keepAliveTimeout, 'keepalive_timeout', 'nothing received for 1.5 keep-alive periods'));
  };

  /** Whatever a client sends must cost it its connection at most, never the process. */
  readonly #fail = (error: unknown): void => {
    this.#host.warn(error, 'MQTT connection dropped on an unexpected error');
    this.#host.countRefusal('internal_error');
    this.#socket.destroy();
  };

  #onClose(): void {
    const tenantId = this.#auth?.identity.tenantId;
    this.#state = 'closed';
    clearTimeout(this.#timer);
    clearTimeout(this.#rateTimer);
    this.#paused.clear();
    this.#host.closed(this, this.#auth === undefined ? undefined : tenantId);
  }

  #send(packet: Packet): void {
    if (this.#state === 'closed' || !this.#socket.writable) return;
    // The client's Maximum Packet Size: mqtt-packet drops the reason string from a packet that would pass it.
    const options = { protocolVersion: this.#version, properties: { maximumPacketSize: this.#clientMaxPacket } };
    let bytes: Buffer;
    try {
      bytes = generate(packet, options);
    } catch (error) {
      return this.#fail(error);
    }
    this.#socket.write(bytes);
    if (this.#socket.writableLength > WRITE_BACKLOG_BYTES) this.#pause('write-backlog');
  }

  /** MQTT 5's reason string, unless the client asked for none (Request Problem Information 0). */
  #reasonProperties(reason: string): { properties?: { reasonString: string } } {
    if (this.#version !== 5 || !this.#problemInformation) return {};
    return { properties: { reasonString: reason.length > MAX_REASON_STRING ? `${reason.slice(0, MAX_REASON_STRING - 1)}…` : reason } };
  }

  #pause(reason: PauseReason): void {
    this.#paused.add(reason);
    this.#socket.pause();
  }

  #resume(reason: PauseReason): void {
    if (!this.#paused.delete(reason)) return;
    if (this.#paused.size === 0 && this.#state !== 'closed') this.#socket.resume();
  }
}
