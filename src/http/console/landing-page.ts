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
#events li { margin: .3rem 0; padding: .4rem .6rem; background: #fff; border-left: 3px solid #4b7bec; }
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
  const bearer = $('token').value.trim();
  const ws = encodeURIComponent($('workspace').value.trim());
  sessionStorage.setItem('cdp.token', bearer);
  const headers = { authorization: 'Bearer ' + bearer };
  const stats = await fetch('/api/v1/workspaces/' + ws + '/stats', { headers });
  if (!stats.ok) { show((await stats.json()).error.message, true); return; }
  const s = await stats.json();
  show(s.events + ' events stored, ' + s.failedEvents + ' failed; waiting for new ones…', false);
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
`;
