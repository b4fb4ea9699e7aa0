// Drives headless Chromium (Debian's, through playwright-core) through a
// browser upload: opens PAGE_URL (the form sigv4 post-policy --html made),
// picks FILE, submits, and reports where the browser landed and what it
// shows; saves a screenshot to SHOT.
//
// Usage: node browser_post.js PAGE_URL FILE SHOT
// Prints one JSON object: url, text (the page's text, trimmed).
'use strict';

const { chromium } = require('playwright-core');

async function main() {
  const [pageURL, file, shot] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(pageURL);
    await page.setInputFiles('#file', file);
    await Promise.all([page.waitForNavigation({ timeout: 30000 }), page.click('#upload')]);
    await page.screenshot({ path: shot });
    const text = (await page.evaluate(() => document.body ? document.body.innerText : document.documentElement.textContent)) || '';
    console.log(JSON.stringify({ url: page.url(), text: text.trim().slice(0, 2000) }));
  } finally {
    await browser.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
