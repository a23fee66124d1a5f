import type { FastifyInstance } from 'fastify';
import { requireDevice } from '@strata/core';
import { readLabelsBody, readLabelsDevice } from '../labels/read-labels-body.ts';
import { writeDeviceLabels, type WriteDeviceLabelsDeps } from '../labels/write-device-labels.ts';
import { LabelsParams, PatchLabelsBody, labelsResponses, LABELS_BODY_LIMIT } from './device-labels-schemas.ts';
import { documentOnly } from './write-schemas.ts';

export type PatchDeviceLabelsRouteDeps = WriteDeviceLabelsDeps;

const schema = {
  tags: ['labels'],
  summary: "Change some of a device's labels",
  description:
    'The labels named take their value from now on (the database clock, to the millisecond), null removes one; labels not named keep theirs. ' +
    'Events before now keep the labels their device had at their time. A device may hold at most 32 labels. A device-bound key may set only its own device.',
  params: LabelsParams,
  body: PatchLabelsBody,
  response: labelsResponses,
};

/** `PATCH /v1/devices/:device/labels` (SPEC "Groups"): merge (null removes), effective from now. */
export function registerPatchDeviceLabelsRoute(app: FastifyInstance, deps: PatchDeviceLabelsRouteDeps): void {
  // The schema documents; readLabelsBody checks, naming fields as events' checks do. Fastify's own
  // validation is off (documentOnly): it would also coerce the body (7 → "7", ["a"] → "a") before the check.
  app.patch('/v1/devices/:device/labels', { config: { access: 'write' }, schema, validatorCompiler: documentOnly, bodyLimit: LABELS_BODY_LIMIT }, async (request) => {
    const device = readLabelsDevice(request.params);
    requireDevice(request.auth, device);
    const labels = readLabelsBody(request.body, true);
    return writeDeviceLabels(deps, { tenantId: request.auth.tenantId, device, labels, replace: false });
  });
}
