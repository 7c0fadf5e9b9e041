// fourLetterWord(): send a four-letter word (ruok, srvr, mntr, ...) and read the reply until the server closes.
import { connect } from "node:net";

/** Resolves with the whole reply; rejects on a connection error or when no reply completes within timeoutMs. */
export function fourLetterWord(host: string, port: number, word: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`${word}: no reply within ${timeoutMs} ms`)));
    socket.on("connect", () => socket.write(word));
    socket.on("data", (chunk) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", (hadError) => {
      if (!hadError) resolve(Buffer.concat(chunks).toString("utf8"));
    });
  });
}

/** True when the server answers `ruok` with `imok`; false on any error. */
export async function isImok(host: string, port: number): Promise<boolean> {
  try {
    return (await fourLetterWord(host, port, "ruok", 1_000)) === "imok";
  } catch {
    return false;
  }
}

/**
 * True when the server answers `ruok` with `imok` and `srvr` does not say it is "not currently serving":
 * ZooKeeper answers imok as soon as its socket factory runs, a moment before its ZooKeeperServer does.
 */
export async function isServing(host: string, port: number): Promise<boolean> {
  if (!(await isImok(host, port))) return false;
  try {
    return !(await fourLetterWord(host, port, "srvr", 1_000)).includes("not currently serving");
  } catch {
    return true; // a server without srvr: imok is all we can know
  }
}
