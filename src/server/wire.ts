// Frames the server sends and the first decode of frames it receives, on top of the protocol codec.
import { JuteReader } from "../protocol/jute-reader.js";
import { JuteWriter } from "../protocol/jute-writer.js";
import {
  decodeConnectRequest,
  decodeRequest,
  decodeRequestHeader,
  encodeConnectResponse,
  encodeReplyHeader,
  encodeResponse,
  encodeWatcherEvent,
} from "../protocol/records.js";
import type { ConnectRequest, ConnectResponse, Request, Response, WatcherEvent } from "../protocol/types.js";
import { Xid } from "../protocol/opcodes.js";
import { DecodeError } from "../base/errors.js";

export function decodeConnect(frame: Uint8Array): ConnectRequest {
  return decodeConnectRequest(new JuteReader(frame));
}

/** A request whose header decoded but whose body did not: answered with MarshallingError. */
export class BadRequestBodyError extends DecodeError {
  constructor(
    readonly xid: number,
    readonly op: number,
    cause: string,
  ) {
    super(cause);
  }
}

export function decodeRequestFrame(frame: Uint8Array): { xid: number; op: number; request: Request } {
  const r = new JuteReader(frame);
  const header = decodeRequestHeader(r);
  try {
    return { xid: header.xid, op: header.type, request: decodeRequest(header, r) };
  } catch (e) {
    if (e instanceof DecodeError) throw new BadRequestBodyError(header.xid, header.type, e.message);
    throw e;
  }
}

export function connectResponseFrame(resp: ConnectResponse): Uint8Array {
  const w = JuteWriter.frame(64);
  encodeConnectResponse(w, resp);
  return w.finishFrame();
}

export function replyFrame(xid: number, zxid: bigint, err: number, response: Response | null): Uint8Array {
  const w = JuteWriter.frame(response === null ? 32 : 256);
  encodeReplyHeader(w, { xid, zxid, err });
  if (response !== null) encodeResponse(w, response);
  return w.finishFrame();
}

export function eventFrame(zxid: bigint, event: WatcherEvent): Uint8Array {
  const w = JuteWriter.frame(64 + event.path.length * 3);
  encodeReplyHeader(w, { xid: Xid.notification, zxid, err: 0 });
  encodeWatcherEvent(w, event);
  return w.finishFrame();
}
