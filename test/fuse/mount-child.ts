/**
 * A process that mounts the fixture tree and then does what argv[3] says, for the tests about process death:
 *   wait   print "ready" and keep serving until killed
 *   exit   print "ready", then process.exit(0) 0.5 s later (the exit hook must unmount)
 *   drain  print "ready", close nothing and let the event loop end after 0.5 s (a mount does not keep the process alive)
 *   stall  print "ready", then read `stall` through its own mount from the libuv pool: a thread of this process
 *          waits in a request the server holds when the test kills it (issue 16)
 *   self   read files through its own mount, print what it saw and how it mounted, close, exit (for non-root runs,
 *          where nobody else may enter the mount)
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

import { mountFuse } from '../../src/fuse/index.js';
import { fixtureModule } from '../support/mount.js';

const [mountpoint, mode] = process.argv.slice(2);
const owner = { uid: process.getuid!(), gid: process.getgid!() };
const m = await mountFuse({ mountpoint, vfsModule: fixtureModule, vfsData: { owner } });
process.stdout.write('ready\n');
if (mode === 'self') {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === mountpoint);
  const cat = spawnSync('cat', [`${mountpoint}/hello`, `${mountpoint}/events/sys0/ev2/id`], { encoding: 'utf8' });
  const write = spawnSync('sh', ['-c', `echo hi > ${mountpoint}/rw && cat ${mountpoint}/rw`], { encoding: 'utf8' });
  m.post({ type: 'push', text: 'rung' });
  const pipe = spawnSync('head', ['-c', '4', `${mountpoint}/pipe`], { encoding: 'utf8', timeout: 5000 });
  process.stdout.write(
    `${JSON.stringify({ mountinfo: line, cat: cat.stdout, write: write.stdout, pipe: pipe.stdout })}\n`,
  );
  await m.close();
}
if (mode === 'stall') {
  setInterval(() => {}, 1000);
  readFile(`${mountpoint}/stall`).catch(() => {});
  setTimeout(() => process.stdout.write('stalling\n'), 200);
}
if (mode === 'wait') setInterval(() => {}, 1000);
else if (mode === 'exit') setTimeout(() => process.exit(0), 500);
else if (mode === 'drain') setTimeout(() => {}, 500); // then nothing is left to do and the process ends by itself
