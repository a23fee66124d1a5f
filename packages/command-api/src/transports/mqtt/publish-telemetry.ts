import { AppError, type Config, type KeyIdentity, type TenantAuthenticator } from '@strata/core';
import { acceptEvents, type AcceptEventsDeps } from '../../ingest/accept-events.ts';
import { JSON_BYTES_PER_CHAR } from '../../ingest/held-bytes.ts';
import type { OwedBytes } from '../../ingest/ingest-rate-limiter.ts';
import { MqttRefusal } from './mqtt-refusal.ts';
import { REASON_CODES } from './reason-codes.ts';
import { readTelemetryPayload } from './read-telemetry-payload.ts';
import { refusalFromError } from './refusal-from-error.ts';
import { telemetryDevice } from './telemetry-device.ts';

export interface PublishTelemetryDeps extends AcceptEventsDeps {
  config: AcceptEventsDeps['config'] & Pick<Config, 'maxBodyBytes'>;
  authenticator: Pick<TenantAuthenticator, 'cached' | 'authenticate'>;
}

export interface TelemetryMessage {
  topic: string;
  payload: Buffer;
  /** The MQTT 5 content type said `application/x-ndjson`. */
  ndjson: boolean;
  arrivalMs: number;
}

/** The connection's credentials, as verified at CONNECT. */
export interface ConnectionKey {
  key: string;
  clientAddress: string;
}

/**
 * One PUBLISH through the path every write takes: the key still valid, the topic's device, the
 * payload's events, then acceptEvents (rate, validation, device binding, key budget, group commit).
 * Resolves once the events are in staging and the queue, what a PUBACK promises; throws an
 * MqttRefusal having stored nothing.
 */
export async function publishTelemetry(deps: PublishTelemetryDeps, connection: ConnectionKey, message: TelemetryMessage): Promise<number> {
  const owed: OwedBytes = { owedBytes: 0, bytesTaken: 0 };
  let tenantId: string | undefined;
  try {
    const identity = await currentIdentity(deps.authenticator, connection);
    tenantId = identity.tenantId;
    // A large payload's bytes are taken before it is decoded and parsed (decision 0124), a small
    // one's owed and taken with its events (decision 0126); a tenant held over its rate is refused
    // without asking Redis. Before the topic is checked: a payload on a topic refused is charged too
    // (hostile review of 0126: 1,000 MB on a bad topic in 9 s, never charged).
    const taking = deps.rateLimiter.takeOrOwe(tenantId, message.payload.length, owed);
    if (taking) await taking;
    const device = telemetryDevice(message.topic, identity);
    const { events, errors } = readTelemetryPayload(message.payload, {
      device,
      arrivalMs: message.arrivalMs,
      ndjson: message.ndjson,
      maxBytes: deps.config.maxBodyBytes,
    });
    const { accepted } = await acceptEvents(deps, identity, events, message.payload.length * JSON_BYTES_PER_CHAR, errors, owed);
    return accepted;
  } catch (error) {
    // Refused before its events were taken: what it read is charged all the same.
    if (tenantId !== undefined) deps.rateLimiter.chargeOwed(tenantId, owed);
    throw refusalFromError(error);
  }
}

/**
 * The key as this process knows it now. Revocations are pushed (the listener disconnects the key's
 * connections), and this check holds the rest: a key forgotten or past its cache lifetime is
 * verified again before its next message is taken, as each HTTP request's key is.
 */
async function currentIdentity(authenticator: PublishTelemetryDeps['authenticator'], connection: ConnectionKey): Promise<KeyIdentity> {
  const cached = authenticator.cached(connection.key);
  if (cached) return cached;
  try {
    return await authenticator.authenticate(connection.key, connection.clientAddress);
  } catch (error) {
    if (error instanceof AppError && error.status === 503) throw error;
    throw new MqttRefusal(REASON_CODES.notAuthorized, 'revoked', 'the key is no longer valid', { effect: 'disconnect' });
  }
}
