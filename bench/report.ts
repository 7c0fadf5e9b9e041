// Turning benchmark results into text: a console table for `corral bench`, and for `bench:compare` the
// per-workload comparison (medians, spreads, ratios), BENCHMARKS.md and a hand-written SVG chart. No I/O.
import type { TargetKind } from "./servers.js";
import { targetLabels } from "./servers.js";
import { workloadDescriptions, type WorkloadName, type WorkloadResult } from "./workloads.js";

// ------------------------------------------------------------------ numbers

export interface Spread {
  median: number;
  min: number;
  max: number;
}

/** Median and range of the finite values; undefined when there are none. */
export function spread(values: readonly number[]): Spread | undefined {
  const xs = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = Math.floor(xs.length / 2);
  const median = xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
  return { median, min: xs[0]!, max: xs[xs.length - 1]! };
}

/** Three significant figures, thousands separated: 12,300 / 45.6 / 0.789. */
export function fmt(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "n/a";
  if (Number.isInteger(value)) return value.toLocaleString("en-US");
  const abs = Math.abs(value);
  if (abs >= 10 ** digits) return Math.round(value).toLocaleString("en-US");
  const decimals = Math.max(0, digits - 1 - Math.floor(Math.log10(abs)));
  return value.toFixed(decimals);
}

export function fmtBytes(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return "n/a";
  const units = ["B", "KiB", "MiB", "GiB"];
  let v = value;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u += 1;
  }
  return `${fmt(v)} ${units[u]}`;
}

function fmtSpread(s: Spread | undefined, format: (v: number) => string = fmt): string {
  if (s === undefined) return "n/a";
  return s.min === s.max ? format(s.median) : `${format(s.median)} (${format(s.min)}–${format(s.max)})`;
}

// ------------------------------------------------------------------ console table for `corral bench`

export function textTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") + "\n";
}

export function resultsTable(results: readonly WorkloadResult[]): string {
  const rows = results.map((r) => [
    r.workload,
    fmt(r.opsPerSec),
    fmt(r.latency.p50Ms),
    fmt(r.latency.p99Ms),
    fmt(r.latency.p999Ms),
    fmt(r.latency.maxMs),
    String(r.ops),
    String(r.errors),
  ]);
  let out = textTable(["workload", "ops/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms", "ops", "errors"], rows);
  for (const r of results) {
    const extras = Object.entries(r.extra).map(([k, v]) => `${k}=${fmtExtra(k, v)}`);
    if (extras.length > 0) out += `${r.workload}: ${extras.join(" ")}\n`;
    if (r.firstError !== null) out += `${r.workload}: first error: ${r.firstError}\n`;
  }
  return out;
}

function fmtExtra(key: string, value: number | null): string {
  if (/Bytes$/.test(key)) return fmtBytes(value);
  if (/Ms$/.test(key)) return `${fmt(value)} ms`;
  return fmt(value);
}

// ------------------------------------------------------------------ comparison

/** results[target][workload]: one result per round (missing when the target could not run the workload). */
export type CompareResults = Partial<Record<TargetKind, Partial<Record<WorkloadName, WorkloadResult[]>>>>;

/** Standalone servers, or ensembles of three: each compares one Corral target with one ZooKeeper target. */
export type Topology = "standalone" | "ensemble";

export const topologies: readonly Topology[] = ["standalone", "ensemble"];

export const topologyTargets: Record<Topology, { zookeeper: TargetKind; corral: TargetKind; label: string }> =
  {
    standalone: { zookeeper: "zookeeper", corral: "corral", label: "standalone" },
    ensemble: { zookeeper: "zookeeper-3", corral: "corral-3", label: "×3" },
  };

/** Corral / ZooKeeper of one topology, per round (same round, back to back), then median and range. */
export interface Ratios {
  throughput: Spread | undefined;
  p99: Spread | undefined;
}

export interface WorkloadComparison {
  workload: WorkloadName;
  opsPerSec: Partial<Record<TargetKind, Spread>>;
  p50Ms: Partial<Record<TargetKind, Spread>>;
  p99Ms: Partial<Record<TargetKind, Spread>>;
  p999Ms: Partial<Record<TargetKind, Spread>>;
  errors: Partial<Record<TargetKind, number>>;
  ratios: Partial<Record<Topology, Ratios>>;
}

function perRoundRatio(a: readonly number[], b: readonly number[]): Spread | undefined {
  const n = Math.min(a.length, b.length);
  return spread(Array.from({ length: n }, (_, i) => a[i]! / b[i]!));
}

export function compareWorkloads(
  results: CompareResults,
  workloads: readonly WorkloadName[],
  targets: readonly TargetKind[],
): WorkloadComparison[] {
  return workloads.map((workload) => {
    const c: WorkloadComparison = {
      workload,
      opsPerSec: {},
      p50Ms: {},
      p99Ms: {},
      p999Ms: {},
      errors: {},
      ratios: {},
    };
    for (const t of targets) {
      const rs = results[t]?.[workload];
      if (rs === undefined || rs.length === 0) continue;
      c.opsPerSec[t] = spread(rs.map((r) => r.opsPerSec));
      c.p50Ms[t] = spread(rs.map((r) => r.latency.p50Ms));
      c.p99Ms[t] = spread(rs.map((r) => r.latency.p99Ms));
      c.p999Ms[t] = spread(rs.map((r) => r.latency.p999Ms));
      c.errors[t] = rs.reduce((sum, r) => sum + r.errors, 0);
    }
    for (const topology of topologies) {
      const pair = topologyTargets[topology];
      const corral = results[pair.corral]?.[workload] ?? [];
      const zk = results[pair.zookeeper]?.[workload] ?? [];
      if (corral.length === 0 && zk.length === 0) continue;
      c.ratios[topology] = {
        throughput: perRoundRatio(
          corral.map((r) => r.opsPerSec),
          zk.map((r) => r.opsPerSec),
        ),
        p99: perRoundRatio(
          corral.map((r) => r.latency.p99Ms),
          zk.map((r) => r.latency.p99Ms),
        ),
      };
    }
    return c;
  });
}

/** The large-tree figures, per target, as median (range) over rounds. */
export const treeFigures = [
  ["rssPerZnodeBytes", "RSS growth per znode, after loading"],
  ["rssPerZnodeRestartedBytes", "RSS per znode, after a restart"],
  ["rssPerZnodeSettledBytes", "RSS per znode, after loading, once V8 collected while idle (Corral only)"],
  [
    "rssPerZnodeRestartedSettledBytes",
    "RSS per znode, after a restart, once V8 collected while idle (Corral only)",
  ],
  ["heapPerZnodeBytes", "JVM heap in use per znode, after loading (ZooKeeper only)"],
  ["heapPerZnodeRestartedBytes", "JVM heap in use per znode, after a restart (ZooKeeper only)"],
  ["snapshotBytes", "newest snapshot after the restart"],
  ["dataDirBytes", "data dir (snapshots + txn logs)"],
  ["shutdownMs", "shutdown (SIGTERM until exit), ms"],
  ["restartMs", "restart until the last znode is read back, ms"],
] as const;

function extraSpread(rs: readonly WorkloadResult[] | undefined, key: string): Spread | undefined {
  if (rs === undefined) return undefined;
  return spread(rs.map((r) => r.extra[key] ?? NaN));
}

function ratioCell(s: Spread | undefined): string {
  return s === undefined ? "n/a" : fmtSpread(s, (v) => `${fmt(v)}×`);
}

/** The (workload, topology) pairs that have results, in workload order, standalone first. */
function rowsOf(comparisons: readonly WorkloadComparison[]): { c: WorkloadComparison; topology: Topology }[] {
  return comparisons.flatMap((c) =>
    topologies.filter((t) => c.ratios[t] !== undefined).map((topology) => ({ c, topology })),
  );
}

/** One row per workload and topology: ZooKeeper and Corral ops/s and p99, and Corral/ZooKeeper of both. */
export function comparisonTable(comparisons: readonly WorkloadComparison[], markdown: boolean): string {
  const header = [
    "workload",
    "servers",
    "ZooKeeper ops/s",
    "Corral ops/s",
    "Corral/ZK ops/s",
    "ZooKeeper p99 ms",
    "Corral p99 ms",
    "Corral/ZK p99",
  ];
  const rows = rowsOf(comparisons).map(({ c, topology }) => {
    const pair = topologyTargets[topology];
    return [
      c.workload,
      pair.label,
      fmtSpread(c.opsPerSec[pair.zookeeper]),
      fmtSpread(c.opsPerSec[pair.corral]),
      ratioCell(c.ratios[topology]?.throughput),
      fmtSpread(c.p99Ms[pair.zookeeper]),
      fmtSpread(c.p99Ms[pair.corral]),
      ratioCell(c.ratios[topology]?.p99),
    ];
  });
  return markdown ? markdownTable(header, rows) : textTable(header, rows);
}

export function latencyTable(comparisons: readonly WorkloadComparison[]): string {
  const header = [
    "workload",
    "servers",
    "ZooKeeper p50",
    "p99",
    "p99.9",
    "Corral p50",
    "p99",
    "p99.9",
    "errors (ZK / Corral)",
  ];
  const rows = rowsOf(comparisons).map(({ c, topology }) => {
    const pair = topologyTargets[topology];
    const cells = (t: TargetKind): string[] => [
      fmt(c.p50Ms[t]?.median),
      fmt(c.p99Ms[t]?.median),
      fmt(c.p999Ms[t]?.median),
    ];
    return [
      c.workload,
      pair.label,
      ...cells(pair.zookeeper),
      ...cells(pair.corral),
      `${c.errors[pair.zookeeper] ?? "n/a"} / ${c.errors[pair.corral] ?? "n/a"}`,
    ];
  });
  return markdownTable(header, rows);
}

export function treeTable(results: CompareResults, targets: readonly TargetKind[]): string {
  const standalone = targets.filter((t) => results[t]?.tree !== undefined);
  const header = ["large tree", ...standalone.map((t) => targetLabels[t]), "Corral/ZK"];
  const rows = treeFigures.map(([key, label]) => {
    const cells = standalone.map((t) => {
      const s = extraSpread(results[t]?.tree, key);
      return fmtSpread(s, key.endsWith("Bytes") ? fmtBytes : fmt);
    });
    const corral = results.corral?.tree?.map((r) => r.extra[key] ?? NaN) ?? [];
    const zk = results.zookeeper?.tree?.map((r) => r.extra[key] ?? NaN) ?? [];
    return [label, ...cells, ratioCell(perRoundRatio(corral, zk))];
  });
  return markdownTable(header, rows);
}

/** Server CPU per operation (an ensemble's members added up) and load generator CPU, per workload and topology. */
export function cpuTable(results: CompareResults, workloads: readonly WorkloadName[]): string {
  const header = [
    "workload",
    "servers",
    "ZooKeeper server µs/op",
    "Corral server µs/op",
    "Corral/ZK µs/op",
    "ZooKeeper server CPU %",
    "Corral server CPU %",
    "load generator CPU % (vs ZK / Corral)",
  ];
  const rows = workloads.flatMap((w) =>
    topologies.flatMap((topology) => {
      const pair = topologyTargets[topology];
      if (results[pair.zookeeper]?.[w] === undefined && results[pair.corral]?.[w] === undefined) return [];
      const of = (t: TargetKind, key: string): Spread | undefined => extraSpread(results[t]?.[w], key);
      const perOp = (t: TargetKind): number[] =>
        results[t]?.[w]?.map((r) => r.extra.serverCpuUsPerOp ?? NaN) ?? [];
      return [
        [
          w,
          pair.label,
          fmtSpread(of(pair.zookeeper, "serverCpuUsPerOp")),
          fmtSpread(of(pair.corral, "serverCpuUsPerOp")),
          ratioCell(perRoundRatio(perOp(pair.corral), perOp(pair.zookeeper))),
          fmt(of(pair.zookeeper, "serverCpuPct")?.median),
          fmt(of(pair.corral, "serverCpuPct")?.median),
          `${fmt(of(pair.zookeeper, "clientCpuPct")?.median)} / ${fmt(of(pair.corral, "clientCpuPct")?.median)}`,
        ],
      ];
    }),
  );
  return markdownTable(header, rows);
}

export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const esc = (s: string): string => s.replace(/\|/g, "\\|");
  const line = (cells: readonly string[]): string => `| ${cells.map(esc).join(" | ")} |`;
  return [
    line(header),
    `|${header.map((_, i) => (i === 0 ? " --- " : " ---: ")).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

export function workloadList(workloads: readonly WorkloadName[]): string {
  return workloads.map((w) => `- \`${w}\`: ${workloadDescriptions[w]}`).join("\n");
}

// ------------------------------------------------------------------ SVG

const svgColors: Record<TargetKind, string> = {
  zookeeper: "#d9822b",
  corral: "#2b7bd9",
  "zookeeper-3": "#f0c08a",
  "corral-3": "#8fbbef",
};

function xml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/**
 * Two horizontal bar charts: Corral/ZooKeeper throughput ratio per workload and topology (median, whiskers
 * min–max, a line at 1), and p99 per workload and target on a log scale.
 */
export function chartSvg(comparisons: readonly WorkloadComparison[], targets: readonly TargetKind[]): string {
  const width = 860;
  const labelW = 110;
  const plotW = width - labelW - 40;
  const rowH = 26;
  const out: string[] = [];
  let y = 0;

  // Panel 1: throughput ratio.
  const ratios = rowsOf(comparisons).flatMap(({ c, topology }) => {
    const r = c.ratios[topology]?.throughput;
    if (r === undefined) return [];
    return [{ label: topology === "standalone" ? c.workload : `${c.workload} ×3`, r }];
  });
  const ratioMax = Math.max(2, ...ratios.map((x) => x.r.max)) * 1.05;
  const xr = (v: number): number => labelW + (v / ratioMax) * plotW;
  out.push(
    `<text x="${labelW}" y="${(y += 22)}" font-weight="bold">Throughput, Corral / ZooKeeper, standalone and ×3 (median; whiskers: min–max of rounds)</text>`,
  );
  y += 10;
  const top1 = y;
  for (const { label, r } of ratios) {
    const cy = y + rowH / 2;
    out.push(`<text x="${labelW - 8}" y="${cy + 4}" text-anchor="end">${xml(label)}</text>`);
    out.push(
      `<rect x="${labelW}" y="${y + 4}" width="${(xr(r.median) - labelW).toFixed(1)}" height="${rowH - 8}" fill="${r.median >= 1 ? "#3a9d5d" : "#c8553d"}"/>`,
    );
    out.push(
      `<line x1="${xr(r.min).toFixed(1)}" y1="${cy}" x2="${xr(r.max).toFixed(1)}" y2="${cy}" stroke="#222" stroke-width="1.5"/>`,
    );
    out.push(
      `<text x="${(Math.max(xr(r.max), xr(r.median)) + 6).toFixed(1)}" y="${cy + 4}">${fmt(r.median)}×</text>`,
    );
    y += rowH;
  }
  out.push(
    `<line x1="${xr(1).toFixed(1)}" y1="${top1}" x2="${xr(1).toFixed(1)}" y2="${y}" stroke="#222" stroke-dasharray="4 3"/>`,
  );
  for (let v = 0; v <= ratioMax; v += ratioMax > 4 ? 1 : 0.5) {
    out.push(`<text x="${xr(v).toFixed(1)}" y="${y + 14}" text-anchor="middle" font-size="10">${v}</text>`);
  }
  y += 34;

  // Panel 2: p99 latency, log scale.
  const present = targets.filter((t) => comparisons.some((c) => c.p99Ms[t] !== undefined));
  const p99s = comparisons.flatMap((c) => present.map((t) => c.p99Ms[t]?.median ?? NaN));
  const finite = p99s.filter((v) => Number.isFinite(v) && v > 0);
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...finite, 1))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...finite, 10))));
  const xl = (v: number): number =>
    labelW + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  out.push(
    `<text x="${labelW}" y="${(y += 8)}" font-weight="bold">p99 latency, ms (log scale; median of rounds)</text>`,
  );
  y += 6;
  present.forEach((t, i) => {
    const lx = labelW + i * 150;
    out.push(`<rect x="${lx}" y="${y + 4}" width="12" height="12" fill="${svgColors[t]}"/>`);
    out.push(`<text x="${lx + 18}" y="${y + 14}">${xml(targetLabels[t])}</text>`);
  });
  y += 24;
  const barH = 10;
  const top2 = y;
  for (const c of comparisons) {
    const groupH = barH * present.length + 8;
    out.push(`<text x="${labelW - 8}" y="${y + groupH / 2 + 4}" text-anchor="end">${xml(c.workload)}</text>`);
    present.forEach((t, i) => {
      const v = c.p99Ms[t]?.median;
      if (v === undefined || !Number.isFinite(v)) return;
      const by = y + 4 + i * barH;
      out.push(
        `<rect x="${labelW}" y="${by}" width="${(xl(v) - labelW).toFixed(1)}" height="${barH - 1}" fill="${svgColors[t]}"/>`,
      );
      out.push(`<text x="${(xl(v) + 4).toFixed(1)}" y="${by + barH - 2}" font-size="9">${fmt(v)}</text>`);
    });
    y += groupH;
  }
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    out.push(
      `<line x1="${xl(d).toFixed(1)}" y1="${top2}" x2="${xl(d).toFixed(1)}" y2="${y}" stroke="#ccc" stroke-width="0.5"/>`,
    );
    out.push(`<text x="${xl(d).toFixed(1)}" y="${y + 14}" text-anchor="middle" font-size="10">${d}</text>`);
  }
  y += 24;

  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    ...out,
    `</svg>`,
    "",
  ].join("\n");
}
