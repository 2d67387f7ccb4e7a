'use strict';
// Launchers of the Debian browsers (never downloaded ones), shared by the e2e tests.
// Each returns { page, newPage(), close(), kill() } for a fresh browser whose profile is
// `userDataDir` (a new temporary folder per run).
const { requireModule } = require('./harness');

const CHROMIUM_ARGS = [
    '--headless', '--no-sandbox', '--disable-gpu',
    '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
    '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run',
    // Chromium leaves loopback addresses out of ICE gathering without this; the test's
    // network namespace has nothing else.
    '--allow-loopback-in-peer-connection',
    // Several pages of one browser at once (room tests): none of them may be throttled
    // as a background tab (timers, rendering, media decoding).
    '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
];

// Headless Chromium (Debian's `chromium`) driven by playwright-core. Pages of the same
// browser share one context (the persistent one). opts.executablePath runs another
// program instead (a wrapper that starts Debian's Chromium elsewhere, e.g. in another
// network namespace), opts.args are added to CHROMIUM_ARGS.
async function launchChromium(userDataDir, opts = {}) {
    const { chromium } = requireModule('playwright-core');
    // launchPersistentContext is how playwright takes a --user-data-dir.
    const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: opts.executablePath || '/usr/bin/chromium',
        headless: true,
        args: [...CHROMIUM_ARGS, ...(opts.args || [])],
    });
    const page = context.pages()[0] || await context.newPage();
    return {
        page,
        newPage: () => context.newPage(),
        close: () => context.close(),
        kill: () => {
            const b = context.browser && context.browser();
            // A persistent context has no Browser object: nothing more to do than close.
            if (b) b.close().catch(() => {});
        },
    };
}

// Headless Firefox ESR (Debian's `firefox-esr`) driven by puppeteer-core over WebDriver BiDi.
async function launchFirefox(userDataDir) {
    const puppeteer = requireModule('puppeteer-core');
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
        newPage: () => browser.newPage(),
        close: () => browser.close(),
        kill: () => {
            const p = browser.process();
            if (p) p.kill('SIGKILL');
        },
    };
}

module.exports = { launchChromium, launchFirefox, CHROMIUM_ARGS };
