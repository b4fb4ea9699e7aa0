// Drives the signing debugger page (sigv4 debug) in headless Chromium:
// for each case, pastes the request, the server's answer and the secret,
// explains, and reports what the page shows; checks the page's labels,
// keyboard use and contrast; saves screenshots of the cases named.
//
// Usage: node debug_page.js PAGE_URL CASES_JSON SHOT_DIR OFFLINE
// CASES_JSON: [{name, request, error, secret, service, shot}]. OFFLINE 1
// takes the browser off the network (the WebAssembly page from a file).
// Prints one JSON object: mode, results [{name, status, text, marked}],
// a11y {unlabelled, lowContrast, keyboard}.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

async function main() {
  const [pageURL, casesFile, shotDir, offline] = process.argv.slice(2);
  const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    if (offline === '1') await context.setOffline(true);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pageURL);
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
    const mode = await page.evaluate(() => document.body.dataset.ready);
    const results = [];
    for (const c of cases) {
      await page.fill('#request', c.request);
      await page.fill('#error', c.error || '');
      await page.fill('#secret', c.secret || '');
      await page.fill('#service', c.service || '');
      await page.click('#explain');
      await page.waitForFunction(() => document.getElementById('status').textContent !== 'Explaining…', null, { timeout: 30000 });
      const r = await page.evaluate(() => ({
        status: document.getElementById('status').textContent,
        text: document.getElementById('out').innerText,
        marked: document.querySelectorAll('table.side td.del, table.side td.add').length,
      }));
      if (c.shot) await page.screenshot({ path: path.join(shotDir, c.shot), fullPage: true });
      results.push({ name: c.name, ...r });
      await page.fill('#request', '');
    }
    await page.goto(pageURL);
    await page.waitForFunction(() => document.body.dataset.ready, null, { timeout: 60000 });
    const a11y = await checkA11y(page, cases[0]);
    console.log(JSON.stringify({ mode, results, a11y, errors }));
  } finally {
    await browser.close();
  }
}

// checkA11y: every field has a label; text has 4.5:1 contrast against its
// background; the page works from the keyboard alone (Tab to the fields
// and the button, Enter to explain).
async function checkA11y(page, c) {
  const unlabelled = await page.evaluate(() => [...document.querySelectorAll('textarea, input')]
    .filter((e) => !e.labels || e.labels.length === 0).map((e) => e.id));
  const lowContrast = await page.evaluate(() => {
    const rgb = (s) => (s.match(/[\d.]+/g) || []).slice(0, 4).map(Number);
    const lum = ([r, g, b]) => {
      const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const bgOf = (e) => {
      for (; e; e = e.parentElement) {
        const c = rgb(getComputedStyle(e).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0)) return c;
      }
      return [255, 255, 255];
    };
    const bad = [];
    for (const e of document.querySelectorAll('p, label, th, td, pre, span, button, h1, h2, h3, strong, code, a')) {
      if (!e.textContent.trim() || e.offsetParent === null) continue;
      const fg = lum(rgb(getComputedStyle(e).color)), bg = lum(bgOf(e));
      const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
      if (ratio < 4.5) bad.push(`${e.tagName}.${e.className}: ${ratio.toFixed(2)}`);
    }
    return [...new Set(bad)];
  });
  // The keyboard alone, on the page just loaded: from the top, Tab to the
  // request field, type, Tab on to the button, Enter.
  await page.evaluate(() => { document.getElementById('status').textContent = 'keyboard'; });
  const order = [];
  for (let i = 0; i < 8; i++) {
    await page.keyboard.press('Tab');
    const id = await page.evaluate(() => document.activeElement.id || document.activeElement.className);
    order.push(id);
    if (id === 'request') await page.keyboard.insertText(c.request);
    if (id === 'error') await page.keyboard.insertText(c.error || '');
    if (id === 'explain') break;
  }
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => !['keyboard', 'Explaining…'].includes(document.getElementById('status').textContent), null, { timeout: 30000 });
  const focused = await page.evaluate(() => document.activeElement.id);
  const found = await page.evaluate(() => document.querySelectorAll('.finding').length);
  return { unlabelled, lowContrast, keyboard: { order, focused, found } };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
