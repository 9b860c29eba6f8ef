// The Watch Map webview's page: a strict Content-Security-Policy (nothing by default; the one script only with
// this page's nonce; styles and the bundle only from the extension's own files), so the page can load nothing from
// the network and run nothing injected. No vscode import: unit-tested as text.

export interface WatchHtmlOptions {
  /** webview.cspSource: where the extension's own files are served from. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUris: readonly string[];
  title: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [`default-src 'none'`, `img-src ${cspSource}`, `style-src ${cspSource}`, `font-src ${cspSource}`, `script-src 'nonce-${nonce}'`].join('; ');
}

export function watchHtml(o: WatchHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
${o.styleUris.map((uri) => `<link rel="stylesheet" href="${escapeHtml(uri)}">`).join('\n')}
<title>${escapeHtml(o.title)}</title>
</head>
<body>
<header>
  <h1 id="title">${escapeHtml(o.title)}</h1>
  <span id="path" class="muted"></span>
  <div class="toolbar">
    <button id="pause">Pause</button>
    <button id="clear" class="secondary">Clear</button>
    <button id="export" class="secondary">Export CSV</button>
  </div>
</header>
<div id="status" class="muted">starting…</div>
<div id="error" class="error" hidden></div>
<h2>Values</h2>
<div id="values" class="chart"></div>
<h2>Rate per second</h2>
<div id="rates" class="chart"></div>
<section id="percpu-section" hidden>
  <h2 id="percpu-title">Per CPU</h2>
  <div id="percpu" class="chart"></div>
</section>
<h2>Keys <button id="top" class="secondary" hidden>Chart the largest</button></h2>
<table>
  <thead><tr><th></th><th>key</th><th>value</th><th>rate</th></tr></thead>
  <tbody id="rows"></tbody>
</table>
<div id="empty" class="muted">no entries yet</div>
<script nonce="${escapeHtml(o.nonce)}" src="${escapeHtml(o.scriptUri)}"></script>
</body>
</html>
`;
}
