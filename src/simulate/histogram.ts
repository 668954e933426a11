/**
 * A log-bucketed latency histogram (about 1% relative precision, fixed memory), so a long run
 * keeps every sample's contribution without keeping every sample.
 */
const growth = 1.01;
const logGrowth = Math.log(growth);
const bucketsMax = 2400; // 1 µs .. about 23 minutes at 1% steps

export class Histogram {
  private readonly counts = new Float64Array(bucketsMax);
  count = 0;
  maxUs = 0;

  record(micros: number): void {
    const us = Math.max(1, micros);
    const index = Math.min(bucketsMax - 1, Math.floor(Math.log(us) / logGrowth));
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.count += 1;
    if (us > this.maxUs) this.maxUs = us;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < bucketsMax; i += 1) this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0);
    this.count += other.count;
    this.maxUs = Math.max(this.maxUs, other.maxUs);
  }

  /** The value at quantile q (0..1), in microseconds: the upper edge of its bucket. */
  quantileUs(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < bucketsMax; i += 1) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.maxUs, growth ** (i + 1));
    }
    return this.maxUs;
  }

  toJSON(): { buckets: [number, number][]; count: number; maxUs: number } {
    const buckets: [number, number][] = [];
    this.counts.forEach((count, index) => {
      if (count > 0) buckets.push([index, count]);
    });
    return { buckets, count: this.count, maxUs: this.maxUs };
  }

  static fromJSON(data: { buckets: [number, number][]; count: number; maxUs: number }): Histogram {
    const histogram = new Histogram();
    for (const [index, count] of data.buckets) histogram.counts[index] = count;
    histogram.count = data.count;
    histogram.maxUs = data.maxUs;
    return histogram;
  }
}
