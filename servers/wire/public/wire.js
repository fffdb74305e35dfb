// The wire inspector page. Opens the side channel /wire/trace, gets an id, then the traced connection
// /wire/echo?id=…; every report from the side channel is drawn: HTTP heads as text, frames as the
// RFC 6455 §5.2 diagram (one cell per header bit, coloured by field) with the fields spelled out.
'use strict';

const eventsList = document.getElementById('events');
const statusLine = document.getElementById('status');
const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
let sideChannel;
let traced;

function connect() {
  if (sideChannel) sideChannel.close();
  eventsList.replaceChildren();
  statusLine.textContent = 'Connecting…';
  sideChannel = new WebSocket(`${scheme}//${location.host}/wire/trace`);
  sideChannel.onmessage = (message) => {
    const report = JSON.parse(message.data);
    if (report.type === 'hello') return openTraced(report.id);
    show(report);
  };
  sideChannel.onclose = () => { statusLine.textContent = 'Inspector disconnected: press reconnect.'; };
}

function openTraced(id) {
  traced = new WebSocket(`${scheme}//${location.host}/wire/echo?id=${encodeURIComponent(id)}`);
  traced.binaryType = 'arraybuffer';
  traced.onopen = () => { statusLine.textContent = 'Connected: send something.'; };
  let opened = false;
  traced.addEventListener('open', () => { opened = true; });
  traced.onclose = (event) => {
    statusLine.textContent = opened
      ? `Traced connection closed (${event.code}${event.reason ? ` ${event.reason}` : ''}).`
      // The server refused the upgrade: its id is unknown there. Under `npm start -- --workers N` the two
      // sockets can reach different processes, and the inspector needs both on one.
      : 'Could not open the traced connection (with --workers, run npm start without it to use the inspector).';
  };
}

function send(what) {
  if (what === 'reconnect') return connect();
  if (what === 'fragmented' || what === 'ping') return sideChannel.send(JSON.stringify({ type: what }));
  if (!traced || traced.readyState !== WebSocket.OPEN) return;
  if (what === 'binary') return traced.send(new Uint8Array([0, 1, 2, 254, 255]));
  if (what === 'close') return traced.close(Number(document.getElementById('close-code').value), 'bye from the page');
  const size = Number(what);
  traced.send('Hello, wire! '.repeat(Math.ceil(size / 13)).slice(0, size));
}

document.getElementById('send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (traced && traced.readyState === WebSocket.OPEN) traced.send(document.getElementById('message').value);
});
for (const button of document.querySelectorAll('[data-send]')) button.addEventListener('click', () => send(button.dataset.send));

// ── Drawing ─────────────────────────────────────────────────────────────────────────────────────

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function show(report) {
  const item = element('li', `event ${report.direction}`);
  if (report.kind === 'http') {
    item.classList.add('http');
    item.append(element('h2', '', 'opening handshake (HTTP)'), element('pre', '', report.lines.join('\n')));
  } else if (report.kind === 'invalid') {
    item.append(element('h2', '', `not a valid frame: ${report.reason}`));
  } else {
    drawFrame(item, report);
  }
  eventsList.append(item);
  item.scrollIntoView({ block: 'nearest' });
}

const LENGTH_FORMS = { 7: '7-bit', 16: '16-bit (126, then 2 bytes)', 64: '64-bit (127, then 8 bytes)' };

function drawFrame(item, frame) {
  Object.assign(item.dataset, {
    kind: 'frame', opcode: frame.opcodeName, mask: frame.masked ? '1' : '0', lengthBits: String(frame.lengthBits),
    length: String(frame.payloadLength), fin: frame.fin ? '1' : '0',
  });
  item.append(element('h2', '', `${frame.opcodeName} frame, ${frame.payloadLength} bytes of payload`));
  item.append(bitTable(frame));
  const fields = element('dl', 'fields');
  const add = (name, value) => fields.append(element('dt', '', name), element('dd', '', value));
  add('FIN', frame.fin ? '1 — the last frame of its message' : '0 — more frames of this message follow');
  add('RSV1 RSV2 RSV3', `${+frame.rsv1} ${+frame.rsv2} ${+frame.rsv3}${frame.rsv1 ? ' — RSV1: compressed (permessage-deflate)' : ''}`);
  add('opcode', `0x${frame.opcode.toString(16)} (${frame.opcodeName})`);
  add('MASK', frame.masked ? '1 — masked, as every frame from a client must be' : '0 — unmasked, as every frame from a server must be');
  add('payload length', `${frame.payloadLength} — ${LENGTH_FORMS[frame.lengthBits]} form`);
  if (frame.masked) add('masking key', spaced(frame.maskKey));
  if (frame.payloadLength > 0) {
    const more = frame.payloadLength * 2 > frame.payload.length ? ' …' : '';
    if (frame.masked) add('payload on the wire', spaced(frame.payloadOnWire) + more);
    add('payload', spaced(frame.payload) + more);
    if (frame.opcodeName === 'close' && frame.payload.length >= 4) add('close code', String(parseInt(frame.payload.slice(0, 4), 16)));
    else if (frame.opcodeName !== 'binary') add('as text', new TextDecoder().decode(hexBytes(frame.payload)) + more);
  }
  item.append(fields);
}

/** Header bits in rows of 32, as in the RFC's diagram: a row naming the fields, a row of bits coloured by field. */
function bitTable(frame) {
  const bytes = hexBytes(frame.headerBytes);
  const fields = [['fin', 1, 'FIN'], ['rsv', 1, 'RSV1'], ['rsv', 1, 'RSV2'], ['rsv', 1, 'RSV3'], ['opcode', 4, 'opcode'], ['mask', 1, 'MASK'], ['length', 7, 'payload len']];
  if (frame.lengthBits > 7) fields.push(['ext', frame.lengthBits, `extended payload length (${frame.lengthBits} bits)`]);
  if (frame.masked) fields.push(['key', 32, 'masking key']);
  const cells = [];
  for (const [className, width, title] of fields) {
    for (let index = 0; index < width; index++) {
      const bit = cells.length;
      cells.push({ className, title, value: (bytes[bit >> 3] >> (7 - (bit & 7))) & 1 });
    }
  }
  const table = element('table', 'bits');
  const numbers = element('tr');
  for (let bit = 0; bit < 32; bit++) numbers.append(element('th', '', String(bit % 10)));
  table.append(numbers);
  for (let start = 0; start < cells.length; start += 32) {
    const row = cells.slice(start, start + 32);
    const labels = element('tr', 'labels');
    for (let index = 0; index < row.length;) {
      let span = 1;
      while (index + span < row.length && row[index + span].title === row[index].title) span++;
      const label = element('td', row[index].className, span >= 3 || row[index].title.length <= 4 ? row[index].title : '');
      label.colSpan = span;
      labels.append(label);
      index += span;
    }
    const bits = element('tr');
    for (const cell of row) {
      const td = element('td', cell.className, String(cell.value));
      td.title = cell.title;
      bits.append(td);
    }
    table.append(labels, bits);
  }
  return table;
}

function hexBytes(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let index = 0; index < bytes.length; index++) bytes[index] = parseInt(hex.slice(index * 2, index * 2 + 2), 16);
  return bytes;
}

function spaced(hex) {
  return hex.replace(/(..)(?!$)/g, '$1 ');
}

connect();
