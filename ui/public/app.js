// The lab UI: plain JS, no build step. Polls the JSON endpoints (each cached briefly by the server).
'use strict';
const $ = (sel) => document.querySelector(sel);
const esc = (s) =>
  String(s ?? '').replace(
    /[&<>"]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c],
  );
const badge = (text, cls) => `<span class="badge ${cls}">${esc(text)}</span>`;
// An outcome's colour: green as expected, amber when the lab could not tell (inconclusive: neither), red otherwise.
const outcomeClass = (outcome) =>
  outcome === 'completed' ? 'ok' : outcome === 'inconclusive' ? 'inconclusive' : 'bad';
/**
 * Text that may carry ✅/❌ (probe names in experiment files) escaped, its marks drawn as inline SVG: with no emoji
 * font (headless Chromium, many servers) they would be empty boxes. The same icons as the reports' badges.
 */
const MARK_ICONS = {
  pass: '<path d="M2.5 6.5l2.5 2.5 4.5-5.5"/>',
  fail: '<path d="M3 3l6 6M9 3l-6 6"/>',
};
const markIcon = (tone) =>
  `<svg class="badge-icon ${tone}" role="img" aria-label="${tone === 'pass' ? 'held' : 'failed'}" width="12" height="12" viewBox="0 0 12 12" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">${MARK_ICONS[tone]}</svg>`;
const marked = (text) =>
  esc(text)
    .replace(/[\u2705\u2714]\uFE0F?/gu, markIcon('pass'))
    .replace(/[\u274C\u2718]\uFE0F?/gu, markIcon('fail'));
const rows = (table, html, empty, cols) => {
  $(`[data-testid="${table}"] tbody`).innerHTML =
    html || `<tr><td colspan="${cols}" class="muted">${empty}</td></tr>`;
};
const ago = (iso) => {
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  return s < 90
    ? `${s} s ago`
    : s < 5400
      ? `${Math.round(s / 60)} min ago`
      : new Date(iso).toLocaleString();
};

async function get(path) {
  const res = await fetch(path);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || res.statusText);
  return body;
}

// A verdict is good when the run observed what the experiment expects (completed), whatever the pattern.
function verdict(e) {
  if (!e.last) return badge('never run', 'warn');
  const { outcome } = e.last;
  const word =
    outcome === 'completed'
      ? e.expected === 'reproduced'
        ? 'reproduced as expected'
        : 'controlled as expected'
      : outcome;
  return badge(word, outcomeClass(outcome));
}

async function experiments() {
  const { experiments: xs, reportsDir } = await get('/api/experiments');
  $('#reports-dir').textContent = `reports from ${reportsDir}`;
  rows(
    'experiments',
    xs
      .map(
        (
          e,
        ) => `<tr data-id="${esc(e.id)}"><td>${esc(e.id)}</td><td>${marked(e.title || e.invalid)}</td><td>${esc(e.expected)}</td>
    <td>${verdict(e)}</td><td>${esc(e.last?.headline ?? '')}</td><td>${esc(e.last?.seed ?? '')}</td><td>${e.last ? ago(e.last.startedAt) : ''}</td>
    <td>${e.last?.report ? `<a href="${esc(e.last.report)}" target="_blank">${esc(e.last.report.split('/').pop())}</a>` : ''}</td></tr>`,
      )
      .join(''),
    'no experiments found',
    8,
  );
}

async function live() {
  const { services, infra, redisCluster, chaos } = await get('/api/live');
  $('#infra').innerHTML = infra
    .map((i) => badge(i.name, i.running ? (chaos.paused.includes(i.name) ? 'warn' : 'ok') : 'bad'))
    .join('');
  rows(
    'services',
    services
      .map(
        (s) => `<tr data-service="${esc(s.service)}"><td>${esc(s.service)}</td>
    <td>${s.running ? badge(s.healthy ? 'healthy' : 'unhealthy', s.healthy ? 'ok' : 'bad') : badge('stopped', 'warn')}</td>
    <td>${esc(s.pid ?? '')}</td><td>${esc(s.port ?? '')}</td><td>${esc(s.modes)}</td><td>${esc(s.rssMiB ?? '')}</td></tr>`,
      )
      .join(''),
    'no services',
    6,
  );
  // Shown only while the Redis Cluster runs (`chaos up --redis cluster`, or an experiment that needs it).
  $('#redis-cluster-section').hidden = !redisCluster;
  if (redisCluster)
    rows(
      'redis-cluster',
      redisCluster
        .map(
          (n) => `<tr data-node="${esc(n.name)}"><td>${esc(n.name)}</td><td>${esc(n.proxyPort)}</td>
    <td>${n.role ? badge(n.role, n.role === 'master' ? 'ok' : 'muted') : badge(n.running ? 'not answering' : 'down', 'bad')}</td>
    <td>${n.state ? badge(n.state, n.state === 'ok' ? 'ok' : 'bad') : ''}</td><td>${esc(n.slots ?? '')}</td>
    <td>${esc(n.replOffset ?? '')}</td><td>${n.masterLinkUp === undefined ? '' : badge(n.masterLinkUp ? 'up' : 'down', n.masterLinkUp ? 'ok' : 'bad')}</td></tr>`,
        )
        .join(''),
      'no node',
      7,
    );
  const tox = [];
  for (const p of chaos.proxies) {
    if (!p.enabled)
      tox.push(
        `<tr><td>${esc(p.name)}</td><td>—</td><td>${badge('down (proxy disabled)', 'bad')}</td><td></td><td></td><td><button class="remove" data-proxy="${esc(p.name)}" data-toxic="down" data-type="down">enable</button></td></tr>`,
      );
    for (const t of p.toxics)
      tox.push(
        `<tr><td>${esc(p.name)}</td><td>${esc(t.name)}</td><td>${badge(t.type, 'bad')}</td><td>${esc(t.stream)}</td><td>${esc(JSON.stringify(t.attributes))}${t.toxicity < 1 ? ` toxicity ${t.toxicity}` : ''}</td><td><button class="remove" data-proxy="${esc(p.name)}" data-toxic="${esc(t.name)}">remove</button></td></tr>`,
      );
  }
  rows(
    'toxics',
    tox.join(''),
    chaos.toxiproxyReachable
      ? `no toxics on ${chaos.proxies.length} proxies`
      : 'Toxiproxy not reachable',
    6,
  );
  rows(
    'failpoints',
    chaos.failpoints
      .map(
        (f) =>
          `<tr><td>${esc(f.service)}</td><td>${esc(f.name)}</td><td>${badge(f.action, 'bad')}</td><td>${esc(f.after)}</td><td>${esc(f.fired)}</td></tr>`,
      )
      .join(''),
    'none armed',
    5,
  );
  $('[data-testid="paused"]').innerHTML = chaos.paused.length
    ? chaos.paused.map((n) => badge(`${n} paused`, 'warn')).join('')
    : 'none';
}

async function topics() {
  const { topics: ts } = await get('/api/topics');
  $('#topics').innerHTML = ts.length
    ? ts
        .map((t) => {
          const brokers = [...new Set(t.partitions.flatMap((p) => Object.keys(p.leo)))].sort();
          const head = `<tr><th>partition</th><th>leader</th><th>ISR</th><th>log start</th><th>LSO</th><th>HW</th>${brokers.map((b) => `<th>LEO ${b}</th>`).join('')}${t.groups.map((g) => `<th>${esc(g.group)} committed</th>`).join('')}</tr>`;
          const body = t.partitions
            .map(
              (
                p,
              ) => `<tr><td class="num">${p.partition}</td><td class="num">${p.leader}</td><td>${p.isr.join(',')}</td><td class="num">${p.logStart}</td>
      <td class="num ${p.lso !== p.hw ? 'gap' : ''}">${p.lso}</td><td class="num">${p.hw}</td>${brokers.map((b) => `<td class="num">${p.leo[b] ?? '-'}</td>`).join('')}
      ${t.groups.map((g) => `<td class="num">${g.committed[p.partition] ?? '-'}</td>`).join('')}</tr>`,
            )
            .join('');
          const lag = t.groups
            .map((g) => badge(`${g.group} lag ${g.lag}`, g.lag ? 'warn' : 'ok'))
            .join('');
          return `<div class="topic" data-topic="${esc(t.topic)}"><h3>${esc(t.topic)} ${lag}</h3><table>${head}${body}</table></div>`;
        })
        .join('')
    : '<p class="muted">no topics</p>';
}

// Each panel refreshes on its own; a failing one shows its error without stopping the others.
function every(ms, fn, where) {
  const tick = async () => {
    try {
      await fn();
      $('#updated').textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      $(where).insertAdjacentHTML('afterbegin', '');
      $('#updated').textContent = `error: ${e.message}`;
    }
    setTimeout(tick, ms);
  };
  tick();
}
every(5000, experiments, '#experiments-section');
every(1500, live, '#chaos-section');
every(2000, topics, '#topics-section');
