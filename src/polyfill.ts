/**
 * Node 20.0-20.3 lack Symbol.dispose, which `using` and
 * BinaryLogger#[Symbol.dispose] need; later versions define it the same way.
 */
const symbols = Symbol as { dispose?: symbol; asyncDispose?: symbol };
symbols.dispose ??= Symbol.for('nodejs.dispose');
symbols.asyncDispose ??= Symbol.for('nodejs.asyncDispose');
export {};
