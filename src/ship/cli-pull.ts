/** `binlog pull`: the CLI face of pull() (issue 12, item 4). */
import { CONNECTION_HELP, EXIT_OK, UsageError, connectionFrom, intFlag, parse, report, stopOnSignals, type CliCommand } from './cli-common.js';
import { pull } from './puller.js';

const usage = `Usage: binlog pull <log> --stream NAME [--subject FILTER] [--once] [options]

Append the records of a JetStream stream (many machines' subjects) to a local
log, exactly once across crashes: a checkpoint beside the log
(.<name>.pull-<key>.json) holds the stream sequence and the log's end, and
records appended after it are counted on restart. Records of one subject keep
their order. Without --once it follows the stream until SIGINT or SIGTERM.

  --stream NAME        JetStream stream (required)
  --subject FILTER     subject filter, e.g. logs.> (default: every subject)
  --once               pull what the stream holds now, then exit
  --max-size N         maxFileSize of the local log (default 67108864)

${CONNECTION_HELP}

Needs the NATS client: npm install nats@^2.29.3.
Exit status: 0 pulled (or stopped by a signal), 1 failure, 2 usage error.`;

export const pullCommand: CliCommand = {
  name: 'pull',
  usage,
  run: (argv) =>
    report('pull', async () => {
      const { values, positionals } = parse(argv, {
        stream: { type: 'string' },
        subject: { type: 'string' },
        once: { type: 'boolean' },
        'max-size': { type: 'string' },
      });
      if (values.help) {
        process.stdout.write(`${usage}\n`);
        return EXIT_OK;
      }
      if (positionals.length !== 1) throw new UsageError('give exactly one log');
      if (typeof values.stream !== 'string' || !values.stream) throw new UsageError('--stream is required');
      const puller = pull(positionals[0]!, {
        ...connectionFrom(values),
        stream: values.stream,
        filter: values.subject as string | undefined,
        once: values.once === true,
        maxFileSize: intFlag(values, 'max-size', 1),
      });
      const unlisten = stopOnSignals(() => puller.stop());
      try {
        const r = await puller.done;
        process.stderr.write(`binlog pull: ${r.records} records appended; stream sequence ${r.streamSeq} applied\n`);
        return EXIT_OK;
      } finally {
        unlisten();
      }
    }),
};
