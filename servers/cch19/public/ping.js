// The table-tennis page: connect to /19/ws/ping, send serve / ping / anything, log what comes back.
'use strict';

const elements = Object.fromEntries(
  ['ping-form', 'connect', 'serve', 'ping', 'other', 'send-other', 'log'].map((id) => [id, document.getElementById(id)]),
);
let socket = null;

function log(direction, text) {
  const item = document.createElement('li');
  item.className = direction;
  item.textContent = `${direction === 'sent' ? '→' : direction === 'received' ? '←' : '·'} ${text}`;
  elements.log.append(item);
}

function setConnected(connected) {
  elements.connect.textContent = connected ? 'Disconnect' : 'Connect';
  for (const id of ['serve', 'ping', 'other', 'send-other']) elements[id].disabled = !connected;
}

function send(text) {
  if (socket === null || socket.readyState !== WebSocket.OPEN) return;
  socket.send(text);
  log('sent', text);
}

elements.connect.addEventListener('click', () => {
  if (socket !== null) return socket.close(1000);
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const current = new WebSocket(`${scheme}//${location.host}/19/ws/ping`);
  socket = current;
  current.addEventListener('open', () => {
    setConnected(true);
    log('note', 'connected');
  });
  current.addEventListener('message', (event) => log('received', String(event.data)));
  current.addEventListener('close', (event) => {
    socket = null;
    setConnected(false);
    log('note', `closed (code ${event.code})`);
  });
});
elements.serve.addEventListener('click', () => send('serve'));
elements.ping.addEventListener('click', () => send('ping'));
elements['ping-form'].addEventListener('submit', (event) => {
  event.preventDefault();
  send(elements.other.value);
  elements.other.value = '';
});
setConnected(false);
