// The lab UI's cockpit: run and watch an experiment (Server-Sent Events), inject and heal faults, live panels of
// the Grafana dashboards (Prometheus query_range, drawn with uPlot). Plain JS, no build step; app.js has the helpers.
'use strict';
/* global $, esc, marked, get, badge, outcomeClass, uPlot, location, devicePixelRatio, FormData, clearInterval -- helpers from app.js, uPlot from /vendor, browser globals */

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? {}),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(json.error || `HTTP ${res.status}`);
  return json;
}

/** Fault markers on every panel's time axis: faults fired by a run and by hand, rollbacks and heals. */
const markers = [];
const mark = (kind, label, at = Date.now() / 1000) => {
  markers.push({ at, kind, label });
  redrawPanels();
};

// ---- run and watch ----------------------------------------------------------------------------------------------

const runLog = (html, cls = '') => {
  $('#run-log').insertAdjacentHTML('beforeend', `<li class="${cls}">${html}</li>`);
  const log = $('#run-log');
  while (log.children.length > 400) log.firstElementChild.remove();
};
const time = (iso) => new Date(iso).toLocaleTimeString();
const link = (url, text) =>
  url
    ? `<a href="${esc(url)}" target="_blank" data-testid="report-link">${esc(text)}</a>`
    : esc(text);

function onRunEvent(e) {
  switch (e.type) {
    case 'start':
      $('#run-log').dataset.startedAt = e.at; // which run the log shows (the journal is replayed on connect)
      $('#run-log').innerHTML = '';
      $('#run-verdicts').innerHTML = '';
      runLog(`${time(e.at)} <strong>chaos ${esc(e.what)}</strong> (pid ${esc(e.pid)})`, 'phase');
      break;
    case 'side':
      runLog(
        `${time(e.at)} ▶ <strong>${esc(e.id)} ${esc(e.side ?? '')}</strong> — ${marked(e.title)}`,
        'phase',
      );
      break;
    case 'step':
      runLog(`${time(e.at)} ${marked(e.message)}`, e.kind ?? '');
      if (['fault', 'crash', 'heal'].includes(e.kind))
        mark(e.kind, e.message, Date.parse(e.at) / 1000);
      break;
    case 'done':
      runLog(`${time(e.at)} ✓ ${esc(e.message)} (${e.seconds.toFixed(1)} s)`, 'muted');
      break;
    case 'verdict': {
      const ok = e.outcome === 'completed';
      const lost = e.figures.lostBeforeTopic;
      const probes = e.probes
        .map(
          (p) =>
            `<li class="${p.inconclusive ? 'inconclusive' : p.ok ? 'pass' : 'fail'}">${p.inconclusive ? 'could not be read' : p.ok ? 'held' : 'failed'}: ${marked(p.name)} — expected ${esc(p.expected)}, observed ${esc(p.observed ?? 'error')}</li>`,
        )
        .join('');
      $('#run-verdicts').insertAdjacentHTML(
        'beforeend',
        `<div class="verdict-card ${outcomeClass(e.outcome)}" data-testid="verdict" data-side="${esc(e.side ?? 'run')}">
          <strong>${esc(e.id)} ${esc(e.side ?? '')}</strong> ${badge(ok ? 'as expected' : e.outcome, outcomeClass(e.outcome))}
          expected ${esc(e.expected)}${lost !== undefined ? ` · <span data-testid="lost">lost ${esc(lost)}</span>` : ''}
          · ${link(e.url, 'report')}${(e.inconclusive ?? []).map((why) => `<div class="small">could not tell: ${esc(why)}</div>`).join('')}<ul class="small">${probes}</ul></div>`,
      );
      runLog(
        `${time(e.at)} verdict ${esc(e.id)} ${esc(e.side ?? '')}: ${esc(e.outcome)}`,
        ok ? 'pass' : e.outcome === 'inconclusive' ? 'inconclusive' : 'fail',
      );
      break;
    }
    case 'pair':
      $('#run-verdicts').insertAdjacentHTML(
        'beforeend',
        `<div class="verdict-card ${outcomeClass(e.outcome)}" data-testid="pair">both sides: ${esc(e.outcome)} · ${link(e.url, 'pair report')}</div>`,
      );
      break;
    case 'end':
      runLog(
        `${time(e.at)} finished, exit ${esc(e.exitCode)}${e.error ? `: ${esc(e.error)}` : ''}`,
        e.exitCode ? 'fail' : 'pass',
      );
      $('#run-state').dataset.ended = 'true';
      break;
  }
}

function onRunState(s) {
  const el = $('#run-state');
  el.dataset.running = String(s.running);
  el.textContent = s.holder
    ? `${s.running ? 'running' : 'busy'}: chaos ${s.holder.what} (pid ${s.holder.pid})`
    : s.started
      ? `starting: chaos ${s.started.args.join(' ')}`
      : 'idle — no run holds the stack lock';
  $('[data-testid="run-start"]').disabled = !!(s.holder || s.started);
  $('#run-stop').disabled = !s.running;
}

function watchRuns() {
  const es = new EventSource('/api/runs/events');
  es.addEventListener('reset', () => {
    $('#run-log').innerHTML = '';
    $('#run-verdicts').innerHTML = '';
  });
  es.addEventListener('run', (m) => onRunEvent(JSON.parse(m.data)));
  es.addEventListener('state', (m) => onRunState(JSON.parse(m.data)));
}

async function setUpRuns() {
  const { experiments: xs } = await get('/api/experiments');
  $('[data-testid="run-id"]').innerHTML = xs
    .filter((x) => !x.invalid)
    .map((x) => `<option value="${esc(x.id)}">${esc(x.id)} — ${esc(x.title)}</option>`)
    .join('');
  $('#run-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    $('#run-error').textContent = '';
    try {
      const r = await post('/api/runs', {
        id: f.get('id'),
        side: f.get('side'),
        seed: Number(f.get('seed')),
      });
      $('#run-state').textContent = `starting: chaos ${r.args.join(' ')}`;
      $('#run-state').dataset.ended = 'false';
    } catch (e) {
      $('#run-error').textContent = e.message;
    }
  });
  $('#run-stop').addEventListener('click', async () => {
    try {
      const r = await post('/api/runs/stop');
      $('#run-error').textContent = `interrupt sent to pid ${r.pid}: rolling back`;
    } catch (e) {
      $('#run-error').textContent = e.message;
    }
  });
  watchRuns();
}

// ---- inject and heal --------------------------------------------------------------------------------------------

let faults = [];

function field(a) {
  const title = `${a.name}${a.default !== undefined ? `, default ${a.default}` : ''}`;
  const unit = a.unit ? ` <span class="muted">${esc(a.unit)}</span>` : '';
  if (a.options)
    return `<label title="${esc(title)}">${esc(a.flag)} <select name="${esc(a.flag)}"><option value=""></option>${a.options.map((o) => `<option>${esc(o)}</option>`).join('')}</select></label>`;
  if (a.type === 'boolean')
    return `<label title="${esc(title)}"><input type="checkbox" name="${esc(a.flag)}" /> ${esc(a.flag)}</label>`;
  return `<label title="${esc(title)}">${esc(a.flag)} <input name="${esc(a.flag)}" data-testid="field-${esc(a.flag)}" size="8" placeholder="${esc(a.default ?? (a.required ? 'required' : ''))}" />${unit}</label>`;
}

function showFault() {
  const f = faults.find((x) => x.name === $('[data-testid="inject-fault"]').value);
  if (!f) return;
  $('#inject-target').innerHTML = f.target
    ? `<label>target <input name="target" data-testid="inject-target" size="14" placeholder="${esc(f.target)}" /></label>`
    : '';
  $('#inject-fields').innerHTML = f.fields.map(field).join(' ');
  $('#inject-summary').textContent =
    `${f.kind}: ${f.summary}${f.fixed ? ` (${JSON.stringify(f.fixed)})` : ''}`;
}

async function setUpInject() {
  ({ faults } = await get('/api/catalog'));
  const select = $('[data-testid="inject-fault"]');
  select.innerHTML = faults.map((f) => `<option>${esc(f.name)}</option>`).join('');
  select.addEventListener('change', showFault);
  showFault();
  const result = (text, ok) => {
    $('#inject-result').textContent = text;
    $('#inject-result').className = ok ? 'pass' : 'error';
  };
  $('#inject-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = ev.target;
    const flags = {};
    for (const input of $('#inject-fields').querySelectorAll('input, select')) {
      if (input.type === 'checkbox') {
        if (input.checked) flags[input.name] = true;
      } else if (input.value !== '') flags[input.name] = input.value;
    }
    const target = form.querySelector('[name="target"]')?.value || undefined;
    try {
      const r = await post('/api/inject', { fault: select.value, target, flags });
      result(r.message, true);
      mark('fault', `${select.value} ${target ?? ''}`);
    } catch (e) {
      result(e.message, false);
    }
  });
  $('#heal-all').addEventListener('click', async () => {
    try {
      const r = await post('/api/heal');
      result(
        `healed: toxics ${r.toxicsRemoved ? 'removed' : 'n/a'}, resumed ${r.resumed.length}, failpoints disarmed on ${r.failpointsDisarmed.join(', ') || 'none'}`,
        true,
      );
      mark('heal', 'heal all');
    } catch (e) {
      result(e.message, false);
    }
  });
  document.addEventListener('click', async (ev) => {
    const b = ev.target.closest('button.remove');
    if (!b) return;
    try {
      const r = await post('/api/faults/remove', {
        proxy: b.dataset.proxy,
        toxic: b.dataset.toxic,
        ...(b.dataset.type ? { type: b.dataset.type } : {}),
      });
      result(`removed ${r.removed}`, true);
      mark('heal', `removed ${r.removed}`);
    } catch (e) {
      result(e.message, false);
    }
  });
}

// ---- live dashboards --------------------------------------------------------------------------------------------

const COLORS = [
  '#1565c0',
  '#c62828',
  '#2e7d32',
  '#ef6c00',
  '#6a1b9a',
  '#00838f',
  '#5d4037',
  '#ad1457',
];
const MARK_COLOR = { fault: '#c62828', crash: '#7b1fa2', heal: '#2e7d32' };
let dashboards = [];
let panelTimer;
const plots = new Map();

function redrawPanels() {
  for (const p of plots.values()) p.redraw(false);
}

/** Vertical lines at each marker inside the plotted range, coloured by kind. */
const markerPlugin = () => ({
  hooks: {
    draw: (u) => {
      const ctx = u.ctx;
      const [min, max] = [u.scales.x.min, u.scales.x.max];
      ctx.save();
      ctx.lineWidth = 1.5 * devicePixelRatio;
      ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
      let shown = 0;
      for (const m of markers) {
        if (m.at < min || m.at > max) continue;
        shown++;
        const x = u.valToPos(m.at, 'x', true);
        ctx.strokeStyle = MARK_COLOR[m.kind] ?? '#999';
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
      }
      ctx.restore();
      const panel = u.root.closest('.panel');
      if (panel) panel.dataset.markers = String(shown); // what a test (or a reader of the DOM) can check
    },
  },
});

async function refreshPanel(d, p, el) {
  try {
    const data = await get(`/api/panel-data?dashboard=${encodeURIComponent(d.uid)}&panel=${p.id}`);
    const has = data.series.some((s) => s.values.some((v) => v !== null));
    el.dataset.state = has ? 'data' : 'empty';
    el.querySelector('.panel-note').textContent = has
      ? data.series
          .slice(0, 4)
          .map((s) => {
            const last = [...s.values].reverse().find((v) => v !== null);
            return `${s.name}: ${last === undefined ? '–' : +last.toPrecision(4)}`;
          })
          .join(' · ')
      : 'no data in this range';
    el.querySelector('.panel-legend').textContent = data.series.map((s) => s.name).join(' | ');
    const key = `${d.uid}/${p.id}`;
    const rows = [data.times, ...data.series.map((s) => s.values)];
    const old = plots.get(key);
    if (old && old.series.length === rows.length) old.setData(rows);
    else {
      old?.destroy();
      const width = Math.max(260, el.clientWidth - 16);
      const plot = new uPlot(
        {
          width,
          height: 170,
          legend: { show: false },
          plugins: [markerPlugin()],
          series: [
            {},
            ...data.series.map((s, i) => ({
              label: s.name,
              stroke: COLORS[i % COLORS.length],
              width: 1.5,
            })),
          ],
          axes: [{}, { size: 56 }],
        },
        rows,
        el.querySelector('.plot'),
      );
      plots.set(key, plot);
    }
  } catch (e) {
    el.dataset.state = 'error';
    el.querySelector('.panel-note').textContent = e.message;
  }
}

function showDashboard() {
  const d = dashboards.find((x) => x.uid === $('#dashboard').value);
  if (!d) return;
  for (const p of plots.values()) p.destroy();
  plots.clear();
  clearInterval(panelTimer);
  $('#dashboard-meta').textContent =
    `last ${d.rangeSec / 60} min, refresh ${d.refreshSec} s (grafana/dashboards/${d.file})`;
  $('#panels').innerHTML = d.panels
    .map(
      (p) =>
        `<div class="panel" data-testid="panel" data-panel-id="${p.id}" data-state="loading" title="${esc(p.targets.map((t) => t.expr).join('\n'))}">
          <div class="panel-title">${esc(p.title)}${p.unit ? ` <span class="muted">(${esc(p.unit)})</span>` : ''}</div>
          <div class="plot"></div><div class="panel-note small muted"></div><div class="panel-legend small muted"></div></div>`,
    )
    .join('');
  const refresh = () => {
    for (const p of d.panels) void refreshPanel(d, p, $(`#panels [data-panel-id="${p.id}"]`));
  };
  refresh();
  panelTimer = setInterval(refresh, Math.max(2, d.refreshSec) * 1000);
}

async function setUpDashboards() {
  ({ dashboards } = await get('/api/dashboards'));
  const wanted = new URLSearchParams(location.search).get('dashboard');
  $('#dashboard').innerHTML = dashboards
    .map(
      (d) =>
        `<option value="${esc(d.uid)}" ${d.uid === wanted ? 'selected' : ''}>${esc(d.title)}</option>`,
    )
    .join('');
  $('#dashboard').addEventListener('change', showDashboard);
  showDashboard();
}

for (const setUp of [setUpRuns, setUpInject, setUpDashboards])
  setUp().catch((e) => ($('#updated').textContent = `error: ${e.message}`));
