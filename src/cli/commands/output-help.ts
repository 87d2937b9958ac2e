/** The help text shared by the commands that print records (cat, tail). */
export const OUTPUT_HELP = `Output (one of):
  (default)   each payload as it is, then a newline (a payload holding a
              newline spans lines; use --json to keep them apart)
  --json      one JSON value per line: the payload as a JSON string, or
              {"base64":"..."} for a payload that is not valid UTF-8
  --raw       the records themselves, length prefixes included: the
              output is a log file (binlog cat logs/events.bin --raw > all.bin)`;

/** The options of the commands that print records (cat, tail): the output formats above. */
export const OUTPUT_OPTIONS = {
  json: { type: 'boolean' },
  raw: { type: 'boolean' },
} as const;
