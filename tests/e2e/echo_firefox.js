'use strict';
// e2e.firefox: headless Firefox ESR (Debian's `firefox-esr`, driven by puppeteer-core over
// WebDriver BiDi) publishes its fake camera and microphone into an echo room and must
// receive both back on the same RTCPeerConnection. See lib/harness.js and lib/browsers.js.
const { runEchoTest } = require('./lib/harness');
const { launchFirefox } = require('./lib/browsers');

runEchoTest('firefox', launchFirefox);
