/**
 * An application process for the shipping tests: defines `<system>:req` with the given fields, mounts with the
 * `ship` option, emits `count` events, closes (which lets the shipper finish) and exits.
 * argv: MOUNTDIR URL DATABASE SYSTEM FIELDS_JSON COUNT SERVICE
 */
import { defineEvent, type FieldDeclarations, mount } from '../../src/index.js';

const [dir, url, database, system, fieldsJson, count, service] = process.argv.slice(2);
const fields = JSON.parse(fieldsJson) as FieldDeclarations;
const ev = defineEvent(system, 'req', fields);
// With NTRACE_CLICKHOUSE set (as `ntrace/register` would run it), mount() ships from the environment.
const m = await mount(
  dir,
  process.env.NTRACE_CLICKHOUSE
    ? {}
    : { ship: { clickhouse: url, database, events: [system], service, spoolDir: `${dir}.spool` } },
);
try {
  for (let i = 0; i < Number(count); i++) {
    const v: Record<string, unknown> = {};
    for (const [name, type] of Object.entries(fields)) v[name] = type === 'string' ? `/${name}/${i % 7}` : i % 1000;
    ev.emit(v as never);
    if (i % 500 === 499) await new Promise((r) => setTimeout(r, 5));
  }
} finally {
  await m.close();
}
