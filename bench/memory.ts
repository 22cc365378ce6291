/** Memory sampling for the benchmark children: the peak of what a process holds while it works. */

export interface MemoryPeak {
  /** Before the request (module loaded, nothing sent). */
  baselineRss: number;
  baselineHeapUsed: number;
  peakRss: number;
  peakHeapUsed: number;
  samples: number;
  /** Largest heapUsed right after a forced full GC (live data, no garbage); only with BENCH_GC_SAMPLE_MS. */
  peakLiveHeap?: number;
}

export function sampler(periodMs: number, gcPeriodMs: number) {
  const first = process.memoryUsage();
  const m: MemoryPeak = {
    baselineRss: first.rss,
    baselineHeapUsed: first.heapUsed,
    peakRss: first.rss,
    peakHeapUsed: first.heapUsed,
    samples: 1,
  };
  const sample = () => {
    const u = process.memoryUsage();
    if (u.rss > m.peakRss) m.peakRss = u.rss;
    if (u.heapUsed > m.peakHeapUsed) m.peakHeapUsed = u.heapUsed;
    m.samples += 1;
  };
  const timer = setInterval(sample, periodMs);
  const gc = global.gc;
  const liveSample = () => {
    if (!gc) return;
    sample(); // before the GC: the peak with garbage
    gc();
    m.peakLiveHeap = Math.max(m.peakLiveHeap ?? 0, process.memoryUsage().heapUsed);
  };
  const gcTimer = gcPeriodMs > 0 && gc ? setInterval(liveSample, gcPeriodMs) : undefined;
  return {
    stop(): MemoryPeak {
      clearInterval(timer);
      if (gcTimer) clearInterval(gcTimer);
      sample();
      return m;
    },
  };
}
