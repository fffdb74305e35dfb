// The bird app in the browser: one WebSocket per joined room, tweets rendered as text (never as HTML),
// a live 128-code-point counter, and the global view count polled from /19/views.
'use strict';

const MAX_TWEET_CHARACTERS = 128;
const VIEWS_POLL_MS = 1000;

const elements = Object.fromEntries(
  ['join-form', 'room', 'name', 'join', 'leave', 'status', 'tweets', 'post-form', 'message', 'counter', 'send', 'views', 'reset']
    .map((id) => [id, document.getElementById(id)]),
);

let socket = null;

/** Code points, as the server counts them: an emoji is one character. */
function countCharacters(text) {
  return [...text].length;
}

function setStatus(text) {
  elements.status.textContent = text;
}

function setJoined(joined) {
  elements.join.disabled = joined;
  elements.room.disabled = joined;
  elements.name.disabled = joined;
  elements.leave.disabled = !joined;
  elements.message.disabled = !joined;
  updateCounter();
}

function updateCounter() {
  const length = countCharacters(elements.message.value);
  const tooLong = length > MAX_TWEET_CHARACTERS;
  elements.counter.textContent = `${length} / ${MAX_TWEET_CHARACTERS}`;
  elements.counter.classList.toggle('too-long', tooLong);
  elements.send.disabled = elements.message.disabled || tooLong || length === 0;
}

function showTweet(tweet) {
  const item = document.createElement('li');
  item.className = 'tweet';
  const author = document.createElement('span');
  author.className = 'tweet-user';
  author.textContent = tweet.user;
  const message = document.createElement('span');
  message.className = 'tweet-message';
  message.textContent = tweet.message;
  item.append(author, message);
  elements.tweets.append(item);
  item.scrollIntoView({ block: 'nearest' });
}

function join(room, name) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const url = `${scheme}//${location.host}/19/ws/room/${room}/user/${encodeURIComponent(name)}`;
  elements.tweets.replaceChildren();
  setStatus(`Joining room ${room}…`);
  setJoined(true);
  const current = new WebSocket(url);
  socket = current;
  current.addEventListener('open', () => setStatus(`In room ${room} as ${name}.`));
  current.addEventListener('message', (event) => {
    try {
      showTweet(JSON.parse(event.data));
    } catch {
      // Not a tweet: nothing to show.
    }
  });
  current.addEventListener('close', (event) => {
    if (socket !== current) return;
    socket = null;
    setJoined(false);
    setStatus(event.code === 1000 || event.code === 1005 ? 'Left the room.' : `Disconnected (code ${event.code}).`);
  });
}

function leave() {
  if (socket !== null) socket.close(1000);
}

async function refreshViews() {
  try {
    const response = await fetch('/19/views', { cache: 'no-store' });
    if (response.ok) elements.views.textContent = (await response.text()).trim();
  } catch {
    elements.views.textContent = '?';
  }
}

elements['join-form'].addEventListener('submit', (event) => {
  event.preventDefault();
  const room = elements.room.value.trim();
  const name = elements.name.value.trim();
  if (!/^[0-9]+$/.test(room)) return setStatus('The room must be a number (digits only).');
  if (name === '') return setStatus('Choose a name first.');
  join(room, name);
});

elements.leave.addEventListener('click', leave);

elements['post-form'].addEventListener('submit', (event) => {
  event.preventDefault();
  const message = elements.message.value;
  if (socket === null || socket.readyState !== WebSocket.OPEN) return;
  if (message === '' || countCharacters(message) > MAX_TWEET_CHARACTERS) return;
  socket.send(JSON.stringify({ message }));
  elements.message.value = '';
  updateCounter();
});

elements.message.addEventListener('input', updateCounter);

elements.reset.addEventListener('click', async () => {
  await fetch('/19/reset', { method: 'POST' }).catch(() => undefined);
  await refreshViews();
});

setJoined(false);
refreshViews();
setInterval(refreshViews, VIEWS_POLL_MS);
