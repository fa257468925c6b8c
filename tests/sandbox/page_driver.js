// Drives webapp/static/sandbox/chat.js in Node (no browser on this machine) against a live server:
// a minimal DOM stands in for the page's elements, fetch goes to the real sandbox API, and the
// script clicks through a bot flow the way a person would. Exit code 0 when the flow worked.
//
// usage: node page_driver.js <base_url> <bot_username> <chat.js path> <console session cookie>
"use strict";

const fs = require("fs");
const vm = require("vm");

const [baseUrl, botUsername, scriptPath, cookie] = process.argv.slice(2);
// The browser sends the console session cookie with every same-origin request; Node must be told.
const withCookie = (options) => ({ ...(options || {}), headers: { ...((options || {}).headers || {}), Cookie: cookie } });

class FakeNode {
  constructor(tag, text) {
    this.tagName = tag;
    this.children = [];
    this.listeners = {};
    this.dataset = {};
    this.style = {};
    this.hidden = false;
    this.disabled = false;
    this.value = "";
    this.ownText = text || "";
    this.scrollTop = this.scrollHeight = this.clientHeight = 0;
    this.classList = { add: (name) => { this.className = `${this.className || ""} ${name}`; } };
  }
  get textContent() { return this.ownText + this.children.map((c) => c.textContent).join(""); }
  set textContent(value) { this.ownText = String(value); this.children = []; }
  append(...nodes) { for (const n of nodes) this.children.push(typeof n === "string" ? new FakeNode("#text", n) : n); }
  replaceChildren(...nodes) { this.children = []; this.ownText = ""; this.append(...nodes); }
  addEventListener(type, listener) { (this.listeners[type] = this.listeners[type] || []).push(listener); }
  dispatch(type) {
    const event = { type, target: this, preventDefault() {} };
    for (const listener of this.listeners[type] || []) listener(event);
    if (this[`on${type}`]) this[`on${type}`](event);
  }
  click() { this.dispatch("click"); }
  reset() { for (const node of descendants(this)) if (node.name) node.value = ""; }
}

function descendants(node) {
  return node.children.flatMap((child) => [child, ...descendants(child)]);
}

const elements = {};
const document = {
  getElementById: (id) => elements[id] || null,
  createElement: (tag) => new FakeNode(tag),
  createTextNode: (text) => new FakeNode("#text", text),
};
const storage = new Map();
const toasts = [];
const context = {
  document,
  console,
  AbortController,
  setTimeout,
  clearTimeout,
  encodeURIComponent,
  localStorage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => storage.set(k, String(v)) },
  FormData: class {
    constructor(form) { this.pairs = descendants(form).filter((n) => n.name).map((n) => [n.name, n.value]); }
    entries() { return this.pairs[Symbol.iterator](); }
  },
  fetch: (url, options) => fetch(baseUrl + url, withCookie(options)),
  alert: (text) => toasts.push(text),
  prompt: () => "+77017654321",
  open: () => null,
};
context.window = context;

function fail(message) {
  console.error(`FAILED: ${message}\n--- page text ---\n${elements.messages.textContent}`);
  process.exit(1);
}

async function waitFor(what, test, timeout = 15000) {
  const deadline = Date.now() + timeout;
  while (Date.now() < deadline) {
    const found = test();
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  fail(`timed out waiting for ${what}`);
}

const buttons = (root) => descendants(root).filter((n) => n.tagName === "button");

async function main() {
  const html = await (await fetch(`${baseUrl}/sandbox?bot=${botUsername}`, withCookie())).text();
  const configJson = html.match(/<script id="sandbox-config" type="application\/json">([\s\S]*?)<\/script>/)[1];
  const source = fs.readFileSync(scriptPath, "utf8");
  const ids = [...html.matchAll(/id="([^"]+)"/g)].map((m) => m[1]);
  for (const used of source.matchAll(/\$\("([^"]+)"\)/g)) {
    if (!ids.includes(used[1])) fail(`chat.js uses #${used[1]} which the page lacks`);
  }
  for (const id of ids) elements[id] = new FakeNode(id === "new-user-form" ? "form" : "div");
  elements["sandbox-config"].textContent = configJson;
  for (const name of ["first_name", "username", "language_code", "phone_number"]) {
    const input = new FakeNode("input");
    input.name = name;
    elements["new-user-form"].append(input);
  }
  const field = (name) => descendants(elements["new-user-form"]).find((n) => n.name === name);
  vm.runInNewContext(source, context);

  await waitFor("the bot to be preselected", () => elements["bot-select"].value);
  field("first_name").value = "Dana";
  field("language_code").value = "en";
  elements["new-user-form"].dispatch("submit");
  await waitFor("the greeting", () => elements.messages.textContent.includes("Hello, Dana"));

  const share = await waitFor("the reply keyboard", () => buttons(elements["reply-kb"]).find((b) => b.textContent === "Share phone"));
  share.click();
  await waitFor("the contact reply", () => elements.messages.textContent.includes("Phone +77017654321 saved"));

  const confirm = await waitFor("the inline button", () => buttons(elements.messages).find((b) => b.textContent === "Confirm"));
  confirm.click();
  await waitFor("the edited message", () => elements.messages.textContent.includes("Booked for 10:00"));
  await waitFor("the callback answer toast", () => elements.toast.textContent === "Booked");

  elements.text.value = "hello from the page";
  elements.composer.dispatch("submit");
  await waitFor("the echo", () => elements.messages.textContent.includes("echo: hello from the page"));
  console.log("OK");
  process.exit(0);
}

main().catch((error) => fail(error.stack || String(error)));
