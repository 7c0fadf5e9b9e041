// startZooKeeper(): Apache ZooKeeper 3.8 (Debian's `zookeeper` package) standalone, as a reference server.
// Runs the JVM directly: Debian's zkServer.sh expects /etc/zookeeper and writes to /var/log.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { ManagedServer, repoRoot, type ServerOptions } from "./managed-process.js";

const javaDir = "/usr/share/java";

/**
 * What QuorumPeerMain 3.8.0 loads from Debian's /usr/share/java (zookeeper.jar's own manifest Class-Path, minus
 * jline and jetty, which only zkCli and the admin server use), plus slf4j-simple so its log reaches stderr.
 */
export const zookeeperJars = [
  "zookeeper.jar",
  "zookeeper-jute.jar",
  "slf4j-api.jar",
  "slf4j-simple.jar",
  "netty-buffer.jar",
  "netty-codec.jar",
  "netty-common.jar",
  "netty-handler.jar",
  "netty-resolver.jar",
  "netty-transport.jar",
  "netty-transport-native-epoll.jar",
  "netty-transport-native-unix-common.jar",
  "commons-cli.jar",
  "commons-io.jar",
  "jackson-annotations.jar",
  "jackson-core.jar",
  "jackson-databind.jar",
  "metrics-core.jar",
  "snappy-java.jar",
].map((jar) => `${javaDir}/${jar}`);

export const zookeeperClasspath = zookeeperJars.join(":");

/** What the admin server (JettyAdminServer) needs besides: Debian's jetty9 and the servlet API. */
export const zookeeperAdminJars = [
  "jetty9-server.jar",
  "jetty9-servlet.jar",
  "jetty9-http.jar",
  "jetty9-io.jar",
  "jetty9-util.jar",
  "jetty9-security.jar",
  "servlet-api.jar",
].map((jar) => `${javaDir}/${jar}`);

export interface ZooKeeperOptions extends ServerOptions {
  /** Put the admin server's jars on the classpath (turn it on with admin.* keys in extraConfig). */
  adminServer?: boolean;
}

/** Why Apache ZooKeeper cannot run here (no java, a jar missing), or undefined when it can. */
export function zookeeperUnavailableReason(): string | undefined {
  const java = spawnSync("java", ["-version"], { stdio: "ignore" });
  if (java.error !== undefined || java.status !== 0)
    return "java is not installed (apt-get install default-jre-headless)";
  const missing = zookeeperJars.filter((jar) => !existsSync(jar));
  if (missing.length > 0) return `missing ${missing.join(", ")} (apt-get install zookeeper)`;
  return undefined;
}

/** JVM system properties each test server gets; zoo.cfg carries the same settings where ZooKeeper reads them. */
function systemProperties(options: ServerOptions): string[] {
  const props = [
    "-Dzookeeper.extendedTypesEnabled=true",
    "-Dzookeeper.admin.enableServer=false",
    `-Dzookeeper.forceSync=${options.forceSync === false ? "no" : "yes"}`,
    "-Dorg.slf4j.simpleLogger.defaultLogLevel=info",
  ];
  if (options.superDigest !== undefined)
    props.push(`-Dzookeeper.DigestAuthenticationProvider.superDigest=${options.superDigest}`);
  if (options.containerCheckIntervalMs !== undefined)
    props.push(`-Dznode.container.checkIntervalMs=${options.containerCheckIntervalMs}`);
  // ZooKeeperServer reads zookeeper.enforceQuota once, when the class loads: pass it as a property.
  if (options.extraConfig?.enforceQuota === "true") props.push("-Dzookeeper.enforceQuota=true");
  return props;
}

/** Starts ZooKeeper on a free loopback port in a fresh temp dir; `stop()` kills it and removes the dir. */
export function startZooKeeper(options: ZooKeeperOptions = {}): Promise<ManagedServer> {
  return ManagedServer.start("zookeeper", options, (configPath) => ({
    command: "java",
    args: [
      "-Xmx256m",
      "-XX:+UseSerialGC",
      ...systemProperties(options),
      "-cp",
      options.adminServer === true ? [...zookeeperJars, ...zookeeperAdminJars].join(":") : zookeeperClasspath,
      "org.apache.zookeeper.server.quorum.QuorumPeerMain",
      configPath,
    ],
    cwd: repoRoot,
  }));
}
