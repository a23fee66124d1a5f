import { DEVICE_PATTERN, EVENT_LIMITS, LABEL_RULE, errorResponse } from '@strata/core';
import { Type } from 'typebox';

// The label routes' schemas document the API (OpenAPI) and shape the 200; the routes check params and
// bodies themselves with core's checkLabels, so a refusal names the field as an event's would.

/**
 * A labels body holds at most 32 labels of names and values of 128 code points: ~100 KB even with
 * every character JSON-escaped as a surrogate pair. Nothing near MAX_BODY_BYTES, which let a tenant
 * have 4 MB label bodies read and parsed 100 times in 4 s (second hostile review of decision 0126).
 */
export const LABELS_BODY_LIMIT = 256 * 1024;

export const LabelsParams = Type.Object({
  device: Type.String({ pattern: DEVICE_PATTERN.source, description: 'the device whose labels are set; it need not have sent an event yet' }),
});

const labelName = { minLength: 1, maxLength: EVENT_LIMITS.nameMaxLength };

export const PutLabelsBody = Type.Object(
  {
    labels: Type.Object({}, {
      additionalProperties: Type.String(labelName),
      maxProperties: EVENT_LIMITS.maxLabels,
      description: `the device's labels from now on; labels not named become absent (${LABEL_RULE})`,
    }),
  },
  { additionalProperties: false },
);

export const PatchLabelsBody = Type.Object(
  {
    labels: Type.Object({}, {
      additionalProperties: Type.Union([Type.String(labelName), Type.Null()]),
      maxProperties: EVENT_LIMITS.maxLabels,
      description: `labels to set from now on (null removes one); labels not named keep their value (${LABEL_RULE})`,
    }),
  },
  { additionalProperties: false },
);

export const LabelsResponse = Type.Object(
  {
    device: Type.String(),
    // additionalProperties, not Type.Record: a Record is patternProperties "^.*$", and the serializer
    // would silently drop a label whose name holds a line break (`.` does not match one).
    labels: Type.Object({}, { additionalProperties: Type.String(), description: 'the labels the device holds from effectiveFrom on' }),
    effectiveFrom: Type.String({ format: 'date-time', description: "the write's instant (the database clock, to the millisecond): events from then on count under these labels" }),
  },
  { description: 'the labels in force once the write took effect' },
);

export const labelsResponses = {
  200: LabelsResponse,
  400: errorResponse(400, 'the device name or the body is invalid (details name each field), or a PATCH would leave the device more than 32 labels; nothing changed'),
  401: errorResponse(401),
  403: errorResponse(403, 'a read key, or a key bound to another device'),
  500: errorResponse(500),
  503: errorResponse(503, "the tenant's label versions lock was held past the lock timeout (the refresher's fold of label samples, or another label write), or storage is unavailable; nothing changed: retry after Retry-After"),
};
