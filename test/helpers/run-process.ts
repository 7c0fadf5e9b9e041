// Runs a command to completion in its own process group (zkCli.sh is bash running java: a timeout kills both,
// and only them), with optional stdin, and returns its exit code and output. Test helper.
import { spawn } from "node:child_process";
import { liveChildren } from "./exit-cleanup.js";
import { repoRoot } from "./managed-process.js";

/** Debian's zkCli.sh (package zookeeper). */
export const zkCli = "/usr/share/zookeeper/bin/zkCli.sh";

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; without it stdin is closed at once. */
  input?: string;
  timeoutMs: number;
}

/** Resolves when the command exits; rejects (after killing its process group) when it outlives timeoutMs. */
export function runProcess(command: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: repoRoot,
      env: { ...process.env, ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
      detached: true,
    });
    liveChildren.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    const timer = setTimeout(() => {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
      reject(new Error(`${command} ${args.join(" ")} did not exit within ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      reject(e);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? "");
  });
}
