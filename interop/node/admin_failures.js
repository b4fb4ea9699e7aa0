// Opens the gateway's admin page of recent failures in headless Chromium,
// times its load (navigation timing: request start to load end), opens
// the newest failure in the debugger view, and reports what it shows.
//
// Usage: node admin_failures.js FAILURES_URL SHOT_DIR
// Prints one JSON object: loadMs, rows, opened {url, status, text}.
'use strict';

const path = require('path');
const { chromium } = require('playwright-core');

async function main() {
  const [url, shotDir] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const times = [];
    for (let i = 0; i < 5; i++) { // the median of five loads
      await page.goto(url, { waitUntil: 'load' });
      times.push(await page.evaluate(() => {
        const n = performance.getEntriesByType('navigation')[0];
        return n.loadEventEnd - n.requestStart;
      }));
    }
    times.sort((a, b) => a - b);
    const rows = await page.locator('tbody tr').count();
    await page.screenshot({ path: path.join(shotDir, 'admin-failures.png') });
    await Promise.all([page.waitForNavigation(), page.locator('tbody tr a').first().click()]);
    await page.waitForSelector('.finding', { timeout: 30000 });
    await page.screenshot({ path: path.join(shotDir, 'admin-failure-opened.png'), fullPage: true });
    const opened = await page.evaluate(() => ({
      url: location.href, status: document.getElementById('status').textContent, text: document.getElementById('out').innerText,
    }));
    console.log(JSON.stringify({ loadMs: times[2], rows, opened }));
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
