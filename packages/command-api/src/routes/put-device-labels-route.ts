import type { FastifyInstance } from 'fastify';
import { requireDevice } from '@strata/core';
import { readLabelsBody, readLabelsDevice } from '../labels/read-labels-body.ts';
import { writeDeviceLabels, type WriteDeviceLabelsDeps } from '../labels/write-device-labels.ts';
import { LabelsParams, PutLabelsBody, labelsResponses, LABELS_BODY_LIMIT } from './device-labels-schemas.ts';
import { documentOnly } from './write-schemas.ts';

export type PutDeviceLabelsRouteDeps = WriteDeviceLabelsDeps;

const schema = {
  tags: ['labels'],
  summary: "Replace a device's labels",
  description:
    'The labels named hold from now on (the database clock, to the millisecond); every other label of the device becomes absent from now on. ' +
    'Events before now keep the labels their device had at their time. A device-bound key may set only its own device.',
  params: LabelsParams,
  body: PutLabelsBody,
  response: labelsResponses,
};

/** `PUT /v1/devices/:device/labels` (SPEC "Groups"): replace, effective from now. */
export function registerPutDeviceLabelsRoute(app: FastifyInstance, deps: PutDeviceLabelsRouteDeps): void {
  // The schema documents; readLabelsBody checks, naming fields as events' checks do. Fastify's own
  // validation is off (documentOnly): it would also coerce the body (7 → "7", ["a"] → "a") before the check.
  app.put('/v1/devices/:device/labels', { config: { access: 'write' }, schema, validatorCompiler: documentOnly, bodyLimit: LABELS_BODY_LIMIT }, async (request) => {
    const device = readLabelsDevice(request.params);
    requireDevice(request.auth, device);
    const labels = readLabelsBody(request.body, false);
    return writeDeviceLabels(deps, { tenantId: request.auth.tenantId, device, labels, replace: true });
  });
}
