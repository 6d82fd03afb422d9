// What the benchmark in bench/ drives directly: the fold, the bulk writer, the rebuild and the queries.
export * from './projection/case-state.ts';
export { applyLive, liveGeneration, writeBulk } from './projection/store.ts';
export { parseFilter } from './query/filter.ts';
export { funnel } from './query/funnel.ts';
export { computeStatistics } from './query/indicators.ts';
export { rebuild } from './rebuild/rebuild.ts';
export { createStatisticsService } from './service.ts';
