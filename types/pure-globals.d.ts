// The few host globals the pure layers (base, protocol, tree, consensus) may use.
// Everything else (Buffer, timers, node:*) is unavailable to them by construction.
declare class TextEncoder {
  encode(input?: string): Uint8Array;
}
declare class TextDecoder {
  constructor(label?: string, options?: { fatal?: boolean; ignoreBOM?: boolean });
  decode(input?: Uint8Array): string;
}
