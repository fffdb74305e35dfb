// One line on stderr for a failure the server survives: a handler threw or answered something unsendable.
// Both HTTP stacks and the router log the same way, so the same mistake reads the same wherever it happens.

/**
 * "[tag] context failed: Name: message". CR and LF become spaces: the context holds an attacker-chosen path
 * and the message may quote request data, and neither may forge a second log line.
 */
export function logFailure(tag: string, context: string, error: unknown): void {
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  console.error(`[${tag}] ${context} failed: ${reason}`.replaceAll('\r', ' ').replaceAll('\n', ' '));
}
