// freePort(): a loopback TCP port that was free a moment ago, outside the kernel's range for the local ports of
// outgoing connections: a server started on it cannot find it taken by another member's connection to a peer
// (which a port from listen(0), drawn from that same range, could be). Test helper.
import { readFileSync } from "node:fs";
import { createServer } from "node:net";

/** Ports below the ephemeral range start here (clear of well-known and registered server defaults). */
const lowestPort = 10_000;

/** The first port of /proc/sys/net/ipv4/ip_local_port_range (Linux's default when it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 0 ? low : 32768;
  } catch {
    return 32768;
  }
}

/** Listens on 127.0.0.1:port and closes: the port it got, or null when that port was taken. */
function tryListen(port: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", (e: NodeJS.ErrnoException) =>
      e.code === "EADDRINUSE" || e.code === "EACCES" ? resolve(null) : reject(e),
    );
    server.listen(port, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") {
        server.close();
        reject(new Error(`unexpected server address ${String(address)}`));
        return;
      }
      const got = address.port;
      server.close((err) => (err ? reject(err) : resolve(got)));
    });
  });
}

/** A random free port below the ephemeral range; a kernel-chosen one when that range leaves no room below it. */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  if (low - lowestPort >= 1000) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const port = await tryListen(lowestPort + Math.floor(Math.random() * (low - lowestPort)));
      if (port !== null) return port;
    }
  }
  const port = await tryListen(0);
  if (port === null) throw new Error("no free port");
  return port;
}

/** `count` distinct loopback ports that were free a moment ago. */
export async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  for (let tries = 0; ports.size < count; tries++) {
    if (tries > count * 20) throw new Error(`could not find ${count} distinct free ports`);
    ports.add(await freePort());
  }
  return [...ports];
}
