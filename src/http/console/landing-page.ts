/**
 * What `npm start` serves at `/` until the full web console lands (a later issue): a landing
 * page and a live event debugger. Plain HTML and one script file, so the CSP forbids inline
 * code. The token stays in the tab's sessionStorage and is sent only as a bearer header.
 */
export const LANDING_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>CDP</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/console/debugger.css">
</head>
<body>
<header><h1>CDP</h1><span id="health">…</span></header>
<main>
<p>The platform is running. Send events with any Segment or RudderStack SDK to this host; manage it
through the <a href="/api/v1/openapi.json">admin API</a> or the <code>cdp</code> command.
Operations: <a href="/health">/health</a>, <a href="/metrics">/metrics</a>.</p>
<section>
<h2>Live event debugger</h2>
<form id="connect">
<label>Admin or workspace token <input id="token" type="password" autocomplete="off" required></label>
<label>Workspace <input id="workspace" value="default" required></label>
<button type="submit">Watch</button>
</form>
<p id="stats"></p>
<ol id="events" reversed></ol>
</section>
<section>
<h2>Profile explorer</h2>
<form id="lookup">
<label>Identifier type <select id="id-type"><option>email</option><option>user_id</option><option>anonymous_id</option><option>phone</option></select></label>
<label>Value <input id="id-value" required></label>
<button type="submit">Look up</button>
</form>
<p id="profile-status"></p>
<div id="profile" hidden>
<h3 id="profile-id"></h3>
<p id="profile-summary"></p>
<h4>Identities</h4>
<ul id="identities"></ul>
<h4>Traits</h4>
<table id="traits"><thead><tr><th>trait</th><th>value</th><th>source</th><th>as of</th></tr></thead><tbody></tbody></table>
<h4>Activity (events per day)</h4>
<svg id="activity" width="720" height="90" role="img" aria-label="events per day"></svg>
<h4>Timeline</h4>
<ol id="timeline"></ol>
</div>
</section>
</main>
<script type="module" src="/console/debugger.js"></script>
</body>
</html>
`;

export const DEBUGGER_CSS = `
body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { display: flex; gap: 1rem; align-items: baseline; padding: .75rem 1.5rem; background: #1d2330; color: #fff; }
header h1 { margin: 0; font-size: 1.2rem; }
main { max-width: 70rem; margin: 0 auto; padding: 1rem 1.5rem; }
form { display: flex; gap: 1rem; flex-wrap: wrap; align-items: end; }
label { display: flex; flex-direction: column; font-size: .85rem; }
input { font: inherit; padding: .3rem .5rem; }
#events { font: 13px/1.4 ui-monospace, monospace; padding-left: 2.5rem; }
#events li, #timeline li { margin: .3rem 0; padding: .4rem .6rem; background: #fff; border-left: 3px solid #4b7bec; }
#timeline { font: 13px/1.4 ui-monospace, monospace; }
table { border-collapse: collapse; background: #fff; }
td, th { border: 1px solid #dde1e7; padding: .25rem .5rem; text-align: left; font-size: .9rem; }
#activity rect { fill: #4b7bec; }
#activity text { font-size: 10px; fill: #5b6475; }
.error { color: #b3261e; }
`;

export const DEBUGGER_JS = `
const $ = (id) => document.getElementById(id);
const token = sessionStorage.getItem('cdp.token');
if (token) $('token').value = token;
fetch('/health').then((r) => { $('health').textContent = r.ok ? 'healthy' : 'unhealthy'; }, () => { $('health').textContent = 'unreachable'; });
let controller;
function show(text, isError) { $('stats').textContent = text; $('stats').className = isError ? 'error' : ''; }
async function watch(event) {
  event.preventDefault();
  controller?.abort();
  controller = new AbortController();
  // Another workspace or token: what the last one showed must not stay on screen.
  $('events').replaceChildren();
  const bearer = $('token').value.trim();
  const ws = encodeURIComponent($('workspace').value.trim());
  sessionStorage.setItem('cdp.token', bearer);
  const headers = { authorization: 'Bearer ' + bearer };
  const stats = await fetch('/api/v1/workspaces/' + ws + '/stats', { headers });
  if (!stats.ok) { show((await stats.json()).error.message, true); return; }
  const s = await stats.json();
  // A backlog that keeps growing under steady traffic: the pipeline does not keep up.
  const backlog = s.unprocessedEvents > 0
    ? ', ' + s.unprocessedEvents + ' not yet processed (the oldest waiting ' + (s.processingDelayMs / 1000).toFixed(1) + ' s)'
    : '';
  show(s.events + ' events stored, ' + s.failedEvents + ' failed' + backlog + '; waiting for new ones…', false);
  const response = await fetch('/api/v1/workspaces/' + ws + '/events/stream', { headers, signal: controller.signal });
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end;
    while ((end = buffer.indexOf('\\n\\n')) !== -1) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame.split('\\n').find((line) => line.startsWith('data: '));
      if (!data) continue;
      const item = document.createElement('li');
      item.textContent = data.slice(6);
      $('events').prepend(item);
      while ($('events').children.length > 200) $('events').lastChild.remove();
    }
  }
}
$('connect').addEventListener('submit', (event) => { watch(event).catch((error) => { if (error.name !== 'AbortError') show(String(error), true); }); });

// Profile explorer: every value goes through textContent, never innerHTML (profiles hold client data).
function el(tag, text) { const node = document.createElement(tag); if (text !== undefined) node.textContent = text; return node; }
function status(text, isError) { $('profile-status').textContent = text; $('profile-status').className = isError ? 'error' : ''; }
function drawActivity(events) {
  const svg = $('activity');
  while (svg.firstChild) svg.firstChild.remove();
  const counts = new Map();
  for (const e of events) { const day = String(e.timestamp).slice(0, 10); counts.set(day, (counts.get(day) || 0) + 1); }
  if (counts.size === 0) return;
  // A time axis: the last 60 days up to the last active one, quiet days left empty, so the
  // gaps between visits show; bars stay narrow when there are few days.
  const DAY = 86400000;
  const active = [...counts.keys()].sort();
  const end = Date.parse(active[active.length - 1] + 'T00:00:00Z');
  const start = Math.max(Date.parse(active[0] + 'T00:00:00Z'), end - 59 * DAY);
  const days = Math.round((end - start) / DAY) + 1;
  const max = Math.max(...counts.values());
  const slot = 680 / days;
  const barWidth = Math.max(1, Math.min(24, slot - 2));
  const ns = 'http://www.w3.org/2000/svg';
  const text = (x, y, anchor, label) => {
    const node = document.createElementNS(ns, 'text');
    node.setAttribute('x', String(x)); node.setAttribute('y', String(y)); node.setAttribute('text-anchor', anchor);
    node.textContent = label;
    svg.append(node);
  };
  let shown = 0;
  let activeDays = 0;
  for (let i = 0; i < days; i++) {
    const day = new Date(start + i * DAY).toISOString().slice(0, 10);
    const count = counts.get(day) || 0;
    if (count === 0) continue;
    shown += count;
    activeDays += 1;
    const rect = document.createElementNS(ns, 'rect');
    const h = Math.max(2, Math.round((count / max) * 60));
    rect.setAttribute('x', String(40 + i * slot + (slot - barWidth) / 2));
    rect.setAttribute('y', String(75 - h));
    rect.setAttribute('width', String(barWidth));
    rect.setAttribute('height', String(h));
    const title = document.createElementNS(ns, 'title');
    title.textContent = day + ': ' + count + (count === 1 ? ' event' : ' events');
    rect.append(title);
    svg.append(rect);
  }
  const axis = document.createElementNS(ns, 'line');
  axis.setAttribute('x1', '38'); axis.setAttribute('x2', '720'); axis.setAttribute('y1', '75.5'); axis.setAttribute('y2', '75.5');
  axis.setAttribute('stroke', '#999');
  svg.append(axis);
  text(34, 19, 'end', String(max));
  text(34, 75, 'end', '0');
  text(720, 10, 'end', shown + ' events on ' + activeDays + ' of ' + days + ' days (max ' + max + ' a day)');
  text(40, 88, 'start', new Date(start).toISOString().slice(0, 10));
  if (days > 1) text(720, 88, 'end', active[active.length - 1]);
}
async function lookup(event) {
  event.preventDefault();
  const bearer = $('token').value.trim();
  if (!bearer) { status('enter a token above first', true); return; }
  const ws = encodeURIComponent($('workspace').value.trim());
  const headers = { authorization: 'Bearer ' + bearer };
  const query = new URLSearchParams({ type: $('id-type').value, value: $('id-value').value });
  const response = await fetch('/api/v1/workspaces/' + ws + '/profiles/lookup?' + query, { headers });
  const body = await response.json();
  if (!response.ok) { $('profile').hidden = true; status(body.error.message, true); return; }
  status('', false);
  $('profile').hidden = false;
  $('profile-id').textContent = body.id;
  $('profile-summary').textContent = body.eventCount + ' events, first seen ' + body.firstSeenAt + ', last seen ' + body.lastSeenAt +
    (body.mergedIds.length ? ', merged from ' + body.mergedIds.length + ' other profile(s)' : '');
  $('identities').replaceChildren(...body.identities.map((i) => el('li', i.type + ': ' + i.value)));
  $('traits').tBodies[0].replaceChildren(...Object.entries(body.traits).map(([name, value]) => {
    const row = el('tr');
    const source = body.traitSources[name] || {};
    row.append(el('td', name), el('td', JSON.stringify(value)), el('td', source.sourceId || ''), el('td', source.timestamp || ''));
    return row;
  }));
  const timeline = await fetch('/api/v1/workspaces/' + ws + '/profiles/' + encodeURIComponent(body.id) + '/events?limit=500', { headers });
  const page = await timeline.json();
  const items = timeline.ok ? page.items : [];
  drawActivity(items);
  $('timeline').replaceChildren(...items.slice(0, 50).map((e) => el('li', e.timestamp + '  ' + e.type + (e.event ? ' ' + e.event : e.name ? ' ' + e.name : ''))));
}
$('lookup').addEventListener('submit', (event) => { lookup(event).catch((error) => status(String(error), true)); });
`;
