// An interactive zkCli.sh (or any line-oriented process) fed commands on stdin; `expect` waits for output past
// what was already matched. Test helper.
import type { ChildProcess } from "node:child_process";
import { waitFor } from "./wait.js";

export interface ShellOptions {
  /** How long expect() waits by default. */
  expectTimeoutMs: number;
  /** More to print when an expectation fails (server logs, say). */
  context?: () => string;
}

export class ZkCliShell {
  /** Everything the process printed, stdout and stderr interleaved. */
  output = "";
  private cursor = 0;
  readonly exited: Promise<number | null>;

  constructor(
    readonly child: ChildProcess,
    private readonly opts: ShellOptions,
  ) {
    child.stdout?.on("data", (chunk: Buffer) => (this.output += chunk.toString("utf8")));
    child.stderr?.on("data", (chunk: Buffer) => (this.output += chunk.toString("utf8")));
    this.exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  }

  send(line: string): void {
    this.child.stdin?.write(line + "\n");
  }

  async expect(pattern: RegExp, timeoutMs = this.opts.expectTimeoutMs): Promise<RegExpExecArray> {
    let match: RegExpExecArray | null = null;
    await waitFor(
      () => {
        match = pattern.exec(this.output.slice(this.cursor));
        return match !== null;
      },
      { timeoutMs, intervalMs: 25, message: `zkCli output ${pattern}` },
    ).catch((err: Error) => {
      const extra = this.opts.context?.() ?? "";
      throw new Error(
        `${err.message}\n--- zkCli output ---\n${this.output}${extra === "" ? "" : `\n${extra}`}`,
      );
    });
    const m = match as unknown as RegExpExecArray;
    this.cursor += m.index + m[0].length;
    return m;
  }

  /** Sends a command and waits for its output. */
  async run(command: string, pattern: RegExp): Promise<RegExpExecArray> {
    this.send(command);
    return this.expect(pattern);
  }
}
