'use strict';
// e2e.chromium: headless Chromium (Debian's `chromium`, driven by playwright-core)
// publishes its fake camera and microphone into an echo room and must receive both back
// on the same RTCPeerConnection. See lib/harness.js and lib/browsers.js.
const { runEchoTest } = require('./lib/harness');
const { launchChromium } = require('./lib/browsers');

runEchoTest('chromium', launchChromium);
