import { DEVICE_PATTERN, DEVICE_RULE, type KeyIdentity } from '@strata/core';
import { MqttRefusal } from './mqtt-refusal.ts';
import { REASON_CODES } from './reason-codes.ts';

const PREFIX = 'v1/devices/';
const SUFFIX = '/telemetry';
/** ThingsBoard's name for "the device this key belongs to". */
const ME = 'me';
/** `.` and `..` are device names over HTTP, but as topic levels bridges and proxies treat them as paths. */
const ONLY_DOTS = /^\.+$/;

/**
 * The device a PUBLISH writes as, from its topic: `v1/devices/<device>/telemetry`, or
 * `v1/devices/me/telemetry` for a key bound to one device. The device level must be a device name
 * (so no `/`, `+`, `#`, empty or over-long level can pass) and a device-bound key may name only its
 * own device. Every other topic is refused: Strata is not a broker and routes nothing else.
 */
export function telemetryDevice(topic: string, identity: KeyIdentity): string {
  if (!topic.startsWith(PREFIX) || !topic.endsWith(SUFFIX) || topic.length <= PREFIX.length + SUFFIX.length) {
    throw invalidTopic(`topic must be ${PREFIX}<device>${SUFFIX} (or ${PREFIX}${ME}${SUFFIX} with a key bound to a device)`);
  }
  const level = topic.slice(PREFIX.length, topic.length - SUFFIX.length);
  if (level === ME) {
    if (identity.device === null) throw invalidTopic(`${PREFIX}${ME}${SUFFIX} needs a key bound to one device; name the device in the topic`);
    return identity.device;
  }
  if (!DEVICE_PATTERN.test(level) || ONLY_DOTS.test(level)) throw invalidTopic(`the device in the topic must be ${DEVICE_RULE}, not only dots`);
  if (identity.device !== null && identity.device !== level) {
    throw new MqttRefusal(REASON_CODES.notAuthorized, 'forbidden', 'this key is bound to another device');
  }
  return level;
}

function invalidTopic(message: string): MqttRefusal {
  return new MqttRefusal(REASON_CODES.topicNameInvalid, 'invalid_topic', message);
}
