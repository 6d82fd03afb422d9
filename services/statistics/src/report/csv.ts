// CSV export of the (suppressed) statistics: one row per funnel cell and per population or score of an indicator.
import type { Cell, SafeStatistics } from '../query/suppress.ts';

const HEADER = [
  'section',
  'indicator',
  'period',
  'group',
  'stratum',
  'population',
  'value',
  'unit',
  'suppressed',
];

function field(v: string): string {
  return /[",\n;]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

function value(c: Cell): [string, string] {
  return [c.value === null ? '' : String(c.value), c.suppressed ? 'true' : 'false'];
}

export function toCsv(stats: SafeStatistics): string {
  const rows: string[][] = [HEADER];
  const push = (r: string[]) => rows.push(r);
  for (const p of stats.funnel.periods)
    for (const [stage, c] of Object.entries(p.stages)) {
      const [v, s] = value(c);
      push(['funnel', `sip-${stage.split(':')[0]}`, p.period, stage, '', 'initial-population', v, '', s]);
    }
  for (const ind of stats.indicators)
    for (const g of ind.groups) {
      const range = `${stats.filter.from}/${stats.filter.to}`;
      for (const pop of g.populations) {
        const [v, s] = value(pop.count);
        push(['indicator', ind.id, range, g.code, '', pop.code, v, '', s]);
      }
      if (g.score.value !== null || g.score.suppressed) {
        const [v, s] = value(g.score);
        push(['indicator', ind.id, range, g.code, '', 'score', v, g.unit ?? '', s]);
      }
      for (const st of g.stratifier?.strata ?? []) {
        for (const pop of st.populations) {
          const [v, s] = value(pop.count);
          push(['indicator', ind.id, range, g.code, st.value, pop.code, v, '', s]);
        }
        if (st.score.value !== null || st.score.suppressed) {
          const [v, s] = value(st.score);
          push(['indicator', ind.id, range, g.code, st.value, 'score', v, g.unit ?? '', s]);
        }
      }
    }
  return `${rows.map((r) => r.map(field).join(',')).join('\r\n')}\r\n`;
}
