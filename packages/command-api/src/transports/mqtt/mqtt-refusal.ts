import { CONNACK_RETURN_CODES } from './reason-codes.ts';

/** Where a refusal leaves an MQTT 5 connection; a 3.1.1 connection is closed by every refusal. */
export type RefusalEffect =
  /** Answered on the message (PUBACK with the reason code); the connection goes on. */
  | 'nack'
  /** The connection is closed (MQTT 5: DISCONNECT with the reason code). */
  | 'disconnect';

/**
 * Why Strata said no to a CONNECT or a PUBLISH, in the protocol's own terms. Thrown by the steps of
 * a connection (authentication, topic, payload, storage) and answered by the connection according to
 * the client's protocol version.
 */
export class MqttRefusal extends Error {
  /** MQTT 5 reason code (CONNACK, PUBACK or DISCONNECT). */
  readonly reasonCode: number;
  /** MQTT 3.1.1 CONNACK return code, for refusals at CONNECT. */
  readonly returnCode: number;
  readonly effect: RefusalEffect;
  /** Metric label: strata_mqtt_messages_total{outcome} or strata_mqtt_refusals_total{reason}. */
  readonly label: string;
  /** How long the client should wait before sending more (the tenant's rate): its socket is not read meanwhile. */
  readonly retryAfterMs: number | undefined;

  constructor(
    reasonCode: number,
    label: string,
    message: string,
    options: { effect?: RefusalEffect; returnCode?: number; cause?: unknown; retryAfterMs?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'MqttRefusal';
    this.reasonCode = reasonCode;
    this.label = label;
    this.effect = options.effect ?? 'nack';
    this.returnCode = options.returnCode ?? CONNACK_RETURN_CODES.serverUnavailable;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A refusal that ends the connection: a protocol breach, a timeout, shutdown. */
export function disconnection(reasonCode: number, label: string, message: string): MqttRefusal {
  return new MqttRefusal(reasonCode, label, message, { effect: 'disconnect' });
}
