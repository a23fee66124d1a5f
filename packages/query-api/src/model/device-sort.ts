export type SortOrder = 'asc' | 'desc';

/** How the device list is ordered; `device` breaks every tie so the order is total. */
export type DeviceSort =
  | { kind: 'device'; order: SortOrder }
  | { kind: 'ts'; order: SortOrder }
  | { kind: 'value'; key: string; order: SortOrder };
