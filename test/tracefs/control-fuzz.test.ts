/**
 * The control languages fuzzed through the mount: random and mutated writes to `filter`, `trigger`, `inject`,
 * `snapshot` (500 in the default run, 10,000 with NTRACE_FUZZ=full), while the application's thread emits between
 * batches so that whatever was accepted is compiled and run. Every answer is one of the kernel's errnos, the mount
 * keeps serving, the application never notices.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineEvent } from '../../src/index.js';
import { problemCounts } from '../../src/trace/engine.js';
import { mountTracefs, ok, py, sh, uniqueSystem } from './helpers.js';

const FULL = process.env.NTRACE_FUZZ === 'full';
const TOTAL = FULL ? 10_000 : 500;
const BATCH = 250;

test(`control files through the mount: ${TOTAL} fuzzed writes`, { timeout: FULL ? 600_000 : 120_000 }, async (t) => {
  const sys = uniqueSystem('fz');
  const a = defineEvent(sys, 'a', { status: 'u16', url: 'string', name: 'char[8]', big: 's64', ok: 'bool' });
  const b = defineEvent(sys, 'b', { n: 'u32' });
  const m = await mountTracefs(t);
  const d = m.mountpoint;
  const e = `${d}/events/${sys}`;
  t.after(() =>
    sh(
      `echo 0 > ${e}/a/filter; echo 0 > ${e}/b/filter; echo 0 > ${e}/filter; echo > ${e}/a/trigger; echo > ${e}/b/trigger; ` +
        `for c in $(grep -v '^#' ${e}/a/trigger | sed 's/:.*//;s/ .*//' | sort -u); do echo "!$c" > ${e}/a/trigger; done; ` +
        `for c in $(grep -v '^#' ${e}/b/trigger | sed 's/:.*//;s/ .*//' | sort -u); do echo "!$c" > ${e}/b/trigger; done; ` +
        `echo 0 > ${d}/snapshot; echo 0 > ${e}/enable; echo 1 > ${d}/tracing_on`,
    ),
  );
  ok(`echo 1 > ${e}/enable`);
  const before = problemCounts().internalErrors;
  let bad: string[] = [];
  let accepted = 0;
  let refused = 0;
  for (let done = 0; done < TOTAL; done += BATCH) {
    const out = py(`
import random
random.seed(${done + 1})
allowed = {'ESRCH','EINVAL','ENOENT','E2BIG','ERANGE','EBUSY','ENOSPC','EEXIST','ENOMEM','EPERM','ENODEV'}
E = '${e}'
files = [E + '/a/filter', E + '/b/filter', E + '/filter', E + '/a/trigger', E + '/b/trigger', E + '/a/inject', E + '/b/inject', '${d}/snapshot']
corpus = [b'status >= 500', b'url ~ "/api/*"', b'name == "abc" && ok == 1', b'(big < -5 || status & 3) && !(url == "x")',
  b'common_pid != 0', b'comm ~ "node*"', b'CPU == 0', b'0', b'n > 10', b'traceoff', b'traceon:3', b'snapshot:1 if status == 1',
  b'stacktrace:2', b'enable_event:${sys}:b', b'disable_event:${sys}:b:1', b'!enable_event:${sys}:b', b'!traceoff',
  b'hist:keys=status:vals=big:sort=status.descending', b'hist:keys=url', b'hist:keys=common_pid.execname', b'hist:keys=status.log2:pause',
  b'hist:keys=status:clear', b'hist:name=x:keys=n', b'!hist:keys=url', b'enable_hist:${sys}:a', b'status=500 url="/x" name="q"',
  b'n=0x10', b'1', b'2', b'0']
alphabet = b'()&|!=<>~*?[]"\\' :,.-0123456789abcdefghijklmnopqrstuvwxyz_ \\t\\n\\x00\\xff'
def mutate(s):
    s = bytearray(s)
    for _ in range(random.randint(1, 4)):
        k = random.random()
        if k < 0.3 and s: del s[random.randrange(len(s))]
        elif k < 0.6: s.insert(random.randint(0, len(s)), random.choice(alphabet))
        elif k < 0.8 and s: s[random.randrange(len(s))] = random.choice(alphabet)
        else: s += random.choice(corpus)
    return bytes(s)
bad = []
accepted = refused = 0
for i in range(${BATCH}):
    r = random.random()
    data = random.choice(corpus) if r < 0.3 else mutate(random.choice(corpus)) if r < 0.85 else bytes(random.getrandbits(8) for _ in range(random.randint(0, 80)))
    p = random.choice(files)
    flags = os.O_WRONLY | (os.O_TRUNC if random.random() < 0.05 else 0)
    try:
        fd = os.open(p, flags)
    except OSError as ex:
        bad.append((p, 'open', errno.errorcode[ex.errno])); continue
    try:
        os.write(fd, data)
        accepted += 1
    except OSError as ex:
        refused += 1
        if errno.errorcode[ex.errno] not in allowed: bad.append((p, data[:30], errno.errorcode[ex.errno]))
    finally:
        os.close(fd)
    if i % 50 == 0:
        for f in ('a/filter', 'a/trigger', 'b/trigger', 'a/hist', 'b/hist', 'filter'):
            open(E + '/' + f, 'rb').read()
        open('${d}/snapshot', 'rb').read()
print(accepted, refused)
print(repr(bad[:5]))
`);
    const [acc, ref] = out[0].split(' ').map(Number);
    accepted += acc;
    refused += ref;
    bad = bad.concat(out.slice(1).filter((l) => l !== '[]'));
    // The application's thread runs whatever was accepted.
    for (let i = 0; i < 200; i++) {
      a.emit({ status: i, url: `/api/${i}`, name: 'abc', big: BigInt(i - 100), ok: i % 2 === 0 });
      b.emit({ n: i });
    }
    ok(`echo 1 > ${d}/tracing_on`);
  }
  assert.deepEqual(bad, []);
  assert.equal(accepted + refused, TOTAL);
  assert.ok(accepted > TOTAL / 20 && refused > TOTAL / 20, `${accepted} accepted, ${refused} refused`);
  assert.equal(problemCounts().internalErrors, before, 'emit never failed inside');
  assert.equal(ok(`cat ${d}/current_tracer`), 'nop\n');
  ok(`cat ${d}/trace > /dev/null; cat ${e}/a/hist > /dev/null`);
});
