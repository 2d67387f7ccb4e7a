'use strict';
// e2e.web_weight: the web client stays light and self-contained (issue 5, STYLE.md 14):
// - every file of web/ together: at most 60 KiB uncompressed;
// - nothing that would load from another host: no http:// or https:// address, no
//   protocol-relative //host, no @import of a URL, in any text file of web/. The only
//   exception is the SVG namespace name (an identifier, never fetched);
// - no framework bundle or build output: only .html, .js, .css and .svg files.
//
//   node tests/e2e/web_weight.js WEB_ROOT
const fs = require('fs');
const path = require('path');

const LIMIT = 60 * 1024;
const ALLOWED = new Set(['http://www.w3.org/2000/svg']);
const root = process.argv[2];
if (!root) {
    console.error('usage: node web_weight.js WEB_ROOT');
    process.exit(2);
}

function walk(dir) {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        return e.isDirectory() ? walk(p) : [p];
    });
}

const problems = [];
let total = 0;
for (const file of walk(root)) {
    const rel = path.relative(root, file);
    const size = fs.statSync(file).size;
    total += size;
    console.log(`${String(size).padStart(7)}  ${rel}`);
    if (!/\.(html|js|css|svg)$/.test(file)) {
        problems.push(`${rel}: not an .html, .js, .css or .svg file`);
        continue;
    }
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
        // Absolute URLs, and //host.name (protocol-relative) outside JS line comments.
        const re = /\bhttps?:\/\/[^\s"'`)<>]+|(?<![:\w/])\/\/[A-Za-z0-9-]+\.[A-Za-z0-9.-]*[A-Za-z]/g;
        for (const m of line.matchAll(re)) {
            if (ALLOWED.has(m[0])) continue;
            const before = line.slice(0, m.index);
            if (m[0].startsWith('//') && /^\s*$/.test(before) && /\.js$/.test(file)) continue; // a comment line
            problems.push(`${rel}:${i + 1}: reference to another host: ${m[0]}`);
        }
        if (/@import\s+url\(|\bsrc\s*=\s*["']?\/\/|\bimport\s*\(?\s*["']https?:/.test(line)) {
            problems.push(`${rel}:${i + 1}: external import: ${line.trim()}`);
        }
    });
}
console.log(`${String(total).padStart(7)}  total (limit ${LIMIT})`);
if (total > LIMIT) problems.push(`web/ weighs ${total} bytes, more than ${LIMIT}`);
if (problems.length) {
    console.error(`e2e.web_weight: FAILED\n${problems.join('\n')}`);
    process.exit(1);
}
console.log('e2e.web_weight: PASSED');
