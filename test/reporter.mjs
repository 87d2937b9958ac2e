/**
 * The test reporter `npm test` uses: a dot per passing test, an X per
 * failing one, then every failure in full, the skipped tests with their
 * reasons, and the runner's closing summary in the spec reporter's words
 * ("ℹ tests N", "ℹ pass N", "ℹ fail N", ...), which CI reads.
 *
 * Why not node's own `dot` reporter: it prints no summary, so CI could not
 * read the counts. Why not `spec`: a green run is ~1,000 lines, in which a
 * real warning or a skipped check is easy to miss (issue 10 item 7).
 *
 * Anything a test file prints on stdout or stderr (a warning nobody
 * captured, say) is passed through at once, on its own line.
 *
 * Plain JavaScript, not compiled: node loads it by path
 * (`--test-reporter=./test/reporter.mjs`).
 */
import { inspect } from 'node:util';

const WIDTH = 80;

/** "file:line:column" of a test, as far as the runner says. */
function where(data) {
  if (!data.file) return '';
  return ` (${data.file}${data.line ? `:${data.line}:${data.column}` : ''})`;
}

/** A failure's error without the runner's wrapper, which only says that a test failed. */
function errorOf(data) {
  const error = data.details?.error;
  if (error?.code === 'ERR_TEST_FAILURE' && error.cause !== undefined) return error.cause;
  return error;
}

/** A parent whose only failure is a failing subtest: its subtest is reported already. */
function onlySubtestsFailed(data) {
  return data.details?.error?.failureType === 'subtestsFailed';
}

export default async function* dotsAndSummary(source) {
  const failures = [];
  const skipped = [];
  const summary = [];
  let column = 0;
  const mark = (c) => {
    column = (column + 1) % WIDTH;
    return column === 0 ? `${c}\n` : c;
  };
  const ownLine = (text) => {
    const out = `${column === 0 ? '' : '\n'}${text}${text.endsWith('\n') ? '' : '\n'}`;
    column = 0;
    return out;
  };

  for await (const { type, data } of source) {
    switch (type) {
      case 'test:pass':
        if (data.details?.type === 'suite') break;
        if (data.skip !== undefined || data.todo !== undefined) {
          const why = data.skip ?? data.todo;
          skipped.push(`${data.skip !== undefined ? 'skip' : 'todo'}: ${data.name}${typeof why === 'string' ? ` # ${why}` : ''}${where(data)}`);
          yield mark(data.skip !== undefined ? 's' : 't');
        } else {
          yield mark('.');
        }
        break;
      case 'test:fail':
        if (onlySubtestsFailed(data)) break;
        failures.push(data);
        yield mark('X');
        break;
      case 'test:stdout':
      case 'test:stderr':
        yield ownLine(data.message);
        break;
      case 'test:diagnostic':
        // The runner's closing counts come last, at nesting 0; a test's own
        // diagnostics (t.diagnostic) belong to the spec reporter's detail.
        if (data.nesting === 0 && data.file === undefined) summary.push(`ℹ ${data.message}`);
        break;
      default:
        break;
    }
  }

  let out = column === 0 ? '' : '\n';
  if (failures.length > 0) {
    out += `\n✖ failing tests (${failures.length}):\n`;
    for (const data of failures) {
      out += `\n✖ ${data.name}${where(data)}\n`;
      out += `${inspect(errorOf(data), { depth: 6 })
        .split('\n')
        .map((line) => `  ${line}`)
        .join('\n')}\n`;
    }
  }
  if (skipped.length > 0) out += `\n${skipped.join('\n')}\n`;
  out += `\n${summary.join('\n')}\n`;
  yield out;
}
