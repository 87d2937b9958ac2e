/** `binlog ship`: the CLI face of ship() (issue 12, item 1). */
import { CONNECTION_HELP, EXIT_OK, UsageError, connectionFrom, intFlag, parse, report, stopOnSignals, type CliCommand } from './cli-common.js';
import { ship } from './shipper.js';

const usage = `Usage: binlog ship <log> --stream NAME --subject SUBJECT [--once] [options]

Publish the records of a log to a NATS JetStream stream, exactly once: each
message carries an id made of the log's id and its first record's position,
and a checkpoint beside the log (.<name>.ship-<key>.json) says what the
server has acknowledged. The stream is created if missing (file storage);
a stream without the subject gets it added. Without --once it follows the
log, across rollovers, until SIGINT or SIGTERM.

  --stream NAME            JetStream stream (required)
  --subject SUBJECT        subject to publish on, one per log (required),
                           e.g. logs.$(hostname)
  --once                   ship what the log holds now, then exit
  --log-id ID              the log's identity in message ids (default: the
                           subject)
  --one-per-message        one record (its bare payload) per message instead
                           of batches of framed records (much slower)
  --max-batch BYTES        largest batch (default 1048576, kept under the
                           server's max_payload)
  --replicas N             replicas of a stream it creates (default 1; 3 in a
                           cluster)
  --duplicate-window MS    duplicate window of a stream it creates (default
                           120000)

${CONNECTION_HELP}

Needs the NATS client: npm install nats@^2.29.3.
Exit status: 0 shipped (or stopped by a signal), 1 failure (server
unreachable, credentials refused, record over max_payload, ...), 2 usage.`;

export const shipCommand: CliCommand = {
  name: 'ship',
  usage,
  run: (argv) =>
    report('ship', async () => {
      const { values, positionals } = parse(argv, {
        stream: { type: 'string' },
        subject: { type: 'string' },
        once: { type: 'boolean' },
        'log-id': { type: 'string' },
        'one-per-message': { type: 'boolean' },
        'max-batch': { type: 'string' },
        replicas: { type: 'string' },
        'duplicate-window': { type: 'string' },
      });
      if (values.help) {
        process.stdout.write(`${usage}\n`);
        return EXIT_OK;
      }
      if (positionals.length !== 1) throw new UsageError('give exactly one log');
      if (typeof values.stream !== 'string' || !values.stream) throw new UsageError('--stream is required');
      if (typeof values.subject !== 'string' || !values.subject) throw new UsageError('--subject is required');
      const shipper = ship(positionals[0]!, {
        ...connectionFrom(values),
        stream: values.stream,
        subject: values.subject,
        logId: values['log-id'] as string | undefined,
        once: values.once === true,
        onePerMessage: values['one-per-message'] === true,
        maxBatchBytes: intFlag(values, 'max-batch', 64),
        replicas: intFlag(values, 'replicas', 1),
        duplicateWindow: intFlag(values, 'duplicate-window', 1),
      });
      const unlisten = stopOnSignals(() => shipper.stop());
      try {
        const r = await shipper.done;
        const at = r.position ? `${r.position.seq}:${r.position.offset}` : 'the start';
        process.stderr.write(`binlog ship: ${r.records} records in ${r.messages} messages acknowledged; next run resumes at ${at}\n`);
        return EXIT_OK;
      } finally {
        unlisten();
      }
    }),
};
