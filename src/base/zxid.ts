// zxid helpers: zxid = (epoch << 32) | counter, 64-bit as bigint. Pure.
import { assert } from "./assert.js";

export function makeZxid(epoch: number, counter: number): bigint {
  assert(Number.isInteger(epoch) && epoch >= 0 && epoch < 2 ** 32, `bad epoch ${epoch}`);
  assert(Number.isInteger(counter) && counter >= 0 && counter < 2 ** 32, `bad counter ${counter}`);
  return (BigInt(epoch) << 32n) | BigInt(counter);
}

export function zxidEpoch(zxid: bigint): number {
  return Number(zxid >> 32n);
}

export function zxidCounter(zxid: bigint): number {
  return Number(zxid & 0xffffffffn);
}

export function zxidHex(zxid: bigint): string {
  return "0x" + BigInt.asUintN(64, zxid).toString(16);
}
