// UnknownOpCodeError: a request whose opcode this protocol does not know. Pure: no I/O, no clock, no randomness.
import { CorralError } from "../base/errors.js";

/**
 * Thrown by decodeRequest for an opcode outside ZooDefs.OpCode's client requests. ZooKeeper answers such a
 * request with a ReplyHeader {xid, zxid, err: Unimplemented (-6)} and keeps the connection
 * (ZooKeeperServer.submitRequestNow → UnimplementedRequestProcessor), so the error carries the xid.
 */
export class UnknownOpCodeError extends CorralError {
  readonly xid: number;
  readonly type: number;
  constructor(xid: number, type: number) {
    super("UNKNOWN_OPCODE", `unknown opcode ${type} (xid ${xid})`);
    this.xid = xid;
    this.type = type;
  }
}
