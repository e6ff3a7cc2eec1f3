/**
 * `events/S/E/inject` through a real mount: the event is fired as the application would fire it, in the trace
 * array that owns the file only — recorded only if enabled (not soft-disabled) and passing the event and system
 * filters; its triggers run as for an application emit (also when it is only soft-enabled: then nothing is
 * recorded); counts are used up only when a trigger acts; hist tables count injected records; a snapshot trigger
 * swaps the owning array's buffer. The kernel selftests for triggers (trigger-traceonoff, -eventonoff, -stacktrace,
 * -snapshot, -hist, -multihist, -hist-mod, -filter) re-targeted to inject. Every rule runs in the top-level array
 * and in an instance, with the other array set up the same way to show that nothing leaks into it.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { defineEvent } from '../../src/index.js';
import { assertMatch, mountTracefs, ok, sh, uniqueSystem } from './helpers.js';

function events() {
  const sys = uniqueSystem('inj');
  defineEvent(sys, 'fork', { parent_pid: 's32', child_pid: 's32', comm: 'char[16]' });
  defineEvent(sys, 'request', { url: 'string', status: 'u16', bytes: 'u32' });
  return sys;
}

/** Status values of the request records in a trace text. */
const statuses = (trace: string) => [...trace.matchAll(/status=(\d+)/g)].map((m) => Number(m[1]));

interface Arrays {
  /** The array under test (the mount's root, or `instances/inj`) and the other one. */
  readonly here: string;
  readonly other: string;
  readonly sys: string;
  /** `events/<sys>/<event>` of the array under test, and of the other array. */
  ev(event: string, where?: string): string;
  inject(event: string, text: string, where?: string): void;
}

/** One mount per array kind; each rule is a subtest with its own events (the registry is process-wide). */
for (const kind of ['top-level array', 'instance'] as const) {
  test(`inject fires the event as the application would — in the ${kind}`, async (t) => {
    const m = await mountTracefs(t);
    const root = m.mountpoint;
    const inst = `${root}/instances/inj`;
    ok(`mkdir ${inst}`);
    t.after(() => sh(`rmdir ${inst}`));
    const here = kind === 'instance' ? inst : root;
    const other = kind === 'instance' ? root : inst;

    const rule = (name: string, fn: (a: Arrays, t: TestContext) => void) =>
      t.test(name, (st) => {
        const sys = events();
        const a: Arrays = {
          here,
          other,
          sys,
          ev: (event, where = here) => `${where}/events/${sys}/${event}`,
          inject: (event, text, where = here) => ok(`echo '${text}' > ${where}/events/${sys}/${event}/inject`),
        };
        for (const d of [root, inst]) ok(`echo > ${d}/trace; echo 1 > ${d}/tracing_on`);
        st.after(() => {
          // Triggers and filters off in both arrays, so that the instance can go and the next rule starts clean.
          for (const d of [root, inst])
            for (const e of ['fork', 'request']) {
              const dir = `${d}/events/${sys}/${e}`;
              sh(`for t in $(grep -v '^#' ${dir}/trigger | sed 's/ .*//;s/:unlimited//;s/:count=[0-9]*//'); do
                    echo "!$t" >> ${dir}/trigger; done; : > ${dir}/trigger; echo 0 > ${dir}/filter; echo 0 > ${dir}/enable`);
              sh(`echo 0 > ${d}/events/${sys}/filter; echo 1 > ${d}/tracing_on; echo 0 > ${d}/snapshot`);
            }
        });
        fn(a, st);
      });

    await rule('the record goes to the array that owns the inject file, and only there', (a) => {
      ok(`echo 1 > ${a.ev('request')}/enable; echo 1 > ${a.ev('request', a.other)}/enable`);
      a.inject('request', 'url="/here" status=201 bytes=1');
      assert.deepEqual(statuses(ok(`cat ${a.here}/trace`)), [201]);
      assert.deepEqual(statuses(ok(`cat ${a.other}/trace`)), []);
      a.inject('request', 'status=202', a.other);
      assert.deepEqual(statuses(ok(`cat ${a.here}/trace`)), [201]);
      assert.deepEqual(statuses(ok(`cat ${a.other}/trace`)), [202]);
    });

    await rule('recorded only while the event is enabled and tracing is on', (a) => {
      a.inject('request', 'status=1');
      ok(`echo 1 > ${a.ev('request')}/enable`);
      a.inject('request', 'status=2');
      ok(`echo 0 > ${a.here}/tracing_on`);
      a.inject('request', 'status=3');
      ok(`echo 1 > ${a.here}/tracing_on; echo 0 > ${a.ev('request')}/enable`);
      a.inject('request', 'status=4');
      assert.deepEqual(statuses(ok(`cat ${a.here}/trace`)), [2]);
    });

    await rule('trigger-filter: the event filter and the system filter decide what is recorded', (a) => {
      ok(`echo 1 > ${a.ev('request')}/enable; echo 'status >= 500' > ${a.ev('request')}/filter`);
      for (const s of [200, 503, 404, 500]) a.inject('request', `status=${s}`);
      assert.deepEqual(statuses(ok(`cat ${a.here}/trace`)), [503, 500]);
      ok(`echo 0 > ${a.ev('request')}/filter; echo 'bytes == 7' > ${a.here}/events/${a.sys}/filter`);
      a.inject('request', 'status=1 bytes=6');
      a.inject('request', 'status=2 bytes=7');
      assert.deepEqual(statuses(ok(`cat ${a.here}/trace`)), [503, 500, 2]);
    });

    await rule('trigger-filter: a trigger with `if` fires only when its filter matches', (a) => {
      ok(`echo 'traceoff if child_pid == 0' > ${a.ev('fork')}/trigger`);
      a.inject('fork', 'parent_pid=1 child_pid=5');
      assert.equal(ok(`cat ${a.here}/tracing_on`), '1\n');
      a.inject('fork', 'parent_pid=1 child_pid=0');
      assert.equal(ok(`cat ${a.here}/tracing_on`), '0\n');
      assert.equal(ok(`cat ${a.other}/tracing_on`), '1\n', 'the other array keeps tracing');
    });

    await rule('trigger-traceonoff: counts are used up only when the trigger acts', (a) => {
      ok(`echo traceoff:2 > ${a.ev('fork')}/trigger`);
      assert.equal(ok(`cat ${a.ev('fork')}/enable`), '0*\n', 'soft-enabled by its trigger');
      ok(`echo 0 > ${a.here}/tracing_on`);
      a.inject('fork', 'child_pid=1');
      assert.equal(ok(`cat ${a.ev('fork')}/trigger`), 'traceoff:count=2\n', 'tracing already off: no count used');
      ok(`echo 1 > ${a.here}/tracing_on`);
      a.inject('fork', 'child_pid=2');
      assert.equal(ok(`cat ${a.here}/tracing_on`), '0\n');
      assert.equal(ok(`cat ${a.ev('fork')}/trigger`), 'traceoff:count=1\n');
      assert.equal(ok(`cat ${a.other}/tracing_on`), '1\n');
      ok(`echo '!traceoff' > ${a.ev('fork')}/trigger; echo traceon:1 > ${a.ev('fork')}/trigger`);
      a.inject('fork', 'child_pid=3');
      assert.equal(ok(`cat ${a.here}/tracing_on`), '1\n', 'traceon fires while tracing is off');
      ok(`echo 0 > ${a.here}/tracing_on`);
      a.inject('fork', 'child_pid=4');
      assert.equal(ok(`cat ${a.here}/tracing_on`), '0\n', 'count used up');
      assert.equal(ok(`cat ${a.ev('fork')}/trigger`), 'traceon:count=0\n');
    });

    await rule('trigger-eventonoff: enable_event / disable_event switch the target in this array', (a) => {
      const target = `${a.sys}:request`;
      ok(`echo 'enable_event:${target}' > ${a.ev('fork')}/trigger`);
      assert.equal(ok(`cat ${a.ev('request')}/enable`), '0*\n');
      a.inject('request', 'status=1');
      a.inject('fork', 'child_pid=1');
      assert.equal(ok(`cat ${a.ev('request')}/enable`), '1*\n');
      assert.equal(ok(`cat ${a.ev('request', a.other)}/enable`), '0\n', 'not in the other array');
      a.inject('request', 'status=2');
      assert.deepEqual(statuses(ok(`cat ${a.here}/trace`)), [2]);
      ok(`echo '!enable_event:${target}' > ${a.ev('fork')}/trigger`);
      ok(`echo 'disable_event:${target}:1' > ${a.ev('fork')}/trigger`);
      a.inject('fork', 'child_pid=2');
      assert.equal(ok(`cat ${a.ev('request')}/enable`), '0*\n');
      assert.equal(ok(`cat ${a.ev('fork')}/trigger`), `disable_event:${target}:count=0\n`);
      a.inject('request', 'status=3');
      assert.deepEqual(statuses(ok(`cat ${a.here}/trace`)), [2]);
      ok(`echo '!disable_event:${target}' > ${a.ev('fork')}/trigger`);
    });

    await rule('a soft-enabled event runs its triggers and records nothing', (a) => {
      ok(`echo 'hist:keys=status' > ${a.ev('request')}/trigger`);
      assert.equal(ok(`cat ${a.ev('request')}/enable`), '0*\n');
      a.inject('request', 'status=7');
      ok(`echo 1 > ${a.ev('request')}/enable`);
      assert.equal(ok(`cat ${a.ev('request')}/enable`), '1*\n');
      a.inject('request', 'status=8');
      ok(`echo 0 > ${a.ev('request')}/enable`);
      a.inject('request', 'status=9');
      assert.deepEqual(statuses(ok(`cat ${a.here}/trace`)), [8]);
      assertMatch(ok(`cat ${a.ev('request')}/hist`), /Hits: 3\n/);
    });

    await rule('trigger-stacktrace: the stack lands in the owning array, count 1', (a) => {
      ok(`echo 'stacktrace:1' > ${a.ev('fork')}/trigger`);
      a.inject('fork', 'child_pid=1');
      a.inject('fork', 'child_pid=2');
      assert.equal(ok(`cat ${a.here}/trace`).split('<stack trace>').length, 2, 'one stack');
      assert.doesNotMatch(ok(`cat ${a.other}/trace`), /<stack trace>/);
      assert.equal(ok(`cat ${a.ev('fork')}/trigger`), 'stacktrace:count=0\n');
    });

    await rule("trigger-snapshot: the snapshot trigger swaps the owning array's buffer", (a) => {
      ok(`echo 1 > ${a.ev('request')}/enable; echo 'snapshot:1' > ${a.ev('fork')}/trigger`);
      assertMatch(ok(`cat ${a.here}/snapshot`), /# \* Snapshot is allocated \*/);
      a.inject('request', 'url="/two" status=2');
      a.inject('fork', 'child_pid=1');
      a.inject('request', 'url="/three" status=3');
      assert.deepEqual(statuses(ok(`cat ${a.here}/snapshot`)), [2]);
      assert.deepEqual(statuses(ok(`cat ${a.here}/trace`)), [3]);
      assertMatch(ok(`cat ${a.other}/snapshot`), /# \* Snapshot is freed \*/);
      assert.equal(ok(`cat ${a.ev('fork')}/trigger`), 'snapshot:count=0\n');
    });

    await rule('trigger-hist, -multihist, -hist-mod: hist tables count injected records', (a) => {
      ok(`echo 'hist:keys=status:vals=bytes:sort=status' > ${a.ev('request')}/trigger`);
      for (let i = 0; i < 6; i++) a.inject('request', `status=${i % 3 === 0 ? 500 : 200} bytes=2`);
      const hist = ok(`cat ${a.ev('request')}/hist`);
      assertMatch(hist, /\{ status:\s+200 \} hitcount:\s+4 {2}bytes:\s+8\n/);
      assertMatch(hist, /\{ status:\s+500 \} hitcount:\s+2 {2}bytes:\s+4\n/);
      assertMatch(hist, /Totals:\n {4}Hits: 6\n {4}Entries: 2\n {4}Dropped: 0\n/);
      assert.equal(ok(`cat ${a.ev('request', a.other)}/hist`), '', 'no table in the other array');
      // multihist: a second table on the same event counts the same records; hist-mod: .hex and .log2.
      ok(`echo 'hist:keys=status.hex' >> ${a.ev('request')}/trigger`);
      ok(`echo 'hist:keys=bytes.log2' >> ${a.ev('request')}/trigger`);
      a.inject('request', 'status=255 bytes=1000');
      const all = ok(`cat ${a.ev('request')}/hist`);
      assertMatch(all, /\{ status: ff \} hitcount:\s+1\n/);
      assertMatch(all, /\{ bytes: ~ 2\^10\s*\} hitcount:\s+1\n/);
      assertMatch(all, /\{ status:\s+255 \} hitcount:\s+1 {2}bytes:\s+1000\n/);
    });
  });
}
