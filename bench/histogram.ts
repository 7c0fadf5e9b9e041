// LatencyHistogram: log-bucketed latencies (1 % resolution) with a fixed bucket count, so a long run never grows it.
import assert from "node:assert/strict";

/** Smallest latency told apart from zero, in microseconds. */
const resolutionUs = 1;
/** Bucket i holds latencies in [growth^i, growth^(i+1)) µs: 1 % wide, so a percentile is within 1 %. */
const growth = 1.01;
/** 1 µs · 1.01^2100 ≈ 1.2 h: anything slower lands in the last bucket. */
const bucketCountMax = 2100;
const logGrowth = Math.log(growth);

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

export class LatencyHistogram {
  private readonly buckets = new Float64Array(bucketCountMax);
  private count = 0;
  private totalMs = 0;
  private maxMs = 0;

  record(latencyMs: number): void {
    assert(Number.isFinite(latencyMs) && latencyMs >= 0, `latency ${latencyMs} ms`);
    const us = Math.max(resolutionUs, latencyMs * 1000);
    const index = Math.min(bucketCountMax - 1, Math.floor(Math.log(us) / logGrowth));
    this.buckets[index]! += 1;
    this.count += 1;
    this.totalMs += latencyMs;
    if (latencyMs > this.maxMs) this.maxMs = latencyMs;
  }

  get size(): number {
    return this.count;
  }

  /** The latency below which `q` (0..1) of the samples fall: the geometric middle of its bucket, capped at the max. */
  percentileMs(q: number): number {
    assert(q >= 0 && q <= 1, `quantile ${q}`);
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < bucketCountMax; i++) {
      seen += this.buckets[i]!;
      if (seen >= rank) return Math.min(this.maxMs, Math.pow(growth, i + 0.5) / 1000);
    }
    return this.maxMs;
  }

  summary(): LatencySummary {
    return {
      count: this.count,
      meanMs: this.count === 0 ? NaN : this.totalMs / this.count,
      p50Ms: this.percentileMs(0.5),
      p99Ms: this.percentileMs(0.99),
      p999Ms: this.percentileMs(0.999),
      maxMs: this.count === 0 ? NaN : this.maxMs,
    };
  }
}
