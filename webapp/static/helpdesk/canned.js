/* Canned replies in the ticket's reply box, as in Chatwoot: "/" and the start of a short code list
 * the desk's matching replies; a click, Enter or Tab puts the chosen reply's text in place of the
 * "/code" typed. The replies come with the page (#hd-canned-data), so typing asks the server nothing. */
(function () {
  'use strict';

  var box = document.getElementById('hd-content');
  var list = document.getElementById('hd-canned');
  var data = document.getElementById('hd-canned-data');
  if (!box || !list || !data) return;
  var replies = JSON.parse(data.textContent);
  var matches = [];
  var active = 0;
  var LIMIT = 8;

  /* The "/code" right before the caret, at the start of the box or after a space. */
  function typedCode() {
    var before = box.value.slice(0, box.selectionStart);
    var found = /(^|\s)\/([\p{L}\p{N}_-]*)$/u.exec(before);
    if (!found) return null;
    return { code: found[2].toLowerCase(), start: before.length - found[2].length - 1 };
  }

  function close() {
    list.hidden = true;
    matches = [];
    box.removeAttribute('aria-activedescendant');
  }

  function highlight(index) {
    active = index;
    Array.prototype.forEach.call(list.children, function (item, i) {
      item.classList.toggle('active', i === index);
      item.setAttribute('aria-selected', i === index ? 'true' : 'false');
    });
    box.setAttribute('aria-activedescendant', 'hd-canned-' + index);
  }

  function render() {
    list.textContent = '';
    matches.forEach(function (reply, i) {
      var item = document.createElement('li');
      item.className = 'list-group-item list-group-item-action hd-canned-item';
      item.id = 'hd-canned-' + i;
      item.setAttribute('role', 'option');
      item.dataset.code = reply.code;
      var code = document.createElement('strong');
      code.textContent = '/' + reply.code;
      var text = document.createElement('span');
      text.className = 'text-muted ml-2';
      text.textContent = reply.text.length > 90 ? reply.text.slice(0, 90) + '…' : reply.text;
      item.appendChild(code);
      item.appendChild(text);
      item.addEventListener('mousedown', function (event) { event.preventDefault(); pick(i); });
      list.appendChild(item);
    });
    list.hidden = matches.length === 0;
    if (matches.length) highlight(0);
  }

  function update() {
    var typed = typedCode();
    if (!typed) { close(); return; }
    var starts = replies.filter(function (r) { return r.code.indexOf(typed.code) === 0; });
    var contains = replies.filter(function (r) { return r.code.indexOf(typed.code) > 0; });
    matches = starts.concat(contains).slice(0, LIMIT);
    render();
  }

  function pick(index) {
    var typed = typedCode();
    var reply = matches[index];
    if (!typed || !reply) { close(); return; }
    var after = box.value.slice(box.selectionStart);
    box.value = box.value.slice(0, typed.start) + reply.text + after;
    var caret = typed.start + reply.text.length;
    box.setSelectionRange(caret, caret);
    close();
    box.focus();
    box.dispatchEvent(new Event('input', { bubbles: true }));
  }

  box.addEventListener('input', update);
  box.addEventListener('click', update);
  box.addEventListener('blur', close);
  box.addEventListener('keydown', function (event) {
    if (list.hidden || !matches.length) return;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      var step = event.key === 'ArrowDown' ? 1 : matches.length - 1;
      highlight((active + step) % matches.length);
    } else if (event.key === 'Enter' || event.key === 'Tab') {
      event.preventDefault();
      pick(active);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      close();
    }
  });
})();
