// ServiceDiscovery: instances registered as ephemeral JSON nodes under <base>/<name>/<id> (Curator x-discovery).
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { NoNodeError, type ZooKeeperClient } from "../client/index.js";
import { ChildrenCache } from "./children-cache.js";
import { retryOnConnectionLoss } from "./connection-retry.js";
import { RecipeStateError } from "./errors.js";
import type { ChildData } from "./node-cache.js";
import { PersistentNode } from "./persistent-node.js";
import { validateRecipePath } from "./recipe-path.js";
import { joinPath } from "./znode-paths.js";

/**
 * One instance of a service, as Curator's JsonInstanceSerializer writes ServiceInstance: `name`, `id`,
 * `address`, `port`, `payload` and `registrationTimeUTC` (ms since the epoch), plus Curator's other fields so a
 * Java ServiceDiscovery reads it too.
 */
export interface ServiceInstance<P = unknown> {
  name: string;
  id: string;
  address: string | null;
  port: number | null;
  payload: P | null;
  registrationTimeUTC: number;
  sslPort?: number | null;
  serviceType?: "DYNAMIC" | "STATIC" | "PERMANENT" | "DYNAMIC_SEQUENTIAL";
  uriSpec?: unknown;
  enabled?: boolean;
}

/** A new instance of `name` with a fresh id and the registration time set to now (ServiceInstance.builder()). */
export function serviceInstance<P = unknown>(fields: {
  name: string;
  address?: string | null;
  port?: number | null;
  payload?: P | null;
  id?: string;
  sslPort?: number | null;
}): ServiceInstance<P> {
  return {
    name: fields.name,
    id: fields.id ?? randomUUID(),
    address: fields.address ?? null,
    port: fields.port ?? null,
    sslPort: fields.sslPort ?? null,
    payload: fields.payload ?? null,
    registrationTimeUTC: Date.now(),
    serviceType: "DYNAMIC",
    uriSpec: null,
    enabled: true,
  };
}

function checkName(what: string, value: string): void {
  if (value.length === 0 || value.includes("/") || value === "." || value === "..")
    throw new RangeError(`invalid service ${what} ${JSON.stringify(value)}`);
}

function encode(instance: ServiceInstance): string {
  return JSON.stringify(instance);
}

function decode<P>(data: Uint8Array): ServiceInstance<P> | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(data).toString("utf8")) as ServiceInstance<P>;
    return typeof parsed === "object" && parsed !== null && typeof parsed.id === "string"
      ? parsed
      : undefined;
  } catch {
    return undefined; // not an instance: skipped, as Curator skips what it cannot deserialize
  }
}

/**
 * Registers this process's instances and finds others' (Curator's ServiceDiscovery). An instance is the
 * ephemeral node `<basePath>/<name>/<id>` holding its JSON; a PersistentNode keeps it there (re-created if
 * deleted or missing after a reconnection), and it goes when unregistered, on close(), or when the session
 * ends.
 */
export class ServiceDiscovery<P = unknown> {
  private readonly registered = new Map<string, { instance: ServiceInstance<P>; node: PersistentNode }>();
  private closed = false;

  constructor(
    readonly zk: ZooKeeperClient,
    readonly basePath = "/services",
  ) {
    validateRecipePath(basePath);
  }

  private pathFor(name: string, id?: string): string {
    checkName("name", name);
    const servicePath = joinPath(this.basePath, name);
    if (id === undefined) return servicePath;
    checkName("id", id);
    return joinPath(servicePath, id);
  }

  /** Registers (or re-registers with new data) an instance; resolves once its node exists. */
  async registerService(instance: ServiceInstance<P>): Promise<void> {
    if (this.closed) throw new RecipeStateError("ServiceDiscovery is closed");
    const path = this.pathFor(instance.name, instance.id);
    const existing = this.registered.get(path);
    if (existing !== undefined) return this.updateService(instance);
    const node = new PersistentNode(this.zk, path, "ephemeral", encode(instance));
    this.registered.set(path, { instance, node });
    try {
      await node.start();
    } catch (err) {
      this.registered.delete(path);
      await node.close();
      throw err;
    }
  }

  /** Replaces a registered instance's data. */
  async updateService(instance: ServiceInstance<P>): Promise<void> {
    const path = this.pathFor(instance.name, instance.id);
    const entry = this.registered.get(path);
    if (entry === undefined)
      throw new RecipeStateError(`instance ${instance.name}/${instance.id} is not registered`);
    entry.instance = instance;
    await entry.node.setData(encode(instance));
  }

  /** Removes a registered instance's node; unregistering an unknown instance is quiet. */
  async unregisterService(instance: Pick<ServiceInstance, "name" | "id">): Promise<void> {
    const path = this.pathFor(instance.name, instance.id);
    const entry = this.registered.get(path);
    if (entry === undefined) return;
    this.registered.delete(path);
    await entry.node.close();
  }

  /** The names of every service with a node under the base path. */
  async queryForNames(): Promise<string[]> {
    try {
      return (await retryOnConnectionLoss(this.zk, () => this.zk.getChildren(this.basePath))).sort();
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
  }

  /** Every registered instance of `name`, sorted by id. */
  async queryForInstances(name: string): Promise<Array<ServiceInstance<P>>> {
    let ids: string[];
    try {
      ids = await retryOnConnectionLoss(this.zk, () => this.zk.getChildren(this.pathFor(name)));
    } catch (err) {
      if (err instanceof NoNodeError) return [];
      throw err;
    }
    const out: Array<ServiceInstance<P>> = [];
    for (const id of ids.sort()) {
      const instance = await this.queryForInstance(name, id);
      if (instance !== undefined) out.push(instance);
    }
    return out;
  }

  /** One instance, or undefined when it is not registered. */
  async queryForInstance(name: string, id: string): Promise<ServiceInstance<P> | undefined> {
    try {
      const { data } = await retryOnConnectionLoss(this.zk, () => this.zk.getData(this.pathFor(name, id)));
      return decode<P>(data);
    } catch (err) {
      if (err instanceof NoNodeError) return undefined;
      throw err;
    }
  }

  /** A cache of `name`'s instances, kept current by a ChildrenCache; call start() on it. */
  serviceCache(name: string): ServiceCache<P> {
    return new ServiceCache<P>(this.zk, this.pathFor(name));
  }

  /** Unregisters every instance this object registered. */
  async close(): Promise<void> {
    this.closed = true;
    const entries = [...this.registered.values()];
    this.registered.clear();
    await Promise.all(entries.map((e) => e.node.close()));
  }
}

export interface ServiceCacheEvents<P> {
  /** The instances changed (one joined, left or updated); `instances` is the new list, sorted by id. */
  changed: [instances: Array<ServiceInstance<P>>];
  error: [error: Error];
}

/** A service's instances, kept current (ServiceCache): instances() answers from memory. */
export class ServiceCache<P = unknown> extends EventEmitter<ServiceCacheEvents<P>> {
  private readonly cache: ChildrenCache;

  constructor(
    readonly zk: ZooKeeperClient,
    readonly servicePath: string,
  ) {
    super();
    this.cache = new ChildrenCache(zk, servicePath);
    const changed = (): void => void this.emit("changed", this.instances());
    this.cache.on("childAdded", changed);
    this.cache.on("childUpdated", changed);
    this.cache.on("childRemoved", changed);
    this.cache.on("error", (err) => {
      if (this.listenerCount("error") > 0) this.emit("error", err);
    });
  }

  /** Loads the instances; resolves once instances() holds them. */
  start(): Promise<void> {
    return this.cache.start();
  }

  /** The cached instances, sorted by id. */
  instances(): Array<ServiceInstance<P>> {
    return this.cache
      .currentData()
      .map((c: ChildData) => decode<P>(c.data))
      .filter((i): i is ServiceInstance<P> => i !== undefined)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  close(): void {
    this.cache.close();
    this.removeAllListeners();
  }
}
