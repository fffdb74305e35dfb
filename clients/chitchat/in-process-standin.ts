// The one place the chit-chat client touches servers/: it wires the client to the stand-in of
// servers/chitchat-standin/, started in this process, so a bare `npm run chitchat` (and the
// success-rate measure) works with no account and no network. The client's own code (solver.ts,
// talk.ts, answerer.ts, …) imports nothing from servers/; only main.ts and success-rate.ts use this file.
export { DEFAULT_ROUNDS, startChitchatStandin, type ChitchatStandin } from '../../servers/chitchat-standin/standin.ts';
