// dmj view: the archive browser's page script (plain JavaScript, no build step).
//
// Untrusted text (names, file names, excerpts) is only ever set with textContent. The one
// piece of markup taken from the server is a message's `html`, which view/_markdown.py
// writes from escaped text and a fixed set of tags. The page's Content-Security-Policy runs
// no inline script and no script from anywhere but /static/.
//
// A conversation is a window of consecutive messages with a cursor on each side. Scrolling
// near an edge loads the next page that way (keyset pagination); the window keeps at most
// KEEP messages, dropping those farthest from the reader, so memory and layout stay flat in
// a conversation of any length.
"use strict";

(() => {
  const PAGE = 50;
  const KEEP = 4 * PAGE;
  const EDGE = 600;

  const $ = (id) => document.getElementById(id);
  const ui = {
    conversations: $("conversations"), filter: $("filter"), title: $("pane-title"),
    note: $("pane-note"), scroller: $("scroller"), messages: $("messages"),
    jumpForm: $("jump-form"), jumpDate: $("jump-date"), searchForm: $("search-form"),
    search: $("search"), results: $("results"), resultsCount: $("results-count"),
    searchError: $("search-error"), hits: $("hits"), moreHits: $("more-hits"),
  };
  const start = document.createElement("p");
  start.id = "start-marker";
  start.className = "note";
  start.textContent = "This is the beginning of the conversation.";
  start.hidden = true;
  ui.scroller.prepend(start);

  const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
  const conversations = new Map();
  let view = null; // { channel, older, newer, busy }
  let generation = 0;
  let lastSearch = null; // { q, next }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  class RequestFailed extends Error {
    constructor(status, body) {
      super(body.error || `The server answered ${status}.`);
      this.status = status;
      this.body = body;
    }
  }

  async function getJson(url) {
    const response = await fetch(url, { credentials: "same-origin" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new RequestFailed(response.status, body);
    return body;
  }

  const permalink = (channel, message) => `#/c/${channel}/m/${message}`;
  const localTime = (ts) => timeFormat.format(new Date(Math.floor(ts / 1000)));
  const safeHref = (href) => typeof href === "string" && (href.startsWith("/media/") || /^https?:\/\//.test(href));

  function size(bytes) {
    const units = ["B", "KB", "MB", "GB"];
    let value = bytes;
    let unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return `${unit ? value.toFixed(1) : value} ${units[unit]}`;
  }

  // ---- one message ------------------------------------------------------------------------

  function replyNode(m) {
    const reply = el("a", "reply");
    if (m.reply.author === null) {
      reply.classList.add("missing");
      reply.textContent = "Replying to a message that is not in the archive";
      return reply;
    }
    reply.href = permalink(m.channelId, m.reply.id);
    reply.append(el("span", "reply-author", m.reply.author), el("span", "reply-excerpt", m.reply.excerpt));
    return reply;
  }

  function attachmentNode(a) {
    const label = `${a.fileName} (${size(a.sizeBytes)})`;
    if (!safeHref(a.href)) return el("span", "attachment missing", `${label}, not archived`);
    const link = el("a", a.image ? "attachment image" : "attachment file");
    link.href = a.href;
    link.rel = "noopener noreferrer";
    link.target = "_blank";
    if (a.image) {
      const img = el("img");
      img.src = a.href;
      img.alt = a.fileName;
      img.loading = "lazy";
      link.append(img);
    } else {
      link.textContent = label;
    }
    return link;
  }

  function messageNode(m, where) {
    const item = el("li", "message");
    if (!where) item.id = `m-${m.id}`; // the conversation's own copy; a search hit has none
    item.dataset.id = m.id;
    item.dataset.channel = m.channelId;
    item.dataset.cursor = m.cursor;
    if (m.reply) item.append(replyNode(m));
    const avatar = el("span", `avatar hue-${m.author.hue}`, m.author.initial);
    avatar.setAttribute("aria-hidden", "true");
    const head = el("div", "head");
    if (where) head.append(el("span", "where", m.channelPath));
    const author = el("span", "author", m.author.name);
    author.title = m.author.username;
    const time = el("a", "time", localTime(m.ts));
    time.href = permalink(m.channelId, m.id);
    time.title = m.createdAt;
    head.append(author, time);
    if (m.kind && m.kind !== "Reply") head.append(el("span", "kind", m.kind));
    if (m.editedAt) {
      const edited = el("span", "edited", "(edited)");
      edited.title = `Edited ${m.editedAt}`;
      head.append(edited);
    }
    if (m.source === "package") {
      const oneSided = el("span", "from-package", "from your data package");
      oneSided.title = "Discord refused this conversation: only your own messages, as your data package holds them.";
      head.append(oneSided);
      item.classList.add("one-sided");
    }
    const content = el("div", "content");
    content.innerHTML = m.html; // view/_markdown.py: escaped text, fixed tags only
    const body = el("div", "body");
    body.append(head, content);
    if (m.attachments.length) {
      const files = el("div", "attachments");
      files.append(...m.attachments.map(attachmentNode));
      body.append(files);
    }
    item.append(avatar, body);
    return item;
  }

  // ---- the conversation window --------------------------------------------------------------

  function showPane(which) {
    ui.scroller.hidden = which !== "messages";
    ui.jumpForm.hidden = which !== "messages";
    ui.results.hidden = which !== "results";
  }

  function note(text) {
    ui.note.textContent = text || "";
    ui.note.hidden = !text;
  }

  function busy(flag) {
    ui.scroller.setAttribute("aria-busy", flag ? "true" : "false");
  }

  function markActive(channel) {
    for (const item of ui.conversations.querySelectorAll("li.conversation")) {
      item.classList.toggle("active", item.dataset.id === channel);
    }
  }

  function edges() {
    start.hidden = !view || view.older !== null || ui.messages.children.length === 0;
  }

  async function openWindow(channel, url) {
    const mine = ++generation;
    view = null;
    showPane("messages");
    markActive(channel);
    const known = conversations.get(channel);
    ui.title.textContent = known ? known.name : `Conversation ${channel}`;
    note("");
    busy(true);
    let page;
    try {
      page = await getJson(url);
    } catch (error) {
      if (mine === generation) { note(error.message); busy(false); }
      return;
    }
    if (mine !== generation) return;
    ui.messages.replaceChildren(...page.messages.map((m) => messageNode(m, false)));
    view = { channel, older: page.older, newer: page.newer, busy: false };
    if (!page.messages.length) {
      note(known && known.gap ? `No messages: ${known.status}. ${known.reason}` : "No messages are archived in this conversation.");
    }
    const focused = page.focus && ui.messages.querySelector(`#m-${page.focus}`);
    if (focused) {
      focused.classList.add("focused");
      focused.scrollIntoView({ block: "center" });
    } else {
      ui.scroller.scrollTop = ui.scroller.scrollHeight;
    }
    edges();
    busy(false);
    checkEdges();
  }

  async function loadMore(side) {
    const v = view;
    const cursor = side === "older" ? v && v.older : v && v.newer;
    if (!v || v.busy || !cursor) return;
    v.busy = true;
    busy(true);
    try {
      const param = side === "older" ? "before" : "after";
      const page = await getJson(`/api/c/${v.channel}/messages?${param}=${cursor}&limit=${PAGE}`);
      if (v !== view) return;
      const nodes = page.messages.map((m) => messageNode(m, false));
      if (side === "older") {
        const height = ui.scroller.scrollHeight;
        ui.messages.prepend(...nodes);
        ui.scroller.scrollTop += ui.scroller.scrollHeight - height;
        v.older = page.older;
        dropNewest(v);
      } else {
        ui.messages.append(...nodes);
        v.newer = page.newer;
        dropOldest(v);
      }
      edges();
    } catch (error) {
      note(error.message);
      return;
    } finally {
      v.busy = false;
      busy(false);
    }
    checkEdges();
  }

  function dropNewest(v) {
    const list = ui.messages;
    if (list.children.length <= KEEP) return;
    while (list.children.length > KEEP) list.lastElementChild.remove();
    v.newer = list.lastElementChild.dataset.cursor;
  }

  function dropOldest(v) {
    const list = ui.messages;
    if (list.children.length <= KEEP) return;
    const height = ui.scroller.scrollHeight;
    while (list.children.length > KEEP) list.firstElementChild.remove();
    ui.scroller.scrollTop -= height - ui.scroller.scrollHeight;
    v.older = list.firstElementChild.dataset.cursor;
  }

  function checkEdges() {
    if (!view || view.busy || ui.scroller.hidden) return;
    const s = ui.scroller;
    if (s.scrollTop < EDGE && view.older) loadMore("older");
    else if (s.scrollHeight - s.scrollTop - s.clientHeight < EDGE && view.newer) loadMore("newer");
  }

  // ---- search -------------------------------------------------------------------------------

  async function search(q, before) {
    showPane("results");
    ui.title.textContent = "Search";
    note("");
    markActive(null);
    if (!before) {
      ui.hits.replaceChildren();
      ui.resultsCount.textContent = "Searching…";
      for (const format of ["json", "md", "txt"]) {
        $(`export-${format}`).href = `/api/export?format=${format}&q=${encodeURIComponent(q)}`;
      }
    }
    ui.searchError.hidden = true;
    ui.moreHits.hidden = true;
    let page;
    try {
      const more = before ? `&before=${before}` : "";
      page = await getJson(`/api/search?q=${encodeURIComponent(q)}&limit=${PAGE}${more}`);
    } catch (error) {
      ui.resultsCount.textContent = "";
      ui.searchError.textContent = error.message;
      ui.searchError.hidden = false;
      return;
    }
    lastSearch = { q, next: page.next };
    const one = page.count === 1 && !page.atLeast;
    const count = `${page.count.toLocaleString("en-US")}${page.atLeast ? "+" : ""}`;
    ui.resultsCount.textContent = `${count} message${one ? " matches" : "s match"} “${q}”`;
    ui.hits.append(...page.messages.map((m) => messageNode(m, true)));
    ui.moreHits.hidden = !page.next;
  }

  // ---- routes and events --------------------------------------------------------------------

  function route() {
    const match = /^#\/c\/(\d+)(?:\/m\/(\d+))?$/.exec(location.hash);
    if (!match) return;
    const [, channel, message] = match;
    const url = message
      ? `/api/c/${channel}/around?message=${message}&limit=${PAGE}`
      : `/api/c/${channel}/messages?limit=${PAGE}`;
    openWindow(channel, url);
  }

  ui.scroller.addEventListener("scroll", checkEdges, { passive: true });
  window.addEventListener("hashchange", route);

  ui.hits.addEventListener("click", (event) => {
    const hit = event.target.closest("li.message");
    if (!hit || event.target.closest("a.attachment")) return;
    event.preventDefault();
    const target = permalink(hit.dataset.channel, hit.dataset.id);
    if (location.hash === target) route();
    else location.hash = target;
  });

  document.addEventListener("click", (event) => {
    const spoiler = event.target.closest(".spoiler");
    if (spoiler) spoiler.classList.toggle("revealed");
  });

  ui.filter.addEventListener("input", () => {
    const wanted = ui.filter.value.trim().toLowerCase();
    for (const item of ui.conversations.querySelectorAll("li.conversation")) {
      const name = item.querySelector(".name").textContent.toLowerCase();
      item.hidden = wanted !== "" && !name.includes(wanted);
    }
  });

  ui.searchForm.addEventListener("submit", (event) => {
    event.preventDefault();
    search(ui.search.value.trim(), null);
  });

  ui.moreHits.addEventListener("click", () => {
    if (lastSearch && lastSearch.next) search(lastSearch.q, lastSearch.next);
  });

  ui.jumpForm.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!view || !ui.jumpDate.value) return;
    const [year, month, day] = ui.jumpDate.value.split("-").map(Number);
    const at = new Date(year, month - 1, day).toISOString();
    openWindow(view.channel, `/api/c/${view.channel}/around?at=${encodeURIComponent(at)}&limit=${PAGE}`);
  });

  for (const time of document.querySelectorAll("time.local")) {
    time.textContent = dayFormat.format(new Date(time.dateTime));
  }

  getJson("/api/conversations")
    .then((body) => {
      for (const c of body.conversations) conversations.set(c.id, c);
    })
    .catch((error) => note(error.message))
    .finally(route);
})();
