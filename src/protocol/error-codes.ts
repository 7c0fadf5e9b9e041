// ZooKeeper error codes (KeeperException.Code), as literal-typed constants. Pure: constants only.
// Ranges: 0 ok; -1..-99 system errors (server side); -100 and below API errors (client visible outcomes).

export const Code = {
  ok: 0,
  systemError: -1,
  runtimeInconsistency: -2,
  dataInconsistency: -3,
  connectionLoss: -4,
  marshallingError: -5,
  unimplemented: -6,
  operationTimeout: -7,
  badArguments: -8,
  newConfigNoQuorum: -13,
  reconfigInProgress: -14,
  unknownSession: -12,
  apiError: -100,
  noNode: -101,
  noAuth: -102,
  badVersion: -103,
  noChildrenForEphemerals: -108,
  nodeExists: -110,
  notEmpty: -111,
  sessionExpired: -112,
  invalidCallback: -113,
  invalidACL: -114,
  authFailed: -115,
  sessionMoved: -118,
  notReadOnly: -119,
  ephemeralOnLocalSession: -120,
  noWatcher: -121,
  requestTimeout: -122,
  reconfigDisabled: -123,
  sessionClosedRequireSaslAuth: -124,
  quotaExceeded: -125,
  throttledOp: -127,
} as const;
export type CodeValue = (typeof Code)[keyof typeof Code];

const names = new Map<number, string>(Object.entries(Code).map(([k, v]) => [v, k]));

/** The constant's name for a code, e.g. -101 → "noNode"; unknown codes → "code(-999)". */
export function codeName(code: number): string {
  return names.get(code) ?? `code(${code})`;
}
