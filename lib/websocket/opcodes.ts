// Frame opcodes: RFC 6455 §5.2 (base framing), §11.8 (opcode registry).
// 0–2 are data (continuation, text, binary), 8–10 control (close, ping, pong); 3–7 and 11–15 are reserved.

export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;

/** Control frames have the high bit of the opcode set (§5.5). */
export function isControlOpcode(opcode: number): boolean {
  return (opcode & 0x8) !== 0;
}

export function isKnownOpcode(opcode: number): boolean {
  return opcode <= Opcode.Binary || (opcode >= Opcode.Close && opcode <= Opcode.Pong);
}

/** Control frame payloads are at most 125 bytes, so they always fit the 7-bit length (§5.5). */
export const MAX_CONTROL_PAYLOAD = 125;
