// Small-cell suppression (SPEC §8): a count of 1–4 people is never shown, nor any figure computed from one.
// A zero reveals nobody and is shown. Every output (JSON, CSV, MeasureReport, dashboard) renders from this.
import { STAGES } from '../projection/case-state.ts';
import type { Statistics } from './indicators.ts';

export const MIN_CELL = 5;

/** A shown count, or null with suppressed=true. */
export interface Cell {
  value: number | null;
  suppressed: boolean;
}

export function cell(n: number): Cell {
  return n > 0 && n < MIN_CELL ? { value: null, suppressed: true } : { value: n, suppressed: false };
}

export interface SafePopulation {
  code: string;
  count: Cell;
}

export interface SafeStratum {
  value: string;
  populations: SafePopulation[];
  score: Cell;
}

export interface SafeGroup {
  code: string;
  unit?: string;
  populations: SafePopulation[];
  score: Cell;
  stratifier?: { code: string; strata: SafeStratum[] };
}

export interface SafeIndicator {
  id: string;
  scoring: string;
  groups: SafeGroup[];
}

export interface SafeStatistics {
  filter: Statistics['filter'];
  generation: number;
  funnel: {
    source: string;
    periods: { period: string; stages: Record<string, Cell> }[];
    total: Record<string, Cell>;
  };
  indicators: SafeIndicator[];
}

function score(populations: { count: number }[], value: number | null | undefined): Cell {
  if (value === undefined || value === null)
    return { value: null, suppressed: populations.some((p) => p.count > 0 && p.count < MIN_CELL) };
  const hidden = populations.some((p) => p.count > 0 && p.count < MIN_CELL);
  return hidden ? { value: null, suppressed: true } : { value, suppressed: false };
}

function stageCells(stages: Record<string, number>, keys: string[]): Record<string, Cell> {
  return Object.fromEntries(keys.map((k) => [k, cell(stages[k] ?? 0)]));
}

export function suppress(stats: Statistics): SafeStatistics {
  const reasons = Object.keys(stats.funnel.total)
    .filter((k) => k.includes(':'))
    .sort();
  const keys = [...STAGES, ...reasons];
  return {
    filter: stats.filter,
    generation: stats.generation,
    funnel: {
      source: stats.funnel.source,
      periods: stats.funnel.periods.map((p) => ({ period: p.period, stages: stageCells(p.stages, keys) })),
      total: stageCells(stats.funnel.total, keys),
    },
    indicators: stats.indicators.map((ind) => ({
      id: ind.id,
      scoring: ind.scoring,
      groups: ind.groups.map((g) => ({
        code: g.code,
        ...(g.unit ? { unit: g.unit } : {}),
        populations: g.populations.map((p) => ({ code: p.code, count: cell(p.count) })),
        score: score(g.populations, g.score),
        ...(g.stratifier
          ? {
              stratifier: {
                code: g.stratifier.code,
                strata: g.stratifier.strata.map((s) => ({
                  value: s.value,
                  populations: s.populations.map((p) => ({ code: p.code, count: cell(p.count) })),
                  score: score(s.populations, s.score),
                })),
              },
            }
          : {}),
      })),
    })),
  };
}
