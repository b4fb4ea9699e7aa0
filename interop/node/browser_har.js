// Drives headless Chromium (Debian's, through playwright-core) to a page
// that signs and sends a request by itself (aws4fetch in the browser), and
// records all the browser's traffic as a HAR file, with the bodies: what a
// developer saves from the browser's network panel.
//
// Usage: node browser_har.js PAGE_URL HAR_PATH
// Waits until the page sets document.body.dataset.done, then prints one
// JSON object: status (what the page recorded in document.body.dataset.status),
// text (the page's text, trimmed). The HAR is written when the context closes.
'use strict';

const { chromium } = require('playwright-core');

async function main() {
  const [pageURL, harPath] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  try {
    const context = await browser.newContext({ recordHar: { path: harPath, content: 'embed' } });
    try {
      const page = await context.newPage();
      await page.goto(pageURL);
      await page.waitForFunction(() => document.body && document.body.dataset.done, null, { timeout: 30000 });
      const status = Number(await page.evaluate(() => document.body.dataset.status));
      const text = (await page.evaluate(() => document.body.innerText)) || '';
      console.log(JSON.stringify({ status, text: text.trim().slice(0, 2000) }));
    } finally {
      await context.close(); // writes the HAR
    }
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
