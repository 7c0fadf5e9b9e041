// Every error the client raises: ZkError with one subclass per ZooKeeper code (KeeperException.Code), and argument errors.
import { Code, codeName } from "../protocol/error-codes.js";
import type { Stat } from "../protocol/types.js";

/** One op's outcome in a transaction (multi), in op order. */
export type TransactionResult =
  | { type: "create"; path: string; stat: Stat | null }
  | { type: "delete" }
  | { type: "setData"; stat: Stat }
  | { type: "check" }
  /**
   * A failed transaction reports every op this way (as ZooKeeper's ErrorResult): code 0 for ops before the
   * failing one (they would have succeeded), the failing op's code, then runtimeInconsistency (-2) for the rest.
   */
  | { type: "error"; code: number; error: ZkError | null };

/**
 * A ZooKeeper outcome: `code` is KeeperException.Code's number, `path` the path of the request as the caller
 * gave it (chroot stripped) when there is one. A failed transaction rejects with the subclass of the failing
 * op's code, with `results` (every op's outcome) and `failedOpIndex` set.
 */
export class ZkError extends Error {
  readonly code: number;
  readonly path: string | undefined;
  /** Set only on the error a failed transaction rejects with. */
  results: readonly TransactionResult[] | undefined;
  failedOpIndex: number | undefined;

  constructor(code: number, path?: string, message?: string) {
    super(message ?? `KeeperErrorCode = ${codeTitle(code)}${path === undefined ? "" : ` for ${path}`}`);
    this.name = new.target.name;
    this.code = code;
    this.path = path;
    this.results = undefined;
    this.failedOpIndex = undefined;
  }

  /** The code's name in error-codes.ts, e.g. "noNode". */
  get codeName(): string {
    return codeName(this.code);
  }
}

/** "noNode" → "NoNode", as KeeperException's messages spell it. */
function codeTitle(code: number): string {
  const name = codeName(code);
  return name.startsWith("code(") ? name : name[0]!.toUpperCase() + name.slice(1);
}

export class SystemError extends ZkError {}
export class RuntimeInconsistencyError extends ZkError {}
export class DataInconsistencyError extends ZkError {}
/** The connection dropped before the reply came: the request may or may not have been applied. */
export class ConnectionLossError extends ZkError {}
export class MarshallingError extends ZkError {}
export class UnimplementedError extends ZkError {}
export class OperationTimeoutError extends ZkError {}
export class BadArgumentsError extends ZkError {}
export class UnknownSessionError extends ZkError {}
export class NewConfigNoQuorumError extends ZkError {}
export class ReconfigInProgressError extends ZkError {}
export class ApiError extends ZkError {}
export class NoNodeError extends ZkError {}
export class NoAuthError extends ZkError {}
export class BadVersionError extends ZkError {}
export class NoChildrenForEphemeralsError extends ZkError {}
export class NodeExistsError extends ZkError {}
export class NotEmptyError extends ZkError {}
/** The session is gone (expired, or this client was closed): terminal. */
export class SessionExpiredError extends ZkError {}
export class InvalidCallbackError extends ZkError {}
export class InvalidACLError extends ZkError {}
/** The server refused credentials: terminal for the client, as ZooKeeper's AUTH_FAILED state is. */
export class AuthFailedError extends ZkError {}
export class SessionMovedError extends ZkError {}
export class NotReadOnlyError extends ZkError {}
export class EphemeralOnLocalSessionError extends ZkError {}
export class NoWatcherError extends ZkError {}
export class RequestTimeoutError extends ZkError {}
export class ReconfigDisabledError extends ZkError {}
export class SessionClosedRequireSaslAuthError extends ZkError {}
export class QuotaExceededError extends ZkError {}
export class ThrottledOpError extends ZkError {}

type ZkErrorClass = new (code: number, path?: string, message?: string) => ZkError;

const classes = new Map<number, ZkErrorClass>([
  [Code.systemError, SystemError],
  [Code.runtimeInconsistency, RuntimeInconsistencyError],
  [Code.dataInconsistency, DataInconsistencyError],
  [Code.connectionLoss, ConnectionLossError],
  [Code.marshallingError, MarshallingError],
  [Code.unimplemented, UnimplementedError],
  [Code.operationTimeout, OperationTimeoutError],
  [Code.badArguments, BadArgumentsError],
  [Code.unknownSession, UnknownSessionError],
  [Code.newConfigNoQuorum, NewConfigNoQuorumError],
  [Code.reconfigInProgress, ReconfigInProgressError],
  [Code.apiError, ApiError],
  [Code.noNode, NoNodeError],
  [Code.noAuth, NoAuthError],
  [Code.badVersion, BadVersionError],
  [Code.noChildrenForEphemerals, NoChildrenForEphemeralsError],
  [Code.nodeExists, NodeExistsError],
  [Code.notEmpty, NotEmptyError],
  [Code.sessionExpired, SessionExpiredError],
  [Code.invalidCallback, InvalidCallbackError],
  [Code.invalidACL, InvalidACLError],
  [Code.authFailed, AuthFailedError],
  [Code.sessionMoved, SessionMovedError],
  [Code.notReadOnly, NotReadOnlyError],
  [Code.ephemeralOnLocalSession, EphemeralOnLocalSessionError],
  [Code.noWatcher, NoWatcherError],
  [Code.requestTimeout, RequestTimeoutError],
  [Code.reconfigDisabled, ReconfigDisabledError],
  [Code.sessionClosedRequireSaslAuth, SessionClosedRequireSaslAuthError],
  [Code.quotaExceeded, QuotaExceededError],
  [Code.throttledOp, ThrottledOpError],
]);

/** The ZkError subclass for `code` (KeeperException.create); an unknown non-zero code gets the base class. */
export function errorForCode(code: number, path?: string, message?: string): ZkError {
  if (code === Code.ok) throw new RangeError("errorForCode(0): ok is not an error");
  const Class = classes.get(code) ?? ZkError;
  return new Class(code, path, message);
}

/** A caller's argument the client refuses before sending anything (ZooKeeper throws IllegalArgumentException). */
export class InvalidArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A path that is not a valid znode path (PathUtils.validatePath). */
export class InvalidPathError extends InvalidArgumentError {
  readonly path: string;
  constructor(path: string, why: string) {
    super(`invalid path ${JSON.stringify(path)}: ${why}`);
    this.path = path;
  }
}

/** A connect string that does not parse as host:port[,host:port...][/chroot]. */
export class InvalidConnectStringError extends InvalidArgumentError {
  readonly connectString: string;
  constructor(connectString: string, why: string) {
    super(`invalid connect string ${JSON.stringify(connectString)}: ${why}`);
    this.connectString = connectString;
  }
}

/** A WatchEventStream nobody read from buffered its limit of events; it stopped and removed its watch. */
export class WatchStreamOverflowError extends Error {
  constructor(eventsMax: number) {
    super(`more than ${eventsMax} watch events unread: the stream stopped`);
    this.name = new.target.name;
  }
}
