// The admin HTTP server (ZooKeeper's JettyAdminServer) on admin.serverAddress:admin.serverPort: GET (or POST)
// <admin.commandURL>/<name> runs a command and answers JSON; GET <admin.commandURL> lists the commands.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import {
  allCommandNames,
  primaryCommandNames,
  runCommand,
  type AdminHost,
  type JsonValue,
} from "./admin-commands.js";

export interface AdminServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * JSON as ZooKeeper's JsonOutputter writes it (Jackson's default pretty printer: `"key" : value`, arrays on one line,
 * `{ }` and `[ ]` when empty). A bigint is written as its exact digits, as Jackson writes a long.
 */
export function toJson(value: JsonValue, depth = 0): string {
  if (value === null) return "null";
  if (typeof value === "bigint") return value.toString();
  if (typeof value === "number") return Number.isFinite(value) ? String(value) : "null";
  if (typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[ ]";
    return `[ ${value.map((v) => toJson(v, depth + 1)).join(", ")} ]`;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return "{ }";
  const pad = "  ".repeat(depth + 1);
  const fields = keys.map((k) => `${pad}${JSON.stringify(k)} : ${toJson(value[k]!, depth + 1)}`);
  return `{\n${fields.join(",\n")}\n${"  ".repeat(depth)}}`;
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: JsonValue,
  headers: Record<string, string> = {},
): void {
  const text = toJson(body);
  res.writeHead(status, {
    ...headers,
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}

/** Writes chunks with backpressure: waits for 'drain' whenever the socket's buffer is full. */
async function sendStream(res: ServerResponse, chunks: Iterable<Uint8Array>): Promise<void> {
  for (const chunk of chunks) {
    if (res.destroyed) return;
    if (!res.write(chunk))
      await new Promise<void>((resolve) => {
        const done = (): void => {
          res.off("drain", done).off("close", done);
          resolve();
        };
        res.on("drain", done).on("close", done);
      });
  }
  res.end();
}

/** JettyAdminServer.commandLinks: an HTML link per primary name; JSON when the client asks for it. */
function listCommands(req: IncomingMessage, res: ServerResponse, commandUrl: string): void {
  if ((req.headers.accept ?? "").includes("application/json")) {
    sendJson(res, 200, { commands: [...primaryCommandNames], names: [...allCommandNames], error: null });
    return;
  }
  const html = primaryCommandNames.map((n) => `<a href="${commandUrl}/${n}">${n}</a>\n<br/>\n`).join("");
  res.writeHead(200, { "content-type": "text/html;charset=utf-8" }).end(html);
}

async function handle(host: AdminHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const commandUrl = host.config.adminCommandUrl;
  const url = new URL(req.url ?? "/", "http://admin");
  const method = req.method ?? "GET";
  if (method === "TRACE" || method === "OPTIONS") {
    sendJson(res, 405, { command: null, error: `${method} is not allowed` });
    return;
  }
  if (url.pathname === commandUrl || url.pathname === `${commandUrl}/`) {
    listCommands(req, res, commandUrl);
    return;
  }
  if (!url.pathname.startsWith(`${commandUrl}/`)) {
    sendJson(res, 404, {
      command: null,
      error: `Not found: ${url.pathname} (commands are under ${commandUrl})`,
    });
    return;
  }
  let name: string;
  try {
    name = decodeURIComponent(url.pathname.slice(commandUrl.length + 1));
  } catch {
    sendJson(res, 400, { command: null, error: "bad command name encoding" });
    return;
  }
  const args = new Map<string, string>();
  for (const [k, v] of url.searchParams) if (!args.has(k)) args.set(k, v);
  const out = await runCommand(host, name, method, {
    args,
    authorization: req.headers.authorization,
    remoteAddress: req.socket.remoteAddress ?? "",
    body: method === "POST" ? req : null,
  });
  if (out.stream !== undefined && out.status === 200) {
    res.writeHead(200, {
      ...out.headers,
      "content-type": "application/octet-stream",
      "content-length": out.headers.snapshot_size,
    });
    await sendStream(res, out.stream);
    return;
  }
  // CommandResponse.toMap: data, then command and error, then data again (so data's own keys keep their place).
  sendJson(
    res,
    out.status,
    { ...out.data, command: out.command, error: out.error, ...out.data },
    out.headers,
  );
}

/**
 * Starts the admin server on config's address and port. A port in use (or any failure to listen) is logged as a
 * warning and the server runs without it, as ZooKeeper's ZooKeeperServerMain does on an AdminServerException.
 */
export async function startAdminServer(host: AdminHost): Promise<AdminServer | null> {
  const c = host.config;
  const server: Server = createServer((req, res) => {
    handle(host, req, res).catch((e: unknown) => {
      host.logger.warn({ err: (e as Error).message, url: req.url }, "admin request failed");
      if (!res.headersSent) sendJson(res, 500, { command: null, error: (e as Error).message });
      else res.destroy();
    });
  });
  // Jetty's idleTimeout: a connection silent this long is closed, however long a snapshot up- or download takes.
  server.keepAliveTimeout = c.adminIdleTimeoutMs;
  server.timeout = c.adminIdleTimeoutMs;
  server.requestTimeout = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(c.adminServerPort, c.adminServerAddress, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    host.logger.warn(
      { address: c.adminServerAddress, port: c.adminServerPort, err: (e as Error).message },
      "cannot start the admin server; running without it",
    );
    return null;
  }
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : c.adminServerPort;
  host.logger.info(
    { address: c.adminServerAddress, port, commandUrl: c.adminCommandUrl },
    "admin server started",
  );
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
