/**
 * Issue 11, item 5 (memory): the owner reads a client's batches into one
 * reused buffer (intake.ts) over a data socket the client offers
 * (data-listener.ts). Frames come out whole and exact however the bytes are
 * cut, the buffer stays the size of the largest frame, frames handed out
 * stay intact until released, and a stranger on a client's data socket gets
 * nothing.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { DataListener } from '../src/multiprocess/data-listener.js';
import { FrameAssembler, openDataChannel } from '../src/multiprocess/intake.js';
import { FrameType, batchHead, jsonFrame, type Frame } from '../src/multiprocess/protocol.js';

/** A BATCH frame whose records are `fill` bytes (not whole records: the assembler does not look inside). */
function batch(id: number, bytes: number, fill: number): Buffer {
  return Buffer.concat([batchHead(id, bytes), Buffer.alloc(bytes, fill)]);
}

const summary = (frames: Frame[]): Array<[number, number, number]> => frames.map((f) => [f.type, f.body.length, f.body[f.body.length - 1]!]);

test('frames fed one byte at a time come out whole and exact', () => {
  const stream = Buffer.concat([jsonFrame(FrameType.STATUS, {}), batch(1, 10, 7), batch(2, 3, 9)]);
  const assembler = new FrameAssembler();
  const frames: Frame[] = [];
  for (let i = 0; i < stream.length; i++) {
    for (const f of assembler.push(stream.subarray(i, i + 1))) frames.push({ type: f.type, body: Buffer.from(f.body) });
    assembler.release();
  }
  assert.deepEqual(summary(frames), [
    [FrameType.STATUS, 2, 0x7d],
    [FrameType.BATCH, 14, 7],
    [FrameType.BATCH, 7, 9],
  ]);
  assert.equal(frames[1]!.body.readUInt32BE(0), 1);
});

test('the assembly buffer grows to the largest frame once and is reused for every later one', () => {
  const assembler = new FrameAssembler();
  const frame = batch(1, 1 << 20, 5);
  const capacities: number[] = [];
  let got = 0;
  for (let n = 0; n < 50; n++) {
    for (let at = 0; at < frame.length; at += 64 * 1024) {
      const frames = assembler.push(frame.subarray(at, at + 64 * 1024));
      got += frames.length;
      for (const f of frames) assert.equal(f.body.length, (1 << 20) + 4);
    }
    assembler.release();
    capacities.push(assembler.capacity);
  }
  assert.equal(got, 50);
  assert.equal(new Set(capacities).size, 1, `capacities ${[...new Set(capacities)].join(', ')}`);
  assert.ok(capacities[0]! >= frame.length && capacities[0]! <= 2 * frame.length, String(capacities[0]));
});

test('frames handed out stay intact while more bytes arrive, until released', () => {
  const assembler = new FrameAssembler();
  const [first] = assembler.push(batch(1, 100, 1));
  // Not released: the next frame (larger than the buffer) must not overwrite the first.
  const big = batch(2, 200 * 1024, 2);
  const [second] = assembler.push(big);
  assert.deepEqual([...new Set(first!.body.subarray(4))], [1]);
  assert.equal(first!.body.length, 104);
  assert.equal(second!.body.length, 200 * 1024 + 4);
  assert.deepEqual([...new Set(second!.body.subarray(4))], [2]);
  assembler.release();
  // A frame that dwarfs the usual ones does not stay resident once released.
  assembler.push(batch(3, 8 << 20, 3));
  assembler.release();
  assert.equal(assembler.capacity, 64 * 1024);
});

test('an empty or oversized frame is refused as soon as its length is read', () => {
  assert.throws(() => new FrameAssembler().push(Buffer.from([0, 0, 0, 0])), { code: 'ERR_BINLOG_PROTOCOL', message: 'frame of 0 bytes refused' });
  assert.throws(() => new FrameAssembler(1000).push(Buffer.from([0, 0, 0x03, 0xe9, 3])), { code: 'ERR_BINLOG_PROTOCOL', message: 'frame of 1001 bytes refused' });
});

function listen(): Promise<{ listener: DataListener; taken: Promise<Socket> }> {
  return new Promise((resolve, reject) => {
    let take!: (s: Socket) => void;
    const taken = new Promise<Socket>((r) => (take = r));
    const listener: DataListener = new DataListener({ ready: (ok) => (ok ? resolve({ listener, taken }) : reject(new Error('listen failed'))), taken: (s) => take(s) });
  });
}

function closedAfter(socketName: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = connect(socketName, () => s.write(bytes));
    s.on('error', () => undefined);
    s.on('close', () => resolve());
  });
}

test("a stranger on a client's data socket is closed; the owner presenting the nonce is taken and its batches read", async () => {
  const { listener, taken } = await listen();
  let takenEarly = false;
  void taken.then(() => (takenEarly = true));
  await closedAfter(listener.offer.socket, jsonFrame(FrameType.HELLO, { nonce: 'f'.repeat(32) }));
  await closedAfter(listener.offer.socket, Buffer.from('GET / HTTP/1.1\r\n\r\n'));
  assert.equal(takenEarly, false);
  const assembler = new FrameAssembler();
  const received: Array<[number, number, number]> = [];
  let connected = false;
  const owner = openDataChannel(listener.offer.socket, listener.offer.nonce, assembler, {
    connected: () => (connected = true),
    frames: (frames) => {
      received.push(...summary(frames));
      assembler.release();
    },
    refused: (err) => assert.fail(err),
    closed: () => undefined,
  });
  const client = await taken;
  assert.equal(connected, true);
  const ended = new Promise((resolve) => owner.on('close', resolve));
  client.end(Buffer.concat([batch(1, 100_000, 4), batch(2, 10, 6)]));
  await ended;
  assert.deepEqual(received, [
    [FrameType.BATCH, 100_004, 4],
    [FrameType.BATCH, 14, 6],
  ]);
  // The listener closed once taken: nobody else can connect.
  await assert.rejects(
    new Promise((resolve, reject) => {
      const s = connect(listener.offer.socket, () => (s.destroy(), resolve(undefined)));
      s.on('error', reject);
    }),
    { code: 'ECONNREFUSED' },
  );
});
