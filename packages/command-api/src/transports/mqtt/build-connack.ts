import { randomUUID } from 'node:crypto';
import type { IConnackPacket, IConnectPacket } from 'mqtt-packet';
import { CONNACK_RETURN_CODES, REASON_CODES } from './reason-codes.ts';

/**
 * The CONNACK of an accepted connection. MQTT 5 clients are told what Strata is: QoS 1 at most, no
 * subscriptions, how many messages may be unacknowledged and how large a packet may be, the keep-alive
 * enforced when it is not the one asked for, an id when they sent none, and that no session is kept.
 */
export interface ConnackTerms {
  version: number;
  /** The keep-alive enforced (the client's, unless it asked for none or more than the maximum). */
  keepAliveSeconds: number;
  maxInFlight: number;
  maxPacketBytes: number;
}

export function buildConnack(packet: IConnectPacket, terms: ConnackTerms): IConnackPacket {
  const { version, keepAliveSeconds, maxInFlight, maxPacketBytes } = terms;
  if (version !== 5) return { cmd: 'connack', sessionPresent: false, returnCode: CONNACK_RETURN_CODES.accepted };
  return {
    cmd: 'connack',
    sessionPresent: false,
    reasonCode: REASON_CODES.success,
    properties: {
      maximumQoS: 1,
      receiveMaximum: maxInFlight,
      maximumPacketSize: maxPacketBytes,
      wildcardSubscriptionAvailable: false,
      subscriptionIdentifiersAvailable: false,
      sharedSubscriptionAvailable: false,
      ...(keepAliveSeconds !== (packet.keepalive ?? 0) ? { serverKeepAlive: keepAliveSeconds } : {}),
      ...(packet.clientId === '' ? { assignedClientIdentifier: `strata-${randomUUID()}` } : {}),
      // Strata keeps no session: a client asking for one is told it ends with the connection.
      ...((packet.properties?.sessionExpiryInterval ?? 0) > 0 ? { sessionExpiryInterval: 0 } : {}),
    },
  };
}

