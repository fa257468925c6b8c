// The /sandbox chat page: a person plays a Telegram user. Everything goes through the sandbox's
// test/ops JSON API; new bot messages arrive by long-polling the chat state endpoint.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("sandbox-config").textContent);
  const T = (text) => config.texts[text] || text;
  const $ = (id) => document.getElementById(id);
  const el = (tag, props, ...children) => {
    const node = document.createElement(tag);
    Object.assign(node, props || {});
    for (const child of children) node.append(child);
    return node;
  };

  const state = { bots: [], bot: null, users: [], user: null, rev: -1, poll: null, hiddenKeyboard: null };

  async function api(method, path, body, signal) {
    const response = await fetch(config.api + path, {
      method,
      headers: Object.assign({ "X-CSRFToken": config.csrf }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
      signal,
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      const detail = (data.error && (data.error.details || []).map((d) => `${d.field}: ${d.message}`).join("; ")) || "";
      throw new Error(((data.error && data.error.message) || response.status) + (detail ? ` (${detail})` : ""));
    }
    return data;
  }

  function toast(text, alertBox) {
    if (alertBox) { window.alert(text); return; }
    const box = $("toast");
    box.textContent = text;
    box.style.display = "block";
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => { box.style.display = "none"; }, 3000);
  }

  // --- bots and users ------------------------------------------------------------------------

  async function loadBots() {
    state.bots = await api("GET", "/bots");
    const select = $("bot-select");
    select.replaceChildren(el("option", { value: "", textContent: T("Choose a bot") }));
    for (const bot of state.bots) {
      select.append(el("option", { value: bot.token, textContent: `${bot.first_name} (@${bot.username})` }));
    }
    if (!state.bots.length) {
      $("empty-note").textContent = T("No sandbox bots yet: run the demo seed or create one through the sandbox API.");
      return;
    }
    const wanted = config.bot || localStorage.getItem("sandbox.bot");
    const found = state.bots.find((b) => b.token === wanted || b.username === wanted);
    if (found) { select.value = found.token; await chooseBot(found.token); }
  }

  async function chooseBot(token) {
    stopPolling();
    state.bot = state.bots.find((b) => b.token === token) || null;
    state.user = null;
    localStorage.setItem("sandbox.bot", token);
    await loadUsers();
    render(null);
  }

  async function loadUsers(selectId) {
    const select = $("user-select");
    select.replaceChildren(el("option", { value: "", textContent: T("Choose a user") }));
    if (!state.bot) return;
    state.users = await api("GET", `/bots/${state.bot.token}/users`);
    for (const user of state.users) {
      const name = user.username ? `${user.first_name} (@${user.username})` : user.first_name;
      select.append(el("option", { value: String(user.user_id), textContent: `${name} · ${user.user_id}` }));
    }
    const wanted = String(selectId || config.user || localStorage.getItem(`sandbox.user.${state.bot.token}`) || "");
    if (state.users.some((u) => String(u.user_id) === wanted)) {
      select.value = wanted;
      chooseUser(wanted);
    }
  }

  function chooseUser(userId) {
    stopPolling();
    state.user = state.users.find((u) => String(u.user_id) === String(userId)) || null;
    state.rev = -1;
    state.hiddenKeyboard = null;
    if (state.user) localStorage.setItem(`sandbox.user.${state.bot.token}`, String(state.user.user_id));
    render(null);
    if (state.user) startPolling();
  }

  async function createUser(event) {
    event.preventDefault();
    if (!state.bot) return;
    const form = new FormData(event.target);
    const body = {};
    for (const [key, value] of form.entries()) if (String(value).trim()) body[key] = String(value).trim();
    $("new-user-error").textContent = "";
    try {
      const user = await api("POST", `/bots/${state.bot.token}/users`, body);
      event.target.reset();
      await loadUsers(user.user_id);
      await sendText("/start");
    } catch (error) {
      $("new-user-error").textContent = error.message;
    }
  }

  // --- polling -------------------------------------------------------------------------------

  function stopPolling() {
    if (state.poll) state.poll.abort();
    state.poll = null;
  }

  async function startPolling() {
    const controller = new AbortController();
    state.poll = controller;
    const { bot, user } = state;
    while (state.poll === controller) {
      try {
        const path = `/bots/${bot.token}/chats/${user.chat_id}/state?rev=${state.rev}&wait=${state.rev < 0 ? 0 : 25}`;
        const chat = await api("GET", path, undefined, controller.signal);
        if (state.poll !== controller) return;
        state.rev = chat.rev;
        render(chat);
      } catch (error) {
        if (controller.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  }

  // --- rendering -----------------------------------------------------------------------------

  function render(chat) {
    const ready = Boolean(state.bot && state.user);
    for (const id of ["text", "send", "attach"]) $(id).disabled = !ready || Boolean(chat && chat.blocked);
    $("chat-title").textContent = state.bot ? `${state.bot.first_name} (@${state.bot.username})` : "—";
    $("chat-status").textContent = chat && chat.action ? T("typing…") : "";
    $("blocked-banner").hidden = !(chat && chat.blocked);
    const toggle = $("block-toggle");
    toggle.hidden = !ready;
    toggle.textContent = chat && chat.blocked ? T("Unblock the bot") : T("Block the bot");
    toggle.dataset.blocked = chat && chat.blocked ? "1" : "";
    const list = $("messages");
    if (!chat) {
      list.replaceChildren(el("div", { className: "empty", textContent: state.bot ? T("Choose or create a user to start chatting.") : "" }));
      renderKeyboard(null);
      return;
    }
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    list.replaceChildren(...chat.messages.map(renderMessage));
    if (!chat.messages.length) {
      list.append(el("div", { className: "empty" }, el("button", { type: "button", textContent: T("Start"), onclick: () => sendText("/start") })));
    }
    if (nearBottom || state.shown !== chat.messages.length) list.scrollTop = list.scrollHeight;
    state.shown = chat.messages.length;
    renderKeyboard(chat.keyboard);
  }

  function renderMessage(message) {
    const box = el("div", { className: message.from_bot ? "msg" : "msg mine" });
    if (message.reply_to_message) {
      const quoted = message.reply_to_message;
      box.append(el("div", { className: "quote", textContent: quoted.text || quoted.caption || "…" }));
    }
    if (message.photo) {
      const size = message.photo[message.photo.length - 1];
      box.append(el("img", { src: fileUrl(size.file_id), alt: message.caption || "photo", loading: "lazy" }));
    }
    if (message.document) {
      const doc = message.document;
      box.append(el("a", { href: fileUrl(doc.file_id), textContent: `📄 ${doc.file_name || "file"} (${formatSize(doc.file_size)})`, download: doc.file_name || "" }));
    }
    if (message.voice || message.audio) {
      const media = message.voice || message.audio;
      box.append(el("audio", { controls: true, src: fileUrl(media.file_id) + "?inline=1" }));
    }
    if (message.contact) {
      box.append(el("div", { textContent: `👤 ${T("Contact")}: ${message.contact.first_name || ""} ${message.contact.phone_number}` }));
    }
    if (message.text !== undefined) box.append(renderEntities(message.text, message.entities || []));
    if (message.caption !== undefined) box.append(el("div", {}, renderEntities(message.caption, message.caption_entities || [])));
    const markup = message.reply_markup;
    if (markup && markup.inline_keyboard) box.append(renderInline(message, markup.inline_keyboard));
    const time = new Date(message.date * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    box.append(el("div", { className: "meta", textContent: (message.edit_date ? `${T("edited")} ` : "") + time }));
    return box;
  }

  // Entities use UTF-16 offsets, which is what JavaScript string indices are.
  function renderEntities(text, entities) {
    const root = el("span");
    const cuts = new Set([0, text.length]);
    for (const e of entities) { cuts.add(e.offset); cuts.add(Math.min(text.length, e.offset + e.length)); }
    const points = [...cuts].sort((a, b) => a - b);
    for (let i = 0; i < points.length - 1; i++) {
      const [start, end] = [points[i], points[i + 1]];
      let node = document.createTextNode(text.slice(start, end));
      for (const e of entities) {
        if (e.offset <= start && end <= e.offset + e.length) node = wrap(node, e, text.slice(e.offset, e.offset + e.length));
      }
      root.append(node);
    }
    return root;
  }

  function wrap(node, entity, covered) {
    const tags = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre", blockquote: "blockquote", expandable_blockquote: "blockquote" };
    if (tags[entity.type]) return el(tags[entity.type], {}, node);
    if (entity.type === "text_link" || entity.type === "url") {
      return el("a", { href: entity.url || covered, target: "_blank", rel: "noopener noreferrer" }, node);
    }
    if (entity.type === "spoiler") {
      const span = el("span", { className: "spoiler" }, node);
      span.onclick = () => span.classList.add("shown");
      return span;
    }
    if (entity.type === "bot_command") {
      return el("a", { href: "#", onclick: (ev) => { ev.preventDefault(); sendText(covered); } }, node);
    }
    return node;
  }

  function renderInline(message, rows) {
    const box = el("div", { className: "inline-kb" });
    for (const row of rows) {
      const line = el("div", { className: "row" });
      for (const button of row) {
        line.append(el("button", { type: "button", textContent: button.text, onclick: () => pressInline(message, button) }));
      }
      box.append(line);
    }
    return box;
  }

  function renderKeyboard(keyboard) {
    const box = $("reply-kb");
    const hidden = keyboard && keyboard.one_time_keyboard && state.hiddenKeyboard === JSON.stringify(keyboard);
    if (!keyboard || hidden) { box.hidden = true; box.replaceChildren(); return; }
    box.replaceChildren(...keyboard.keyboard.map((row) => el("div", { className: "row" }, ...row.map((button) => {
      const spec = typeof button === "string" ? { text: button } : button;
      return el("button", { type: "button", textContent: spec.text, onclick: () => pressReply(keyboard, spec) });
    }))));
    box.hidden = false;
  }

  const fileUrl = (fileId) => `${config.api}/bots/${state.bot.token}/files/${encodeURIComponent(fileId)}`;
  const formatSize = (n) => (n > 1048576 ? `${(n / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(n / 1024))} KB`);

  // --- actions -------------------------------------------------------------------------------

  async function send(body) {
    try {
      await api("POST", `/bots/${state.bot.token}/messages`, { user_id: state.user.user_id, ...body });
    } catch (error) {
      toast(`${T("Could not send")}: ${error.message}`);
    }
  }

  const sendText = (text) => (state.bot && state.user ? send({ text }) : null);

  async function pressReply(keyboard, button) {
    if (keyboard.one_time_keyboard) { state.hiddenKeyboard = JSON.stringify(keyboard); renderKeyboard(keyboard); }
    if (button.request_contact) {
      let phone = state.user.phone_number;
      if (!phone) {
        phone = (window.prompt(T("Your phone number (e.g. +77011234567)")) || "").trim();
        if (!phone) return;
        state.user.phone_number = phone;
      }
      await send({ contact: { phone_number: phone, first_name: state.user.first_name } });
      return;
    }
    await sendText(button.text);
  }

  async function pressInline(message, button) {
    if (button.url) { window.open(button.url, "_blank", "noopener"); return; }
    if (button.callback_data === undefined) { toast(button.text); return; }
    try {
      const pressed = await api("POST", `/bots/${state.bot.token}/callbacks`, {
        user_id: state.user.user_id, message_id: message.message_id, data: button.callback_data,
      });
      for (let i = 0; i < 30; i++) {  // Telegram clients wait for answerCallbackQuery the same way
        await new Promise((resolve) => setTimeout(resolve, 300));
        const answer = await api("GET", `/bots/${state.bot.token}/callbacks/${pressed.callback_query_id}`);
        if (answer.answered) {
          if (answer.text) toast(answer.text, answer.show_alert);
          if (answer.url) window.open(answer.url, "_blank", "noopener");
          return;
        }
      }
    } catch (error) {
      toast(`${T("Could not send")}: ${error.message}`);
    }
  }

  async function sendFile(file) {
    const kind = $("send-as").value;
    const content = await new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).split(",", 2)[1] || "");
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
    const caption = $("text").value.trim();
    const body = {};
    if (kind === "photo") body.photo = { content };
    else if (kind === "voice") body.voice = { content, duration: 1, mime_type: file.type || "audio/ogg" };
    else body.document = { content, file_name: file.name, ...(file.type ? { mime_type: file.type } : {}) };
    if (caption && kind !== "voice") { body.caption = caption; $("text").value = ""; }
    await send(body);
  }

  async function toggleBlock() {
    const action = $("block-toggle").dataset.blocked ? "unblock" : "block";
    await api("POST", `/bots/${state.bot.token}/users/${state.user.user_id}/${action}`);
  }

  // --- wiring --------------------------------------------------------------------------------

  $("bot-select").addEventListener("change", (e) => chooseBot(e.target.value));
  $("user-select").addEventListener("change", (e) => chooseUser(e.target.value));
  $("new-user-form").addEventListener("submit", createUser);
  $("block-toggle").addEventListener("click", toggleBlock);
  $("attach").addEventListener("click", () => $("file").click());
  $("file").addEventListener("change", (e) => { if (e.target.files[0]) sendFile(e.target.files[0]); e.target.value = ""; });
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    $("text").value = "";
    sendText(text);
  });
  loadBots().catch((error) => toast(error.message));
})();
