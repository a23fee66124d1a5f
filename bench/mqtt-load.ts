import { withTimeout } from '@strata/core';
import mqtt, { type MqttClient } from 'mqtt';
import { quantile } from './percentiles.ts';

export interface MqttLoadOptions {
  /** mqtt://host:port of command-api's listener. */
  url: string;
  apiKey: string;
  /** Connections, each its own client (MQTT 5, the key as user name, clean session). */
  connections: number;
  /** QoS 1 messages each connection keeps unacknowledged: the next goes out when a PUBACK comes. */
  inFlight: number;
  durationS: number;
  /** Distinguishes this load's client ids from any other's. */
  clientPrefix: string;
  /**
   * Builds the n-th message (n counts across every connection) of `connection`'s `k`-th: its topic,
   * payload and the events it carries.
   */
  next: (n: number, connection: number, k: number) => { topic: string; payload: string; events: number };
}

export interface MqttLoadResult {
  messages: number;
  /** Messages PUBACKed with a success code, and the events they carried: what the service acknowledged. */
  acknowledgedMessages: number;
  acknowledgedEvents: number;
  /** Messages PUBACKed with a refusal code (MQTT 5 reason ≥ 0x80). */
  refused: number;
  /** Messages never answered (their connection closed, or the settle limit passed): they may or may not be stored. */
  unanswered: number;
  /** Connections closed during the load, and the first error seen. */
  closed: number;
  firstError?: string;
  /** performance.now() at the first publish (connections are set up before) and at the last answer. */
  startedAt: number;
  lastAnswerAt: number;
  /** From the first publish until the last PUBACK of the load. */
  durationS: number;
  /** Publish → PUBACK, per acknowledged message. */
  p50Ms: number;
  p99Ms: number;
}

const SETTLE_LIMIT_MS = 30_000;

/**
 * A closed loop of QoS 1 publishes over `connections` MQTT connections for `durationS`. At the end no
 * message is cut off: publishing stops and every message in flight waits for its PUBACK (as the HTTP
 * load waits for its last answers), so the acknowledged events can be checked against history.
 */
export async function runMqttLoad(options: MqttLoadOptions): Promise<MqttLoadResult> {
  const connecting = await Promise.allSettled(
    // Each under a deadline of its own: a socket the server closes before CONNACK leaves MQTT.js's
    // promise unsettled when it may not reconnect, and the bench would wait forever.
    Array.from({ length: options.connections }, (_, c) =>
      withTimeout(mqtt.connectAsync(options.url, {
        protocolVersion: 5,
        username: options.apiKey,
        clientId: `${options.clientPrefix}-${c}`,
        clean: true,
        keepalive: 60,
        connectTimeout: 10_000,
        // A broken connection counts its messages in flight as unanswered: a re-send after a
        // reconnect would blur what was acknowledged when.
        reconnectPeriod: 0,
      }), 15_000),
    ),
  );
  const clients = connecting.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
  const refusal = connecting.find((outcome) => outcome.status === 'rejected');
  if (refusal) {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    throw new Error(`MQTT: ${connecting.length - clients.length} of ${options.connections} connections failed: ${String(refusal.reason)}`);
  }
  const latencies: number[] = [];
  const result = { messages: 0, acknowledgedMessages: 0, acknowledgedEvents: 0, refused: 0, unanswered: 0, closed: 0, firstError: undefined as string | undefined };
  let n = 0;
  let stopping = false;
  let lastAnswerAt = performance.now();
  const started = performance.now();
  const stopTimer = setTimeout(() => (stopping = true), options.durationS * 1000);
  try {
    await Promise.all(clients.map((client, c) => publishLoop(client, c)));
  } finally {
    clearTimeout(stopTimer);
    await Promise.all(clients.map((client) => client.endAsync(true).catch(() => undefined)));
  }
  return {
    ...result,
    startedAt: started,
    lastAnswerAt,
    durationS: (lastAnswerAt - started) / 1000,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
  };

  function publishLoop(client: MqttClient, c: number): Promise<void> {
    return new Promise((resolve) => {
      let k = 0;
      let pending = 0;
      let done = false;
      // Messages still unanswered when the settle limit passes, or when the connection closes, are
      // counted once, as unanswered; their PUBACKs, should any come later, no longer count.
      const settleTimer = setTimeout(() => abandon(), options.durationS * 1000 + SETTLE_LIMIT_MS);
      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(settleTimer);
        resolve();
      };
      const abandon = () => {
        if (done) return;
        result.unanswered += pending;
        pending = 0;
        finish();
      };
      client.on('error', (error) => (result.firstError ??= error.message));
      client.on('close', () => {
        if (done) return;
        result.closed++;
        result.firstError ??= `connection ${c} closed`;
        abandon();
      });
      const publishOne = () => {
        const message = options.next(n++, c, k++);
        const sentAt = performance.now();
        pending++;
        result.messages++;
        client.publish(message.topic, message.payload, { qos: 1 }, (error) => {
          if (done) return;
          pending--;
          lastAnswerAt = performance.now();
          if (error) {
            // A PUBACK with a refusal code is an answer (nothing stored); any other error is not.
            if ('code' in error && typeof error.code === 'number') result.refused++;
            else result.unanswered++;
            result.firstError ??= error.message;
          } else {
            result.acknowledgedMessages++;
            result.acknowledgedEvents += message.events;
            latencies.push(lastAnswerAt - sentAt);
          }
          if (!stopping) publishOne();
          else if (pending === 0) finish();
        });
      };
      for (let i = 0; i < options.inFlight; i++) publishOne();
    });
  }
}
