// Command line for the chit-chat stand-in: `npm run chitchat-standin -- --port 8765 --time-scale 0.1`.
// Parses flags, starts the stand-in, and closes every conversation with 1001 on SIGINT/SIGTERM.

import { listenOrExit, numberFlag, onShutdown, parseFlags, portFlag, usageError, type Program } from '../../lib/cli.ts';
import { DEFAULT_ROUNDS, startChitchatStandin, type ChitchatStandinOptions } from './standin.ts';

const program: Program = {
  name: 'chitchat-standin',
  usage: `Usage: npm run chitchat-standin -- [options]

A local stand-in for hackattic's "WebSocket chit chat" challenge:
  GET  /challenges/websocket_chit_chat/problem?access_token=T   → {"token": "…"} (one use, 60 minutes)
  WS   /_/ws/<token>                                            → hello!, ping!, good!, … the secret
  POST /challenges/websocket_chit_chat/solve?access_token=T     ← {"secret": "…"} → {"result": "passed"}

Options:
  --port N             TCP port (default 8765; 0 picks a free one)
  --host ADDR          address to listen on (default 127.0.0.1)
  --rounds N           correct answers before the secret (default ${DEFAULT_ROUNDS})
  --time-scale X       wall-clock time per service millisecond: 0.1 runs ten times faster (default 1)
  --jitter-ms N        deliver each ping up to N ms early or late, to rehearse a bad network (default 0)
  --seed TEXT          same seed, same intervals and secrets (default: random)
  --access-token T     accept only this access_token (default: any non-empty one)
  --help               show this help`,
};

const { values: flags } = parseFlags(program, {
  port: { type: 'string' },
  host: { type: 'string' },
  rounds: { type: 'string' },
  'time-scale': { type: 'string' },
  'jitter-ms': { type: 'string' },
  seed: { type: 'string' },
  'access-token': { type: 'string' },
});

// Only the syntax is checked here: the stand-in itself refuses out-of-range values with a clear message.
const options: ChitchatStandinOptions & { port: number; host: string } = {
  port: portFlag(program, '--port', flags.port) ?? 8765,
  host: flags.host ?? '127.0.0.1',
  rounds: numberFlag(program, '--rounds', flags.rounds),
  timeScale: numberFlag(program, '--time-scale', flags['time-scale']),
  jitterMs: numberFlag(program, '--jitter-ms', flags['jitter-ms']),
  seed: flags.seed,
  accessToken: flags['access-token'],
};

let standin;
try {
  standin = await listenOrExit(program, options, () => startChitchatStandin(options));
} catch (error) {
  usageError(program, (error as Error).message); // listenOrExit passes on only what the options got wrong
}
// Ready for a signal before the banner says we are ready.
const running = standin;
onShutdown(program, async (signal) => {
  console.log(`\n${signal}: ending every conversation with 1001`);
  await running.close();
});

console.log(`chit-chat stand-in listening on ${standin.url}`);
console.log(`  problem: ${standin.url}/challenges/websocket_chit_chat/problem?access_token=anything`);
console.log(`  solve it: npm run chitchat -- --base ${standin.url} --access-token anything${options.timeScale ? ` --time-scale ${options.timeScale}` : ''}`);
