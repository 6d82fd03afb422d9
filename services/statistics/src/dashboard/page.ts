// The statistics dashboard (Swedish, staff-facing): funnel and trend charts as inline SVG with dimension filters.
// The page itself holds no data; it asks /api/statistics with the caller's bearer token, so the same
// authentication and the same small-cell suppression apply as everywhere else.
import type { AppEnv } from '@samsyn/platform';
import { Hono } from 'hono';
import { MEASURE_TEXT } from '../report/measures.ts';

const STAGE_LABELS: Record<string, string> = {
  identified: 'Identifierade',
  consented: 'Samtycke givet',
  invited: 'Kallade',
  held: 'Möte hållet',
  established: 'Plan upprättad',
  'followed-up': 'Uppföljd',
  closed: 'Avslutad',
  cancelled: 'Avbruten',
};

const GROUP_LABELS: Record<string, string> = {
  median: 'median',
  p90: '90:e percentil',
  mean: 'medel',
};

const UNIT_LABELS: Record<string, string> = { d: 'dagar', h: 'timmar', '1': 'andel' };

function page(): string {
  const data = JSON.stringify({
    stages: STAGE_LABELS,
    measures: MEASURE_TEXT,
    groups: GROUP_LABELS,
    units: UNIT_LABELS,
  });
  return `<!doctype html>
<html lang="sv">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>SIP-statistik – Samsyn</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 1.5rem; color: #1a1a1a; max-width: 72rem; }
  h1 { font-size: 1.5rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
  form { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .75rem; align-items: end; }
  label { display: flex; flex-direction: column; font-size: .85rem; gap: .2rem; }
  input, select, button { font: inherit; padding: .3rem; }
  button { background: #00527a; color: #fff; border: 0; border-radius: .25rem; cursor: pointer; }
  table { border-collapse: collapse; width: 100%; margin-top: .5rem; }
  th, td { border-bottom: 1px solid #ddd; padding: .3rem .5rem; text-align: left; font-size: .9rem; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .note { color: #555; font-size: .85rem; }
  .error { color: #a00; font-weight: 600; }
  svg text { font-size: 12px; fill: #1a1a1a; }
</style>
</head>
<body>
<h1>SIP-statistik</h1>
<p class="note">Antal SIP-ärenden per steg, ledtider och svarsfrekvens. Perioder räknas i svensk tid. Celler med färre än 5 personer visas som &lt;5.</p>
<form id="filter">
  <label>Åtkomsttoken<input name="token" type="password" autocomplete="off" required></label>
  <label>Period<select name="grain"><option value="day">Dag</option><option value="week">Vecka</option><option value="month" selected>Månad</option><option value="year">År</option></select></label>
  <label>Från<input name="from" type="date"></label>
  <label>Till<input name="to" type="date"></label>
  <label>Verksamhet (HSA-id)<input name="org" placeholder="SE2321000032-1001"></label>
  <label>Huvudman<input name="principal" placeholder="SE2321000032"></label>
  <label>Kommun (kod)<input name="municipality" placeholder="0180"></label>
  <label>Region (länskod)<input name="region" placeholder="01"></label>
  <label>Målgrupp<select name="ageBand"><option value="">Alla</option><option value="child">Barn (&lt;18)</option><option value="adult">Vuxna (18–64)</option><option value="older">Äldre (65+)</option></select></label>
  <label>Anledning<select name="trigger"><option value="">Alla</option><option value="discharge">Utskrivning</option><option value="other">Övrigt</option></select></label>
  <button type="submit">Visa</button>
</form>
<p id="status" role="status" class="note"></p>
<section id="results" hidden>
  <h2>Tratten</h2>
  <div id="funnel"></div>
  <h2>Utveckling över tid</h2>
  <div id="trend"></div>
  <h2>Indikatorer</h2>
  <table id="indicators"><thead><tr><th>Indikator</th><th>Mått</th><th class="num">Värde</th><th class="num">Antal</th></tr></thead><tbody></tbody></table>
  <p><a id="csv" href="#">Ladda ner som CSV</a></p>
</section>
<script type="application/json" id="labels">${data.replace(/</g, '\\u003c')}</script>
<script>
(() => {
  const L = JSON.parse(document.getElementById('labels').textContent);
  const form = document.getElementById('filter');
  const status = document.getElementById('status');
  const SVG = 'http://www.w3.org/2000/svg';
  const stored = sessionStorage.getItem('samsyn-token');
  if (stored) form.token.value = stored;
  const show = (c) => c.suppressed ? '<5' : c.value === null ? '–' : String(c.value).replace('.', ',');
  function el(name, attrs, text) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function query() {
    const p = new URLSearchParams();
    for (const name of ['grain', 'from', 'to', 'org', 'principal', 'municipality', 'region', 'ageBand', 'trigger']) {
      const v = form[name].value.trim();
      if (v) p.set(name, v);
    }
    return p.toString();
  }
  function funnel(total) {
    const stages = Object.keys(L.stages);
    const max = Math.max(1, ...stages.map((s) => total[s]?.value ?? 0));
    const svg = el('svg', { width: 640, height: stages.length * 30 + 10, role: 'img', 'aria-label': 'Tratt', id: 'funnel-chart' });
    stages.forEach((s, i) => {
      const c = total[s] ?? { value: 0, suppressed: false };
      const y = i * 30 + 5;
      svg.appendChild(el('text', { x: 0, y: y + 16 }, L.stages[s]));
      const w = c.suppressed ? 8 : Math.round(((c.value ?? 0) / max) * 400);
      svg.appendChild(el('rect', { x: 130, y, width: Math.max(w, 1), height: 22, fill: c.suppressed ? '#bbb' : '#00527a', 'data-stage': s }));
      svg.appendChild(el('text', { x: 136 + w, y: y + 16, 'data-value': s }, show(c)));
    });
    return svg;
  }
  function trend(periods) {
    const series = ['identified', 'held', 'established'];
    const colours = { identified: '#00527a', held: '#d9822b', established: '#2b8a3e' };
    const w = 640, hgt = 220, pad = 40;
    const svg = el('svg', { width: w, height: hgt + 40, role: 'img', 'aria-label': 'Trend', id: 'trend-chart' });
    const max = Math.max(1, ...periods.flatMap((p) => series.map((s) => p.stages[s]?.value ?? 0)));
    const x = (i) => pad + (periods.length <= 1 ? 0 : (i * (w - 2 * pad)) / (periods.length - 1));
    const y = (v) => hgt - (v / max) * (hgt - 20);
    svg.appendChild(el('line', { x1: pad, y1: hgt, x2: w - pad, y2: hgt, stroke: '#999' }));
    periods.forEach((p, i) => svg.appendChild(el('text', { x: x(i) - 20, y: hgt + 15 }, p.period)));
    series.forEach((s, k) => {
      const pts = periods.map((p, i) => [x(i), p.stages[s]]).filter(([, c]) => c && !c.suppressed);
      if (pts.length > 0)
        svg.appendChild(el('polyline', { points: pts.map(([px, c]) => px + ',' + y(c.value)).join(' '), fill: 'none', stroke: colours[s], 'stroke-width': 2, 'data-series': s }));
      svg.appendChild(el('text', { x: pad + k * 150, y: hgt + 35, fill: colours[s] }, L.stages[s]));
    });
    return svg;
  }
  function indicators(list) {
    const body = document.querySelector('#indicators tbody');
    body.replaceChildren();
    for (const ind of list) {
      if (ind.scoring === 'cohort' && !ind.groups[0].stratifier) continue;
      for (const g of ind.groups) {
        const tr = document.createElement('tr');
        tr.dataset.indicator = ind.id;
        tr.dataset.group = g.code;
        const base = g.populations.find((p) => p.code === 'denominator' || p.code === 'measure-population' || p.code === 'initial-population');
        const value = ind.scoring === 'cohort' ? show(g.populations[0].count) : g.unit === '1' && g.score.value !== null ? Math.round(g.score.value * 100) + ' %' : show(g.score) + (g.unit && g.unit !== '1' && L.units[g.unit] && !g.score.suppressed && g.score.value !== null ? ' ' + L.units[g.unit] : '');
        for (const [text, cls] of [[L.measures[ind.id]?.title ?? ind.id, ''], [L.groups[g.code] ?? g.code, ''], [value, 'num'], [base ? show(base.count) : '', 'num']]) {
          const td = document.createElement('td');
          td.textContent = text;
          if (cls) td.className = cls;
          tr.appendChild(td);
        }
        body.appendChild(tr);
      }
    }
  }
  async function load(ev) {
    ev?.preventDefault();
    const token = form.token.value.trim();
    sessionStorage.setItem('samsyn-token', token);
    status.textContent = 'Hämtar…';
    status.className = 'note';
    const res = await fetch('/api/statistics?' + query(), { headers: { authorization: 'Bearer ' + token } });
    if (!res.ok) {
      const body = await res.json().catch(() => ({}));
      status.textContent = res.status === 401 ? 'Token saknas eller är ogiltig.' : 'Kunde inte hämta statistik: ' + (body.issue?.[0]?.diagnostics ?? res.status);
      status.className = 'error';
      return;
    }
    const s = await res.json();
    document.getElementById('funnel').replaceChildren(funnel(s.funnel.total));
    document.getElementById('trend').replaceChildren(trend(s.funnel.periods));
    indicators(s.indicators);
    document.getElementById('results').hidden = false;
    status.textContent = 'Period ' + s.filter.from + ' – ' + s.filter.to + '.';
  }
  document.getElementById('csv').addEventListener('click', async (ev) => {
    ev.preventDefault();
    const res = await fetch('/api/statistics.csv?' + query(), { headers: { authorization: 'Bearer ' + form.token.value.trim() } });
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url; a.download = 'sip-statistik.csv'; a.click();
    URL.revokeObjectURL(url);
  });
  form.addEventListener('submit', load);
})();
</script>
</body>
</html>`;
}

export function dashboardRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/statistik', (c) => c.html(page()));
  return app;
}
