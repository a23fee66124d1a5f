import { AppError } from '@strata/core';
import { MqttRefusal } from './mqtt-refusal.ts';
import { REASON_CODES } from './reason-codes.ts';

/**
 * The MQTT answer to what refused a message on its way in (the payload reader's and acceptEvents'
 * AppErrors, the HTTP statuses of the same refusals): nothing was stored in every case. A client's
 * fault is answered on the message (MQTT 5 PUBACK); storage that cannot take the message now ends
 * the connection instead, because a negative PUBACK is final for the client's library while a
 * message left unacknowledged is sent again once the client reconnects.
 */
export function refusalFromError(error: unknown): MqttRefusal {
  if (error instanceof MqttRefusal) return error;
  if (!(error instanceof AppError)) {
    return new MqttRefusal(REASON_CODES.unspecifiedError, 'unavailable', 'the message could not be stored; retry', { effect: 'disconnect', cause: error });
  }
  const message = describe(error);
  switch (error.status) {
    case 400:
      return new MqttRefusal(REASON_CODES.payloadFormatInvalid, 'invalid_payload', message, { cause: error });
    case 413:
      return new MqttRefusal(REASON_CODES.payloadFormatInvalid, 'too_large', message, { cause: error });
    case 401:
    case 403:
      return new MqttRefusal(REASON_CODES.notAuthorized, 'forbidden', message, { cause: error });
    case 429: {
      const seconds = Number(error.headers?.['retry-after']);
      return new MqttRefusal(REASON_CODES.quotaExceeded, 'rate_limited', message, {
        cause: error,
        retryAfterMs: Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000,
      });
    }
    default:
      return new MqttRefusal(REASON_CODES.serverBusy, 'unavailable', message, { effect: 'disconnect', cause: error });
  }
}

/** The error's message and its first problems: what a 400 body would say, short enough for a reason string. */
function describe(error: AppError): string {
  const details = (error.details ?? []).slice(0, 3).map((detail) => {
    const where = detail.index === undefined ? detail.field : `event ${detail.index} ${detail.field}`;
    return `${where}: ${detail.reason}`;
  });
  return details.length > 0 ? `${error.message} (${details.join('; ')})` : error.message;
}
