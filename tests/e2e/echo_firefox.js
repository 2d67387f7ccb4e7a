'use strict';
// e2e.firefox: headless Firefox ESR (Debian's `firefox-esr`, driven by puppeteer-core over
// WebDriver BiDi) publishes its fake camera and microphone into an echo room and must
// receive both back on the same RTCPeerConnection. See lib/harness.js.
const { runEchoTest, requireModule } = require('./lib/harness');

const puppeteer = requireModule('puppeteer-core');

async function launch(userDataDir) {
    const browser = await puppeteer.launch({
        browser: 'firefox',
        executablePath: '/usr/bin/firefox-esr',
        headless: true,
        userDataDir,
        timeout: 60000,
        extraPrefsFirefox: {
            'media.navigator.streams.fake': true,
            'media.navigator.permission.disabled': true,
            // In a namespace with only loopback, Firefox gathers no candidate at all
            // unless both of these hold:
            // - loopback addresses are left out of gathering unless this is set;
            'media.peerconnection.ice.loopback': true,
            // - without a stored camera/microphone permission (permission.disabled grants
            //   getUserMedia without storing one), Firefox gathers only the "default
            //   address" (the source address of a route to the Internet), and there is no
            //   such route here: "failed to find default addresses". Allowing both by
            //   default lifts that restriction.
            'permissions.default.camera': 1,
            'permissions.default.microphone': 1,
            // Plain host candidates rather than mDNS names, so the logs are readable.
            'media.peerconnection.ice.obfuscate_host_addresses': false,
        },
    });
    const page = await browser.newPage();
    return {
        page,
        close: () => browser.close(),
        kill: () => {
            const p = browser.process();
            if (p) p.kill('SIGKILL');
        },
    };
}

runEchoTest('firefox', launch);
