import { AppError, requireScope, type KeyIdentity, type TenantAuthenticator } from '@strata/core';
import type { IConnectPacket } from 'mqtt-packet';
import { MqttRefusal } from './mqtt-refusal.ts';
import { CONNACK_RETURN_CODES, REASON_CODES } from './reason-codes.ts';

export interface ConnectAuthentication {
  identity: KeyIdentity;
  /** Kept to re-check the key on later messages (cached per process, as every HTTP request is). */
  key: string;
}

/**
 * Verifies the key a CONNECT presents and that it may write: the password, or the username when the
 * password is empty or absent (ThingsBoard devices send their token as the username). A bad key is
 * refused as SPEC says (3.1.1 return code 5, MQTT 5 reason 0x86), a key without the write scope as
 * not authorized (5 / 0x87).
 */
export async function authenticateConnect(
  authenticator: Pick<TenantAuthenticator, 'authenticate'>,
  packet: IConnectPacket,
  clientAddress: string,
): Promise<ConnectAuthentication> {
  const key = presentedKey(packet);
  let identity: KeyIdentity;
  try {
    identity = await authenticator.authenticate(key ?? '', clientAddress);
  } catch (error) {
    throw connectRefusal(error, key === undefined);
  }
  try {
    requireScope(identity, 'write');
  } catch {
    throw new MqttRefusal(REASON_CODES.notAuthorized, 'forbidden', 'this key may not write', { returnCode: CONNACK_RETURN_CODES.notAuthorized });
  }
  return { identity, key: key as string };
}

/** The password when there is one, else the username; never both tried, so a key is never guessed twice. */
export function presentedKey(packet: Pick<IConnectPacket, 'username' | 'password'>): string | undefined {
  const password = packet.password === undefined ? '' : Buffer.from(packet.password).toString('utf8');
  if (password !== '') return password;
  return packet.username === undefined || packet.username === '' ? undefined : packet.username;
}

function connectRefusal(error: unknown, missing: boolean): MqttRefusal {
  const status = error instanceof AppError ? error.status : 503;
  if (status === 401) {
    const message = missing ? 'no key: send the API key as the password, or as the username with an empty password' : 'invalid API key';
    return new MqttRefusal(REASON_CODES.badUserNameOrPassword, 'bad_key', message, { returnCode: CONNACK_RETURN_CODES.notAuthorized });
  }
  if (status === 429) {
    return new MqttRefusal(REASON_CODES.connectionRateExceeded, 'auth_rate_limited', 'too many failed authentications from this address', {
      returnCode: CONNACK_RETURN_CODES.notAuthorized,
    });
  }
  return new MqttRefusal(REASON_CODES.serverUnavailable, 'unavailable', 'cannot verify the key right now; retry', {
    returnCode: CONNACK_RETURN_CODES.serverUnavailable,
    cause: error,
  });
}
