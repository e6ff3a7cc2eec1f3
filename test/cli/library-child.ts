/** An application that mounts its tracefs with the library's mount() and keeps running until it is killed. */
import { mount } from '../../src/index.js';

await mount(process.argv[2]);
process.stdout.write('ready\n');
setInterval(() => {}, 1000);
