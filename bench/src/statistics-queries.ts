// Scenario (d) of `npm run bench`: the statistics benchmark (see bench/src/statistics/bench.ts).
import { runStatisticsBench } from './statistics/bench.ts';

export async function benchStatistics(o: {
  adminUrl: string;
  natsUrl: string;
  seconds: number;
  log: (line: string) => void;
}) {
  return runStatisticsBench({
    adminUrl: o.adminUrl,
    natsUrl: o.natsUrl,
    cases: Number(process.env.STATS_BENCH_CASES ?? 1_000_000),
    historyCases: 40_000,
    queriesPerKind: 40,
    liveEvents: 30,
    log: o.log,
  });
}
