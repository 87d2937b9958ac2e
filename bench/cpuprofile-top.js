// The functions that took the most CPU in a .cpuprofile, by self time.
//
//   node bench/cpuprofile-top.js FILE.cpuprofile [N]
//
// Profiles from `npm run bench -- --cpu-prof DIR` come with a
// <name>.window.json beside them (worker profiles share their child's):
// only the samples inside the timed run are counted, so loading the
// payloads before it does not show.

import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2];
const top = Number(process.argv[3] ?? 20);
if (!file) {
  console.error('usage: node bench/cpuprofile-top.js FILE.cpuprofile [N]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const windowFile = file.replace(/(-worker\d+)?\.cpuprofile$/, '.window.json');
const win = existsSync(windowFile) ? JSON.parse(readFileSync(windowFile, 'utf8')) : undefined;

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const self = new Map();
let total = 0;
let t = profile.startTime;
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0;
  if (win && (t < win.from || t > win.to)) continue;
  // A sample stands for the interval up to the next one.
  const dt = profile.timeDeltas[i + 1] ?? 0;
  const { callFrame: cf } = byId.get(profile.samples[i]);
  const where = cf.url ? ` ${cf.url.replace(/^.*\/(?=[^/]+\/[^/]+$)/, '')}:${cf.lineNumber + 1}` : '';
  const key = `${cf.functionName || '(anonymous)'}${where}`;
  self.set(key, (self.get(key) ?? 0) + dt);
  total += dt;
}
console.log(`${file}\n${win ? 'timed window' : 'whole profile'}: ${(total / 1000).toFixed(0)} ms sampled`);
for (const [key, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`${(us / 1000).toFixed(1).padStart(9)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
}
