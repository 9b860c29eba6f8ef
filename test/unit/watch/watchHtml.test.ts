import * as assert from 'node:assert/strict';
import { contentSecurityPolicy, watchHtml } from '../../../src/extension/watch/watchHtml';

const SOURCE = 'https://file+.vscode-resource.vscode-cdn.net';

describe('watch: the webview page', () => {
  const html = watchHtml({ cspSource: SOURCE, nonce: 'abc123', scriptUri: `${SOURCE}/ext/dist/webview/watchMap.js`, styleUris: [`${SOURCE}/ext/dist/webview/watchMap.css`], title: 'a/<b>' });

  it('has a strict Content-Security-Policy: nothing by default, the script only with the nonce, styles only from the extension', () => {
    const csp = contentSecurityPolicy(SOURCE, 'abc123');
    assert.match(csp, /^default-src 'none'; /);
    assert.match(csp, /script-src 'nonce-abc123'(;|$)/);
    assert.match(csp, new RegExp(`style-src ${SOURCE.replace(/[.+]/g, '\\$&')}(;|$)`));
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
    assert.ok(html.includes(`content="${csp.replace(/'/g, '&#39;')}"`), 'the policy is in the page');
  });

  it('every script carries the nonce, and nothing comes from elsewhere than the extension', () => {
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.equal(scripts.length, 1);
    assert.match(scripts[0], /nonce="abc123"/);
    for (const url of html.match(/(?:src|href)="[^"]*"/g) ?? []) assert.ok(url.includes(SOURCE), url);
    assert.doesNotMatch(html, /style="/, 'no inline styles');
  });

  it('escapes the title', () => {
    assert.match(html, /<title>a\/&#60;b&#62;<\/title>/);
  });
});
