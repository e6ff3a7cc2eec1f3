#!/usr/bin/env node
/** The `ntrace` command. Sub-commands arrive with the tracefs layer; until then it says what exists. */
const [command] = process.argv.slice(2);
process.stdout.write(
  `ntrace: '${command ?? ''}' is not available yet: the tracefs layer and the demo are under construction.\n` +
    'See README.md (Status) and docs/ARCHITECTURE.md for what exists today.\n',
);
