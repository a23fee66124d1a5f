import type { IConnectPacket } from 'mqtt-packet';
import { MqttRefusal } from './mqtt-refusal.ts';
import { CONNACK_RETURN_CODES, REASON_CODES } from './reason-codes.ts';

/** What Strata refuses in a CONNECT before looking at its key. */
export function checkConnect(packet: IConnectPacket, version: number): void {
  if (version === 5 && packet.properties?.authenticationMethod !== undefined) {
    throw new MqttRefusal(REASON_CODES.badAuthenticationMethod, 'bad_auth_method', 'enhanced authentication is not supported; send the API key as the password', {
      returnCode: CONNACK_RETURN_CODES.notAuthorized,
    });
  }
  // MQTT 3.1.1 (3.1.3-8): an empty client id needs a clean session, the server keeping none for it.
  if (version !== 5 && packet.clientId === '' && !packet.clean) {
    throw new MqttRefusal(REASON_CODES.protocolError, 'identifier_rejected', 'an empty client id needs a clean session', {
      returnCode: CONNACK_RETURN_CODES.identifierRejected,
    });
  }
}
