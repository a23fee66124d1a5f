/**
 * The MQTT 5 reason codes Strata sends (OASIS MQTT 5.0, 2.4), named, so every refusal in the code
 * reads as what it means. A code is valid only on some packets: PUBACK takes success, 0x80, 0x83,
 * 0x87, 0x90, 0x91, 0x97 and 0x99; CONNACK and DISCONNECT take the others listed here.
 */
export const REASON_CODES = {
  success: 0x00,
  unspecifiedError: 0x80,
  malformedPacket: 0x81,
  protocolError: 0x82,
  badUserNameOrPassword: 0x86,
  notAuthorized: 0x87,
  serverUnavailable: 0x88,
  serverBusy: 0x89,
  serverShuttingDown: 0x8b,
  badAuthenticationMethod: 0x8c,
  keepAliveTimeout: 0x8d,
  topicNameInvalid: 0x90,
  topicAliasInvalid: 0x94,
  packetTooLarge: 0x95,
  quotaExceeded: 0x97,
  payloadFormatInvalid: 0x99,
  qosNotSupported: 0x9b,
  connectionRateExceeded: 0x9f,
  /** UNSUBACK: there never is a subscription to remove. */
  noSubscriptionExisted: 0x11,
} as const;

/** MQTT 3.1.1 CONNACK return codes (3.2.2.3); 3.1.1 has no other way to say no (no negative PUBACK). */
export const CONNACK_RETURN_CODES = {
  accepted: 0,
  unacceptableProtocolVersion: 1,
  identifierRejected: 2,
  serverUnavailable: 3,
  badUserNameOrPassword: 4,
  notAuthorized: 5,
} as const;

/** MQTT 3.1.1 SUBACK's one failure code. */
export const SUBACK_FAILURE = 0x80;
