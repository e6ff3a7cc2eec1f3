/**
 * Bad input never crashes anything: garbage written to every writable file gets one of the kernel's errnos (ESRCH
 * included: the kernel's filter parser answers it for some malformed filters).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../src/trace/event.js';
import { mountTracefs, ok, py, uniqueSystem } from './helpers.js';

test('garbage writes to every writable file answer errnos, and the mount keeps serving', async (t) => {
  const sys = uniqueSystem('junk');
  defineEvent(sys, 'e', { v: 'u32', s: 'string', a: 'u8[4]' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  ok(`echo make cpu0 > ${d}/trace_marker; mkdir ${d}/instances/g`);
  t.after(() => py(`t(lambda: os.rmdir('${d}/instances/g'))`));
  const out = py(`
import random
random.seed(1234)
allowed = {'ESRCH','EINVAL','ENOENT','EBADF','E2BIG','ERANGE','EBUSY','ENOSPC','EEXIST','ENOMEM','EPERM','ENODEV','ENOSYS','EACCES'}
files = []
for root, dirs, names in os.walk('${d}'):
    for n in names:
        p = os.path.join(root, n)
        if os.stat(p).st_mode & 0o200 and n not in ('buffer_size_kb',):
            files.append(p)
inputs = [b'\\x00', b'\\xff\\xfe', b'-1', b'99999999999999999999999', b'1 2 3', b'!', b'::', b'*:*:*', b'hist:keys=', b'(((((', b'v ~ "', b'0x', b'\\n\\n\\n', b'a' * 5000, b'if', b'enable_event:x:y:z']
inputs += [bytes(random.getrandbits(8) for _ in range(random.randint(1, 64))) for _ in range(20)]
bad = []
count = 0
for p in files:
    for data in inputs:
        count += 1
        try:
            fd = os.open(p, os.O_WRONLY)
        except OSError as e:
            if errno.errorcode[e.errno] not in allowed: bad.append((p, 'open', errno.errorcode[e.errno]))
            continue
        try:
            os.write(fd, data)
        except OSError as e:
            if errno.errorcode[e.errno] not in allowed: bad.append((p, data[:20], errno.errorcode[e.errno]))
        finally:
            os.close(fd)
print(len(files) > 40, count > 1000)
print(bad[:5])
`);
  assert.deepEqual(out, ['True True', '[]']);
  // Still serving and still sane.
  assert.equal(ok(`cat ${d}/current_tracer`), 'nop\n');
  assert.match(ok(`cat ${d}/events/${sys}/e/format`), /^name: e$/m);
  ok(`echo 0 > ${d}/events/enable; echo 0 > ${d}/instances/g/events/enable; echo 1 > ${d}/tracing_on`);
});
