// The scripts' command-line options, read by Node's own parser (`util.parseArgs`): `--help`/`-h`
// prints the usage and exits 0; an unknown or malformed option prints the error and the usage and
// exits 2. Every script passes its own options and usage line.
import { parseArgs } from 'node:util';

export function readOptions(argv, options, usage) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (e) {
    console.error(`${e.message}\n${usage}`);
    process.exit(2);
  }
  if (parsed.values.help) {
    console.log(usage);
    process.exit(0);
  }
  return parsed.values;
}
