import { DEVICE_PATTERN, EVENT_LIMITS, LABEL_RULE } from '@strata/core';
import { Type } from 'typebox';

// The label routes' schemas document the API (OpenAPI) and shape the 200; the routes check params and
// bodies themselves with core's checkLabels, so a refusal names the field as an event's would.

/** A validator that accepts anything and changes nothing: the schema is documentation only. */
export const documentOnly = () => (): boolean => true;

export const LabelsParams = Type.Object({
  device: Type.String({ pattern: DEVICE_PATTERN.source, description: 'the device whose labels are set; it need not have sent an event yet' }),
});

const labelName = { minLength: 1, maxLength: EVENT_LIMITS.nameMaxLength };

export const PutLabelsBody = Type.Object(
  {
    labels: Type.Record(Type.String(labelName), Type.String(labelName), {
      maxProperties: EVENT_LIMITS.maxLabels,
      description: `the device's labels from now on; labels not named become absent (${LABEL_RULE})`,
    }),
  },
  { additionalProperties: false },
);

export const PatchLabelsBody = Type.Object(
  {
    labels: Type.Record(Type.String(labelName), Type.Union([Type.String(labelName), Type.Null()]), {
      maxProperties: EVENT_LIMITS.maxLabels,
      description: `labels to set from now on (null removes one); labels not named keep their value (${LABEL_RULE})`,
    }),
  },
  { additionalProperties: false },
);

export const LabelsResponse = Type.Object(
  {
    device: Type.String(),
    labels: Type.Record(Type.String(), Type.String(), { description: 'the labels the device holds from effectiveFrom on' }),
    effectiveFrom: Type.String({ format: 'date-time', description: "the write's instant (the database clock, to the millisecond): events from then on count under these labels" }),
  },
  { description: 'the labels in force once the write took effect' },
);

const ErrorBody = (description: string) =>
  Type.Object(
    {
      error: Type.Object({
        code: Type.String(),
        message: Type.String(),
        details: Type.Optional(Type.Array(Type.Object({ index: Type.Optional(Type.Integer()), field: Type.String(), reason: Type.String() }))),
      }),
    },
    { description },
  );

export const labelsResponses = {
  200: LabelsResponse,
  400: ErrorBody('the device name or the body is invalid (details name each field); nothing changed'),
  401: ErrorBody('missing or invalid API key'),
  403: ErrorBody('a read key, or a key bound to another device'),
  503: ErrorBody('the tenant\'s labels are being written by the aggregate refresher past the lock timeout, or storage is unavailable; retry after Retry-After'),
};
