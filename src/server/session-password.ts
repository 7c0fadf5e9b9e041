// Session passwords derived from the session id and a secret, so any server holding the secret can check them.
import { createHmac, timingSafeEqual } from "node:crypto";

export const sessionPasswordBytes = 16;

export function sessionPassword(secret: Uint8Array, sessionId: bigint): Uint8Array {
  const id = Buffer.alloc(8);
  id.writeBigInt64BE(BigInt.asIntN(64, sessionId));
  return new Uint8Array(createHmac("sha256", secret).update(id).digest().subarray(0, sessionPasswordBytes));
}

export function checkSessionPassword(secret: Uint8Array, sessionId: bigint, passwd: Uint8Array): boolean {
  if (passwd.length !== sessionPasswordBytes) return false;
  return timingSafeEqual(sessionPassword(secret, sessionId), passwd);
}
