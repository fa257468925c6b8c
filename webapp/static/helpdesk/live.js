/* Live console pages over the helpdesk WebSockets (authenticated by the console session).
 * Ticket page: any event re-reads the conversation panel; typing shows an indicator; the reply box
 * sends typing signals (never for internal notes). Inbox: any ticket event re-reads the list. */
(function () {
  'use strict';

  function socketUrl(path) {
    return (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + path;
  }

  function setLive(on) {
    var badge = document.getElementById('hd-live');
    if (!badge) return;
    badge.textContent = on ? '● ' + badge.dataset.liveOn : '○ ' + badge.dataset.liveOff;
    badge.className = 'ml-3 small ' + (on ? 'text-success' : 'text-muted');
  }

  /* A socket that reconnects with a growing pause; onEvent gets each parsed event. */
  function connect(path, onEvent, onOpen) {
    var delay = 1000;
    var socket = null;
    function open() {
      socket = new WebSocket(socketUrl(path));
      socket.onopen = function () { delay = 1000; setLive(true); if (onOpen) onOpen(); };
      socket.onmessage = function (message) {
        try { onEvent(JSON.parse(message.data)); } catch (err) { console.error(err); }
      };
      socket.onclose = function () {
        setLive(false);
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 30000);
      };
    }
    open();
    return { send: function (obj) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(obj)); } };
  }

  /* Run fn at most once per `wait` ms, and once more after the last call. */
  function debounce(fn, wait) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, wait); };
  }

  function refresh(container, url, after) {
    return fetch(url, { credentials: 'same-origin', headers: { 'X-Requested-With': 'fetch' } })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.text(); })
      .then(function (html) { container.innerHTML = html; if (after) after(); });
  }

  function scrollDown() {
    var conversation = document.getElementById('hd-conversation');
    if (conversation) conversation.scrollTop = conversation.scrollHeight;
  }

  function ticket(root) {
    var panel = document.getElementById('hd-panel');
    var typing = document.getElementById('hd-typing');
    var content = document.getElementById('hd-content');
    var internal = document.getElementById('hd-internal');
    var send = document.getElementById('hd-send');
    var typingTimer = null;
    var reload = debounce(function () {
      refresh(panel, root.dataset.panelUrl, function () {
        scrollDown();
        var last = panel.querySelector('.hd-message:last-child');
        if (last) last.classList.add('hd-flash');
      });
    }, 150);
    var socket = connect('/ws/tickets/' + root.dataset.ticket, function (event) {
      if (event.type === 'typing') {
        typing.textContent = event.data.is_typing ? typing.dataset.text : '';
        clearTimeout(typingTimer);
        if (event.data.is_typing) typingTimer = setTimeout(function () { typing.textContent = ''; }, 6000);
        return;
      }
      if (event.type === 'new_message') typing.textContent = '';
      reload();
    }, reload);

    var typingSent = false;
    var stopTyping = debounce(function () {
      if (typingSent) socket.send({ type: 'typing', data: { is_typing: false } });
      typingSent = false;
    }, 3000);
    content.addEventListener('input', function () {
      if (internal.checked) return;
      if (!typingSent) socket.send({ type: 'typing', data: { is_typing: true } });
      typingSent = true;
      stopTyping();
    });
    internal.addEventListener('change', function () {
      send.textContent = internal.checked ? send.dataset.note : send.dataset.reply;
      document.getElementById('hd-reply').classList.toggle('border-warning', internal.checked);
    });
    scrollDown();
  }

  function inbox(container) {
    var reload = debounce(function () { refresh(container, container.dataset.partialUrl); }, 300);
    connect('/ws/helpdesk/inbox', reload, null);
  }

  window.HelpdeskLive = { ticket: ticket, inbox: inbox };
})();
