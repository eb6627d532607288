// Patrol wall: tiles drawn from the server's event stream (/api/patrol/events), no page reload.
// Arrow keys move between tiles, Enter opens the stream's newest item (else its timeline).
// Labels come translated in the page (data-labels); nothing is loaded from the network.
"use strict";

(function () {
  const wall = document.getElementById("wall");
  if (!wall) return;
  const L = JSON.parse(wall.dataset.labels || "{}");
  const V = L.values || {};
  const status = document.getElementById("patrol-status");
  const hiddenNote = document.getElementById("wall-hidden");
  const tiles = new Map(); // stream -> tile element
  let current = null; // stream name of the highlighted tile
  let order = [];

  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  };
  const fill = (tpl, n) => String(tpl || "").replace("%(n)s", n);
  const num = (v, d) => (typeof v === "number" ? v.toFixed(d) : "—");
  const href = (s) => (s.newest ? `/items/${s.newest}` : `/stream?name=${encodeURIComponent(s.stream)}`);

  function draw(tile, s) {
    tile.className = `tile h-${s.health}` + (s.alerts.length ? " alerting" : "") + (s.stream === current ? " current" : "");
    tile.dataset.stream = s.stream;
    tile.dataset.href = href(s);
    tile.replaceChildren();
    tile.append(el("div", "name", s.stream));
    const th = el("div", "thumb");
    if (s.thumb) {
      const img = el("img"); img.alt = ""; img.loading = "lazy"; img.src = s.thumb; th.append(img);
    } else th.append(el("span", "", L.no_thumb));
    tile.append(th);
    const facts = el("div", "facts");
    facts.append(el("span", "health", L[s.health] || s.health));
    if (s.lag_s !== null && s.lag_s !== undefined) facts.append(el("span", "lag", `${L.lag} ${num(s.lag_s, 1)} s`));
    facts.append(el("span", "tier", `${L.tier} ${s.tier} (${s.tier_name})`));
    facts.append(el("span", "profile", `${L.profile} ${s.profile}`));
    if (s.dropped) facts.append(el("span", "", `${L.dropped} ${s.dropped}`));
    if (s.reconnects) facts.append(el("span", "", `${L.reconnects} ${s.reconnects}`));
    if (s.in_pool === false) facts.append(el("span", "", L.not_in_pool));
    tile.append(facts);
    if (s.error) tile.append(el("div", "err", s.error));
    if (s.alerts.length) {
      const ul = el("ul", "alerts");
      s.alerts.forEach((a) => {
        const li = el("li");
        li.dataset.item = a.id;
        li.append(el("span", `sev sev-${a.severity}`, V[a.severity] || a.severity), el("span", "cat", V[a.category] || a.category),
          el("span", "meta", `${num(a.start, 0)}–${num(a.end, 0)} s`));
        ul.append(li);
      });
      if (s.more) ul.append(el("li", "meta", fill(L.more, s.more)));
      tile.append(ul);
    } else tile.append(el("div", "none", L.no_alerts));
  }

  function render(snap) {
    const pool = snap.pool || {};
    status.classList.toggle("down", Boolean(snap.error || pool.error));
    status.textContent = snap.error || (!pool.configured ? L.pool_off : pool.error ? `${L.pool_down} ${pool.error}` : L.pool_ok);
    const seen = new Set();
    order = [];
    (snap.streams || []).forEach((s, i) => {
      let tile = tiles.get(s.stream);
      if (!tile) {
        tile = el("div"); tile.tabIndex = -1; tile.setAttribute("role", "gridcell");
        tile.addEventListener("click", () => { current = tile.dataset.stream; mark(); });
        tile.addEventListener("dblclick", () => { window.location.href = tile.dataset.href; });
        tiles.set(s.stream, tile);
      }
      draw(tile, s);
      if (wall.children[i] !== tile) wall.insertBefore(tile, wall.children[i] || null);
      seen.add(s.stream); order.push(s.stream);
    });
    for (const [name, tile] of tiles) if (!seen.has(name)) { tile.remove(); tiles.delete(name); }
    if (!order.length) { if (!wall.querySelector(".empty")) wall.append(el("p", "empty", L.empty)); }
    else wall.querySelectorAll(".empty").forEach((e) => e.remove());
    if (current === null || !seen.has(current)) current = order.length ? order[0] : null;
    hiddenNote.hidden = !snap.hidden;
    hiddenNote.textContent = snap.hidden ? fill(L.hidden, snap.hidden) : "";
    mark();
  }

  function mark() {
    for (const [name, tile] of tiles) tile.classList.toggle("current", name === current);
  }

  const perRow = () => {
    const els = order.map((n) => tiles.get(n));
    if (els.length < 2) return 1;
    const top = els[0].offsetTop;
    const n = els.findIndex((t) => t.offsetTop !== top);
    return n < 0 ? els.length : n;
  };
  const move = (d) => {
    if (!order.length) return;
    const i = Math.max(0, Math.min(order.length - 1, order.indexOf(current) + d));
    current = order[i]; mark();
    tiles.get(current).scrollIntoView({ block: "nearest" });
  };

  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const a = document.activeElement;
    if (a && (a.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON|A)$/.test(a.tagName))) return;
    const k = ev.key;
    if (k === "ArrowRight") move(1);
    else if (k === "ArrowLeft") move(-1);
    else if (k === "ArrowDown") move(perRow());
    else if (k === "ArrowUp") move(-perRow());
    else if (k === "Enter" && current !== null) { window.location.href = tiles.get(current).dataset.href; }
    else return;
    ev.preventDefault();
  });

  const es = new EventSource(wall.dataset.events);
  es.addEventListener("snapshot", (ev) => {
    try { render(JSON.parse(ev.data)); } catch (e) { status.textContent = String(e); }
  });
  es.addEventListener("error", () => { status.classList.add("down"); status.textContent = L.disconnected; });
  window.addEventListener("pagehide", () => es.close());
})();
