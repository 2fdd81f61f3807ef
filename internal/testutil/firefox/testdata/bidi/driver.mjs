// Drives one headless Firefox over WebDriver BiDi with puppeteer-core, for
// Go tests (package firefox beside this folder).
//
// Started as `node driver.mjs CONFIG`, CONFIG being JSON:
//   {"executablePath", "profileDir", "width", "height", "prefs": {...}}
// It launches Firefox with one tab and then speaks JSON lines: commands on
// stdin, replies and events on stdout.
//   command  {"id": 1, "op": "navigate"|"eval"|"click"|"fill"|"screenshot"|"close",
//             "url", "expr", "selector", "text", "path", "timeout" (ms)}
//   reply    {"id": 1, "value": <JSON>} or {"id": 1, "error": "..."}
//   event    {"event": "ready", "text": "<browser version>"}
//            {"event": "console", "type": "error", "text": "...", "url": "...", "line": 3}
//            {"event": "pageerror", "text": "..."}
//            {"event": "request", "url": "..."}
// Commands run concurrently. It closes Firefox and exits on "close" or at the
// end of stdin.

import { createInterface } from 'node:readline';
import puppeteer from 'puppeteer-core';

const config = JSON.parse(process.argv[2]);

function out(msg) {
  process.stdout.write(JSON.stringify(msg) + '\n');
}

const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath: config.executablePath,
  userDataDir: config.profileDir,
  headless: true,
  dumpio: true, // Firefox's own output goes to stderr, for failure messages
  handleSIGINT: false,
  handleSIGTERM: false,
  handleSIGHUP: false,
  defaultViewport: { width: config.width, height: config.height },
  extraPrefsFirefox: config.prefs,
  protocolTimeout: 0, // each command is bounded by the Go side
});
const page = (await browser.pages())[0] || (await browser.newPage());
await page.setViewport({ width: config.width, height: config.height });
page.setDefaultTimeout(0);
page.setDefaultNavigationTimeout(0);

page.on('console', (m) => {
  const loc = m.location() || {};
  out({ event: 'console', type: m.type(), text: m.text(), url: loc.url || '', line: loc.lineNumber || 0 });
});
page.on('pageerror', (err) => out({ event: 'pageerror', text: String(err && err.message ? err.message : err) }));
page.on('request', (r) => out({ event: 'request', url: r.url() }));

let closing = null;
function close() {
  if (!closing) {
    closing = browser.close().catch(() => {}).then(() => process.exit(0));
  }
  return closing;
}

async function visible(sel, timeout) {
  const el = await page.waitForSelector(sel, { visible: true, timeout: timeout || 0 });
  if (!el) throw new Error(`no element matches ${sel}`);
  return el;
}

const ops = {
  async navigate(c) {
    await page.goto(c.url, { waitUntil: 'load', timeout: c.timeout || 0 });
    return null;
  },
  async eval(c) {
    const v = await page.evaluate(c.expr);
    return v === undefined ? null : v;
  },
  async click(c) {
    const el = await visible(c.selector, c.timeout);
    await el.click();
    return null;
  },
  async fill(c) {
    const el = await visible(c.selector, c.timeout);
    await el.evaluate((e) => { e.value = ''; });
    await el.type(c.text);
    return null;
  },
  async screenshot(c) {
    await page.screenshot({ path: c.path });
    return null;
  },
};

const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  let c;
  try {
    c = JSON.parse(line);
  } catch (err) {
    out({ event: 'pageerror', text: `driver: a command that is not JSON: ${line.slice(0, 100)}` });
    return;
  }
  if (c.op === 'close') {
    out({ id: c.id, value: null });
    await close();
    return;
  }
  const op = ops[c.op];
  try {
    if (!op) throw new Error(`unknown op ${c.op}`);
    out({ id: c.id, value: await op(c) });
  } catch (err) {
    out({ id: c.id, error: String(err && err.message ? err.message : err) });
  }
});
lines.on('close', close);

out({ event: 'ready', text: await browser.version() });
