'use strict';
// e2e.chromium: headless Chromium (Debian's `chromium`, driven by playwright-core)
// publishes its fake camera and microphone into an echo room and must receive both back
// on the same RTCPeerConnection. See lib/harness.js.
const { runEchoTest, requireModule } = require('./lib/harness');

const { chromium } = requireModule('playwright-core');

async function launch(userDataDir) {
    // launchPersistentContext is how playwright takes a --user-data-dir (fresh: a new
    // temporary folder per run).
    const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: [
            '--headless', '--no-sandbox', '--disable-gpu',
            '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
            '--disable-background-networking', '--disable-component-update',
            '--disable-sync', '--no-first-run',
            // Chromium leaves loopback addresses out of ICE gathering without this; the
            // test's network namespace has nothing else.
            '--allow-loopback-in-peer-connection',
        ],
    });
    const page = context.pages()[0] || await context.newPage();
    return { page, close: () => context.close() };
}

runEchoTest('chromium', launch);
