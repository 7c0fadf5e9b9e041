// Operational errors: typed failures of the environment, never of the program. Pure: no I/O.

export class CorralError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A config key with a bad value. */
export class ConfigError extends CorralError {
  readonly key: string;
  constructor(key: string, message: string) {
    super("CONFIG", `config ${key}: ${message}`);
    this.key = key;
  }
}

/** A record in a file that fails its check, not at the tail. */
export class CorruptLogError extends CorralError {
  readonly file: string;
  readonly offset: number;
  constructor(file: string, offset: number, why: string) {
    super("CORRUPT_LOG", `corrupt record in ${file} at offset ${offset}: ${why}`);
    this.file = file;
    this.offset = offset;
  }
}

/** A frame whose declared length is past jute.maxbuffer. */
export class FrameTooLargeError extends CorralError {
  readonly length: number;
  constructor(length: number, max: number) {
    super("FRAME_TOO_LARGE", `frame length ${length} exceeds jute.maxbuffer ${max}`);
    this.length = length;
  }
}

/** A record that cannot be decoded (truncated, bad length, bad UTF-8). */
export class DecodeError extends CorralError {
  constructor(message: string) {
    super("DECODE", message);
  }
}
