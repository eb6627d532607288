// Keyboard-first review: shortcuts, row navigation, and detector boxes over thumbnails.
// No dependencies, nothing loaded from the network. Pages work without this script.
"use strict";

(function () {
  const page = document.body.dataset.page;
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  const go = (href) => { if (href) window.location.href = href; };
  const click = (id) => { const el = document.getElementById(id); if (el && !el.disabled) { el.click(); return true; } return false; };
  const help = document.getElementById("help");
  document.querySelectorAll(".help-toggle").forEach((b) => b.addEventListener("click", () => { help.hidden = !help.hidden; }));

  // Login: a printed URL may carry the token in its fragment (never sent to the server).
  if (page === "login" && location.hash.startsWith("#token=")) {
    const t = document.getElementById("token");
    if (t) t.value = decodeURIComponent(location.hash.slice(7));
    history.replaceState(null, "", location.pathname + location.search);
  }

  // Queue: j/k highlight rows, Enter/o opens, x toggles the checkbox.
  const rows = Array.from(document.querySelectorAll("tr.row[data-href]"));
  let cur = rows.length ? 0 : -1;
  const mark = () => rows.forEach((r, i) => r.classList.toggle("current", i === cur));
  if (page === "queue" || page === "stream") mark();
  rows.forEach((r, i) => r.addEventListener("click", (ev) => {
    if (ev.target.closest("a, input, button")) return;
    cur = i; mark();
  }));

  // Stream timeline segments are positioned from data attributes (CSP forbids inline styles).
  document.querySelectorAll(".timeline .seg").forEach((s) => {
    s.style.left = s.dataset.l + "%"; s.style.width = s.dataset.w + "%";
  });

  // Thumbnails: draw signal boxes ([x, y, w, h] in source-frame pixels) over the image.
  const SVG = "http://www.w3.org/2000/svg";
  document.querySelectorAll("figure.thumb").forEach((fig) => {
    const img = fig.querySelector("img"), svg = fig.querySelector("svg");
    let boxes = [];
    try { boxes = JSON.parse(fig.dataset.boxes || "[]"); } catch (e) { boxes = []; }
    const draw = () => {
      svg.setAttribute("viewBox", `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
      svg.setAttribute("preserveAspectRatio", "none");
      boxes.forEach((s) => {
        const [x, y, w, h] = s.box;
        const r = document.createElementNS(SVG, "rect");
        r.setAttribute("x", x); r.setAttribute("y", y); r.setAttribute("width", w); r.setAttribute("height", h);
        const t = document.createElementNS(SVG, "text");
        t.setAttribute("x", x + 2); t.setAttribute("y", Math.max(12, y - 4));
        t.textContent = `${s.kind} ${s.term || s.label || ""} ${Number(s.score).toFixed(2)}`;
        svg.append(r, t);
      });
    };
    if (img.complete && img.naturalWidth) draw(); else img.addEventListener("load", draw);
  });

  const video = document.getElementById("clip");

  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) return;
    const k = ev.key;
    if (k === "?") { help.hidden = !help.hidden; return; }
    if (k === "Escape") { help.hidden = true; return; }
    if (k === "n") return go("/next");
    if (k === "q" && page !== "queue") return go("/");
    if (page === "item") {
      if (k === "c" && click("btn-confirm")) return ev.preventDefault();
      if (k === "d" && click("btn-dismiss")) return ev.preventDefault();
      if (k === "e" && click("btn-escalate")) return ev.preventDefault();
      if (k === "u") { const f = document.getElementById("release"); if (f) f.requestSubmit(); return; }
      if (k === "j") return go(document.getElementById("next") && document.getElementById("next").href);
      if (k === "k") return go(document.getElementById("prev") && document.getElementById("prev").href);
      if (video) {
        if (k === " ") { ev.preventDefault(); if (video.paused) video.play(); else video.pause(); return; }
        if (k === "ArrowRight") { video.currentTime = Math.min(video.duration || 0, video.currentTime + 2); return; }
        if (k === "ArrowLeft") { video.currentTime = Math.max(0, video.currentTime - 2); return; }
        if (k === "m") { video.muted = !video.muted; return; }
      }
    }
    if (rows.length && (page === "queue" || page === "stream")) {
      if (k === "j" || k === "ArrowDown") { cur = Math.min(rows.length - 1, cur + 1); mark(); rows[cur].scrollIntoView({ block: "nearest" }); ev.preventDefault(); }
      else if (k === "k" || k === "ArrowUp") { cur = Math.max(0, cur - 1); mark(); rows[cur].scrollIntoView({ block: "nearest" }); ev.preventDefault(); }
      else if (k === "Enter" || k === "o") { go(rows[cur].dataset.href); }
      else if (k === "x") { const cb = rows[cur].querySelector("input[type=checkbox]"); if (cb) cb.checked = !cb.checked; }
    }
  });
})();
