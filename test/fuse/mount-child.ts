/**
 * A process that mounts the fixture tree and then does what argv[3] says, for the tests about process death:
 *   wait   print "ready" and keep serving until killed
 *   exit   print "ready", then process.exit(0) a moment later (the exit hook must unmount)
 *   drain  print "ready", close nothing and let the event loop end (a mount does not keep the process alive)
 */

import { mountFuse } from '../../src/fuse/index.js';
import { fixtureModule } from '../support/mount.js';

const [mountpoint, mode] = process.argv.slice(2);
await mountFuse({ mountpoint, vfsModule: fixtureModule });
process.stdout.write('ready\n');
if (mode === 'wait') setInterval(() => {}, 1000);
else if (mode === 'exit') setTimeout(() => process.exit(0), 100);
