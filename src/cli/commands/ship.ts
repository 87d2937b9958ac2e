/** binlog ship: the CLI face of ship() (docs/SHIPPING.md). */
import { ship as shipLog } from '../../ship/shipper.js';
import { atLeast, logArg } from '../args.js';
import { defineCommand, EXIT_OK, UsageError } from '../command.js';
import { plural } from '../output.js';
import { CONNECTION_HELP, CONNECTION_OPTIONS, CONNECTION_SYNOPSIS, STREAM_OPTIONS, connectionFrom, requireStream, untilDoneOrSignal } from '../nats-options.js';

/** `binlog ship`: publish a log's records to a NATS JetStream stream, exactly once. */
export const ship = defineCommand({
  name: 'ship',
  synopsis: `ship <log> --stream NAME --subject SUBJECT [--once] [--log-id ID] [--one-per-message] [--max-batch BYTES] [--replicas N] [--duplicate-window MS] ${CONNECTION_SYNOPSIS}`,
  summary: 'publish the records to a NATS JetStream stream, exactly once',
  help: `Publish the records of a log to a NATS JetStream stream, exactly once: each
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
  --max-batch BYTES        largest batch (default 65536); a larger record
                           travels alone, up to the server's max_payload
  --replicas N             replicas of a stream it creates (default 1; 3 in a
                           cluster)
  --duplicate-window MS    duplicate window of a stream it creates (default
                           120000)
  -h, --help               show this help

${CONNECTION_HELP}

Exit status: 0 shipped (or stopped by a signal), 1 failure (server
unreachable, credentials refused, record over max_payload, ...), 2 usage.`,
  options: {
    ...STREAM_OPTIONS,
    'log-id': { type: 'string' },
    'one-per-message': { type: 'boolean' },
    'max-batch': { type: 'string' },
    replicas: { type: 'string' },
    'duplicate-window': { type: 'string' },
    ...CONNECTION_OPTIONS,
  },
  async run(values, positionals) {
    const path = logArg(positionals);
    const stream = requireStream(values);
    if (!values.subject) throw new UsageError('--subject is required');
    const shipper = shipLog(path, {
      ...connectionFrom(values),
      stream,
      subject: values.subject,
      logId: values['log-id'],
      once: values.once === true,
      onePerMessage: values['one-per-message'] === true,
      maxBatchBytes: atLeast(values['max-batch'], '--max-batch', 64),
      replicas: atLeast(values.replicas, '--replicas', 1),
      duplicateWindow: atLeast(values['duplicate-window'], '--duplicate-window', 1),
    });
    const r = await untilDoneOrSignal(shipper.done, () => shipper.stop());
    const at = r.position ? `${r.position.seq}:${r.position.offset}` : 'the start';
    process.stderr.write(`binlog ship: ${plural(r.records, 'record')} in ${plural(r.messages, 'message')} acknowledged; next run resumes at ${at}\n`);
    return EXIT_OK;
  },
});
