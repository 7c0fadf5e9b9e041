// What a test process must not leave behind if it dies: children still running are SIGKILLed and temp dirs
// removed when it exits. One handler for every helper that starts servers. Test helper.
import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";

/** Children to SIGKILL at exit; helpers add them when spawned and delete them when they exit. */
export const liveChildren = new Set<ChildProcess>();
/** Temp dirs to remove at exit; helpers delete them once they have removed them. */
export const dirsToRemove = new Set<string>();

process.on("exit", () => {
  for (const child of liveChildren) {
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  }
  for (const dir of dirsToRemove) rmSync(dir, { recursive: true, force: true });
});
