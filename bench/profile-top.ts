// Lists the functions with the most self time in a V8 .cpuprofile (from `node --cpu-prof`).
// Usage: node dist/bench/profile-top.js FILE.cpuprofile [N]
import { readFileSync } from "node:fs";
import { relative } from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  location: string;
  selfMs: number;
  share: number;
}

/** Self time per function (name + file + line), highest first; idle and GC stay in as V8 reports them. */
export function topSelfTime(profile: CpuProfile, count: number): SelfTime[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, { name: string; location: string; us: number }>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    // timeDeltas[i] is the time since the previous sample: charge it to this sample's function.
    const us = profile.timeDeltas[i] ?? 0;
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) return;
    const name = frame.functionName === "" ? "(anonymous)" : frame.functionName;
    const file = frame.url.startsWith("file://")
      ? relative(process.cwd(), new URL(frame.url).pathname)
      : frame.url;
    const location = file === "" ? "" : `${file}:${frame.lineNumber + 1}`;
    const key = `${name}@${location}`;
    const entry = selfUs.get(key) ?? { name, location, us: 0 };
    entry.us += us;
    selfUs.set(key, entry);
    totalUs += us;
  });
  return [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, count)
    .map((e) => ({ name: e.name, location: e.location, selfMs: e.us / 1000, share: e.us / totalUs }));
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ""))) {
  const [file, n] = process.argv.slice(2);
  if (file === undefined) {
    process.stderr.write("usage: node dist/bench/profile-top.js FILE.cpuprofile [N]\n");
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  for (const [i, e] of topSelfTime(profile, Number(n ?? 10)).entries()) {
    process.stdout.write(
      `${String(i + 1).padStart(2)}. ${(e.share * 100).toFixed(1).padStart(5)} %  ${e.selfMs.toFixed(0).padStart(7)} ms  ${e.name}  ${e.location}\n`,
    );
  }
}
