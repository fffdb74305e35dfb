// The one place the teams client touches servers/: it wires the client to the Global/Team API stand-in
// of servers/teams-standin/, started in this process, so a bare `npm run teams` runs and prints a
// verdict. The client's own code (manager.ts, runtime.ts, wire.ts, …) imports nothing from servers/;
// only the program main.ts uses this file.
export { formatSummary, startTeamsStandin, type TeamsStandin } from '../../servers/teams-standin/standin.ts';
