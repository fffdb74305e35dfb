// Command encoder: RESP2 "Sending commands to a Redis server" — a command is an array of bulk strings,
// `*<count>\r\n` then `$<length>\r\n<bytes>\r\n` per argument. A pipelined batch is encoded into one
// Buffer, so it goes out in one write.
//
// Hot path, written for speed: one pass measures (UTF-8 byte lengths), one allocation, one pass writes.
// A large Buffer argument (≥ LARGE_ARGUMENT_BYTES) is not copied: the batch becomes several Buffers with
// that argument passed by reference between them (write them corked, in order).

export type CommandArgument = string | Buffer | number;

/** Buffer arguments at least this large are passed by reference instead of being copied into the batch. */
export const LARGE_ARGUMENT_BYTES = 64 * 1024;

/** Byte lengths of the arguments being encoded, reused between calls (the encoder is synchronous). */
let lengths = new Int32Array(256);

/** Throws a TypeError naming the bad argument: the command is refused before anything is queued. */
export function checkArguments(args: ReadonlyArray<unknown>): asserts args is ReadonlyArray<CommandArgument> {
  if (!Array.isArray(args) || args.length === 0) throw new TypeError('a Redis command is a non-empty array of arguments');
  for (let index = 0; index < args.length; index++) {
    const argument = args[index];
    if (typeof argument !== 'string' && typeof argument !== 'number' && !Buffer.isBuffer(argument)) {
      throw new TypeError(`argument ${index} of ${String(args[0])} is ${argument === null ? 'null' : typeof argument}: only strings, Buffers and numbers can be sent`);
    }
  }
}

function decimalDigits(value: number): number {
  let digits = 1;
  while (value >= 10) {
    value = Math.floor(value / 10);
    digits++;
  }
  return digits;
}

/** Encode a batch of commands; the Buffers, written in order, are the whole batch (usually just one). */
export function encodeCommands(commands: ReadonlyArray<ReadonlyArray<CommandArgument>>): Buffer[] {
  // Pass 1: measure every argument once and the bytes that will be copied.
  let argumentCount = 0;
  for (const command of commands) argumentCount += command.length;
  if (lengths.length < argumentCount) lengths = new Int32Array(Math.max(argumentCount, lengths.length * 2));
  let copiedBytes = 0;
  let slot = 0;
  for (const command of commands) {
    copiedBytes += 3 + decimalDigits(command.length);
    for (const argument of command) {
      const length = typeof argument === 'string' ? Buffer.byteLength(argument) : typeof argument === 'number' ? String(argument).length : argument.length;
      lengths[slot++] = length;
      copiedBytes += 5 + decimalDigits(length);
      if (typeof argument === 'string' || typeof argument === 'number' || length < LARGE_ARGUMENT_BYTES) copiedBytes += length;
    }
  }
  // Pass 2: write.
  const output = Buffer.allocUnsafe(copiedBytes);
  const buffers: Buffer[] = [];
  let position = 0;
  let pieceStart = 0;
  slot = 0;
  for (const command of commands) {
    position = writeHeader(output, position, 0x2a, command.length);
    for (const argument of command) {
      const length = lengths[slot++];
      position = writeHeader(output, position, 0x24, length);
      if (typeof argument === 'string') {
        position += output.write(argument, position, length, 'utf8');
      } else if (typeof argument === 'number') {
        position += output.write(String(argument), position, length, 'latin1');
      } else if (length < LARGE_ARGUMENT_BYTES) {
        position += argument.copy(output, position);
      } else {
        buffers.push(output.subarray(pieceStart, position), argument);
        pieceStart = position;
      }
      output[position++] = 13;
      output[position++] = 10;
    }
  }
  buffers.push(pieceStart === 0 ? output : output.subarray(pieceStart, position));
  return buffers;
}

/** `<type><decimal>\r\n` at `position`; returns the position after it. */
function writeHeader(output: Buffer, position: number, type: number, value: number): number {
  output[position++] = type;
  if (value < 10) {
    output[position++] = 48 + value;
  } else {
    const digits = decimalDigits(value);
    for (let index = position + digits - 1; index >= position; index--) {
      output[index] = 48 + (value % 10);
      value = Math.floor(value / 10);
    }
    position += digits;
  }
  output[position++] = 13;
  output[position++] = 10;
  return position;
}
