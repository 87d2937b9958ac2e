/** binlog pull: the CLI face of pull() (docs/SHIPPING.md). */
import { pull as pullStream } from '../../ship/puller.js';
import { atLeast, logArg } from '../args.js';
import { defineCommand, EXIT_OK } from '../command.js';
import { plural } from '../output.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, CONNECTION_SYNOPSIS, STREAM_OPTIONS, connectionFrom, requireStream, untilDoneOrSignal } from '../nats-options.js';

/** `binlog pull`: append a JetStream stream's records to a local log, exactly once. */
export const pull = defineCommand({
  name: 'pull',
  synopsis: `pull <log> --stream NAME [--subject FILTER] [--once] [--max-size N] ${CONNECTION_SYNOPSIS}`,
  summary: "append a NATS JetStream stream's records to a local log, exactly once",
  help: `Append the records of a JetStream stream (many machines' subjects) to a local
log, exactly once across crashes: a checkpoint beside the log
(.<name>.pull-<key>.json) holds the stream sequence and the log's end, and
records appended after it are counted on restart. Records of one subject keep
their order. Without --once it follows the stream until SIGINT or SIGTERM.

  --stream NAME        JetStream stream (required)
  --subject FILTER     subject filter, e.g. logs.> (default: every subject)
  --once               pull what the stream holds now, then exit
  --max-size N         maxFileSize of the local log (default 67108864)
  -h, --help           show this help

${CONNECTION_HELP}

Exit status: 0 pulled (or stopped by a signal), 1 failure, 2 usage error.`,
  options: {
    ...STREAM_OPTIONS,
    'max-size': { type: 'string' },
    ...CONNECTION_OPTIONS,
  },
  async run(values, positionals) {
    const path = logArg(positionals);
    const stream = requireStream(values);
    const puller = pullStream(path, {
      ...connectionFrom(values),
      stream,
      filter: values.subject,
      once: values.once === true,
      maxFileSize: atLeast(values['max-size'], '--max-size', 1),
    });
    const r = await untilDoneOrSignal(puller.done, () => puller.stop());
    process.stderr.write(`binlog pull: ${plural(r.records, 'record')} appended; stream sequence ${r.streamSeq} applied\n`);
    return EXIT_OK;
  },
});
