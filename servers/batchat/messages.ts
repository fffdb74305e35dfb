// BATCHAT: every sentence the server says to a user, in one place.
// Lines are returned without a line ending; the session appends CRLF (RFC 854 NVT end of line).

// Copied byte for byte from the original challenge text, trailing spaces included:
// they are part of the picture, so keep them (each line is quoted to protect them).
export const BANNER: readonly string[] = [
  "   ____      _       _____     ____   _   _      _       _____   ",
  "U | __\")uU  /\"\\  u  |_ \" _| U /\"___| |'| |'| U  /\"\\  u  |_ \" _|  ",
  " \\|  _ \\/ \\/ _ \\/     | |   \\| | u  /| |_| |\\ \\/ _ \\/     | |    ",
  "  | |_) | / ___ \\    /| |\\   | |/__ U|  _  |u / ___ \\    /| |\\   ",
  "  |____/ /_/   \\_\\  u |_|U    \\____| |_| |_| /_/   \\_\\  u |_|U   ",
  " _|| \\\\_  \\\\    >>  _// \\\\_  _// \\\\  //   \\\\  \\\\    >>  _// \\\\_  ",
  "(__) (__)(__)  (__)(__) (__)(__)(__)(_\") (\"_)(__)  (__)(__) (__)",
];

export const WELCOME = 'Welcome to BATCHAT local reviews and chat!';

// No line ending: the user types the name on the same line.
export const NAME_PROMPT = 'Please enter your name, and press enter: ';

export const greeting = (name: string): string => `Hey, ${name}! Hope you enjoy the chat.`;

export const chatLine = (name: string, text: string): string => `<${name}> ${text}`;

// Announcements say "has quit the chat" for every way of leaving, so clients that
// watch for the original wording still see it; a slow reader gets a reason appended.
export const quitNotice = (name: string): string => `* ${name} has quit the chat`;
export const tooSlowNotice = (name: string): string =>
  `* ${name} has quit the chat (disconnected: not reading fast enough)`;

export const lineCutNotice = (maxLineBytes: number): string =>
  `* Your line was longer than ${maxLineBytes} bytes; only the first ${maxLineBytes} were sent.`;

export const unknownCommand = (command: string): string =>
  `* Unknown command ${command}. Type /help for the list.`;

export const HELP: readonly string[] = [
  '* Commands:',
  '*   /who   list who is in the chat',
  '*   /help  show this help',
  '*   /quit  leave the chat (Ctrl-C and Ctrl-D work too)',
  '* Anything else you type is sent to everyone else. Start a line with // to send one that begins with /.',
];

export const whoList = (names: readonly string[]): string =>
  `* ${names.length} in the chat: ${names.join(', ')}`;

export const serverFull = (maxUsers: number): string =>
  `Sorry, BATCHAT is full (${maxUsers} users). Please try again later.`;

export const nameTimedOut = (seconds: number): string =>
  `No name after ${seconds} seconds. Bye!`;

export const SHUTTING_DOWN = '* BATCHAT is shutting down. Goodbye!';
