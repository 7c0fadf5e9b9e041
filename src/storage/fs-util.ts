// Small file-system helpers for storage: directory fsync, bounded windowed reads. Must not buffer whole files.
import { open, readdir, mkdir, type FileHandle } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { assert } from "../base/assert.js";
import { readWindowBytes } from "./format.js";

/** fsync a directory so a create, rename or unlink in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** mkdir -p, then fsync the parent of every directory it made so their entries are durable. */
export async function ensureDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true });
  if (created === undefined) return;
  const top = resolve(created);
  for (let d = resolve(dir); ; d = dirname(d)) {
    await fsyncDir(dirname(d));
    if (d === top || d === dirname(d)) break;
  }
}

/** Names in `dir`, or [] when it does not exist. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw e;
  }
}

/** Reads exactly `length` bytes at `position` into `into` (fewer only at end of file); returns the count. */
export async function readAt(
  fh: FileHandle,
  into: Uint8Array,
  length: number,
  position: number,
): Promise<number> {
  assert(length <= into.length, "readAt: buffer too small");
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(into, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** Writes all of `data` at `position`. */
export async function writeAt(fh: FileHandle, data: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done, position + done);
    assert(bytesWritten > 0, "write made no progress");
    done += bytesWritten;
  }
}

/**
 * A read window over a file of known size: `get(pos, n)` returns bytes [pos, pos+n) clipped to the end of
 * the file, valid until the next call. Memory stays at max(readWindowBytes, largest n asked for).
 */
export class FileWindow {
  private buf: Buffer;
  private start = 0;
  private len = 0;
  constructor(
    private readonly fh: FileHandle,
    readonly size: number,
  ) {
    this.buf = Buffer.allocUnsafe(Math.min(readWindowBytes, Math.max(size, 1)));
  }

  async get(pos: number, n: number): Promise<Buffer> {
    assert(pos >= 0 && n >= 0, "FileWindow.get: negative range");
    const end = Math.min(pos + n, this.size);
    if (pos >= end) return this.buf.subarray(0, 0);
    if (pos >= this.start && end <= this.start + this.len) {
      return this.buf.subarray(pos - this.start, end - this.start);
    }
    const want = Math.min(Math.max(readWindowBytes, end - pos), this.size - pos);
    if (this.buf.length < want) this.buf = Buffer.allocUnsafe(want);
    this.start = pos;
    this.len = await readAt(this.fh, this.buf, want, pos);
    return this.buf.subarray(0, Math.min(end - pos, this.len));
  }
}
