// Keyboard-first review: shortcuts, row/grid navigation, batch decisions, the evidence player,
// claiming by POST when an item page opens, and detector boxes over thumbnails.
// No dependencies, nothing loaded from the network. Pages work without this script.
"use strict";

(function () {
  const body = document.body;
  const page = body.dataset.page;
  const csrf = body.dataset.csrf || "";
  const typing = (el) => el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) && el.type !== "radio";
  const go = (href) => { if (href) window.location.href = href; };
  const $ = (id) => document.getElementById(id);
  const click = (id) => { const el = $(id); if (el && !el.disabled) { el.click(); return true; } return false; };
  const help = $("help");
  document.querySelectorAll(".help-toggle").forEach((b) => b.addEventListener("click", () => { help.hidden = !help.hidden; }));

  // Login: a printed URL may carry the token in its fragment (never sent to the server).
  if (page === "login" && location.hash.startsWith("#token=")) {
    const t = $("token");
    if (t) t.value = decodeURIComponent(location.hash.slice(7));
    history.replaceState(null, "", location.pathname + location.search);
  }

  // Queue rows (list) or cards (grid): j/k or arrows move, Enter/o opens, x selects.
  const grid = $("grid");
  const rows = Array.from(document.querySelectorAll(".row[data-href]"));
  let cur = rows.length ? 0 : -1;
  const boxes = () => rows.map((r) => r.querySelector("input[type=checkbox]"));
  const selCount = $("sel-count");
  const countSel = () => { if (selCount) selCount.textContent = boxes().filter((b) => b && b.checked).length; };
  const mark = () => rows.forEach((r, i) => r.classList.toggle("current", i === cur));
  if (page === "queue" || page === "stream") mark();
  rows.forEach((r, i) => r.addEventListener("click", (ev) => {
    if (ev.target.closest("a, input, button, label")) return;
    cur = i; mark();
  }));
  document.querySelectorAll("#bulk input[type=checkbox]").forEach((b) => b.addEventListener("change", countSel));
  const perRow = () => {
    if (!grid || rows.length < 2) return 1;
    const top = rows[0].offsetTop;
    const n = rows.findIndex((r) => r.offsetTop !== top);
    return n < 0 ? rows.length : n;
  };
  const move = (d) => { cur = Math.max(0, Math.min(rows.length - 1, cur + d)); mark(); rows[cur].scrollIntoView({ block: "nearest" }); };

  // Batch decisions: the selected rows, or the highlighted one when none is selected. Dismissing
  // a high or critical item needs a reason; say so here instead of sending a doomed request.
  const bulkForm = $("bulk");
  const batch = (action) => {
    if (!bulkForm || cur < 0) return;
    let picked = boxes().filter((b) => b && b.checked);
    if (!picked.length) { const b = rows[cur].querySelector("input[type=checkbox]"); if (b) { b.checked = true; picked = [b]; } }
    const note = $("bulk-note"), err = $("bulk-error");
    const high = picked.some((b) => /^(high|critical)$/.test(b.closest(".row").dataset.sev));
    if (action === "dismiss" && high && note && !note.value.trim()) {
      err.hidden = false; note.focus(); return;
    }
    const btn = $("bulk-" + action);
    if (btn) btn.click();
  };

  // Enter in the reason field dismisses the selection (the reason is for dismissing), instead of
  // the form's implicit submission with its first button (confirm).
  const bulkNote = $("bulk-note");
  if (bulkNote) bulkNote.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter") { ev.preventDefault(); batch("dismiss"); }
    if (ev.key === "Escape") bulkNote.blur();
  });

  // Stream timeline segments and evidence markers are positioned by script (CSP forbids inline styles).
  document.querySelectorAll(".timeline .seg").forEach((s) => {
    s.style.left = s.dataset.l + "%"; s.style.width = s.dataset.w + "%";
  });

  // Thumbnails: draw signal boxes ([x, y, w, h] in source-frame pixels) over the image.
  const SVG = "http://www.w3.org/2000/svg";
  document.querySelectorAll("figure.thumb").forEach((fig) => {
    const img = fig.querySelector("img"), svg = fig.querySelector("svg");
    let bx = [];
    try { bx = JSON.parse(fig.dataset.boxes || "[]"); } catch (e) { bx = []; }
    const draw = () => {
      svg.setAttribute("viewBox", `0 0 ${img.naturalWidth} ${img.naturalHeight}`);
      svg.setAttribute("preserveAspectRatio", "none");
      bx.forEach((s) => {
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

  // Player: start at the first evidence, markers on the timeline, speed control.
  const video = $("clip");
  const markers = Array.from(document.querySelectorAll("#markers .marker"));
  const speed = $("speed");
  const RATES = [0.5, 1, 1.5, 2, 3];
  if (video) {
    const start = Number(video.dataset.start || 0);
    const place = () => {
      const d = video.duration;
      if (!Number.isFinite(d) || d <= 0) return;
      markers.forEach((m) => { m.style.left = Math.min(100, (100 * Number(m.dataset.t)) / d) + "%"; });
      if (video.currentTime < 0.01 && start > 0) video.currentTime = Math.min(start, d);
    };
    video.addEventListener("loadedmetadata", place);
    if (video.readyState >= 1) place();
    markers.forEach((m) => m.addEventListener("click", () => { video.currentTime = Number(m.dataset.t); }));
    if (speed) speed.addEventListener("change", () => { video.playbackRate = Number(speed.value); });
  }
  const setRate = (d) => {
    if (!speed || !video) return;
    const i = Math.max(0, Math.min(RATES.length - 1, RATES.indexOf(Number(speed.value)) + d));
    speed.value = String(RATES[i]); video.playbackRate = RATES[i];
  };
  const jumpMarker = (d) => {
    if (!video || !markers.length) return;
    const ts = markers.map((m) => Number(m.dataset.t));
    const now = video.currentTime;
    const t = d > 0 ? ts.find((x) => x > now + 0.05) : [...ts].reverse().find((x) => x < now - 0.05);
    if (t !== undefined) video.currentTime = t;
  };

  // Item: claim by POST when the page opens (the GET itself changes nothing).
  const head = document.querySelector(".item-head[data-item]");
  if (head && head.dataset.claim === "yes") {
    fetch(`/api/items/${head.dataset.item}/claim`, { method: "POST", headers: { "X-CSRF-Token": csrf }, credentials: "same-origin" })
      .then((r) => r.json().then((j) => ({ ok: r.ok, j })))
      .then(({ ok, j }) => {
        const st = $("claim-state");
        if (ok) { head.dataset.claimed = "yes"; if (st) st.textContent = ` · ${j.claimed_by} ✓`; }
        else {
          head.dataset.claimed = "no";
          const p = document.createElement("p"); p.className = "notice"; p.setAttribute("role", "alert");
          p.id = "claim-error"; p.textContent = j.detail || "claim failed"; head.append(p);
        }
      }).catch(() => {});
  }
  // Dismissing a high or critical item needs a reason in the note.
  const decideForm = $("decide");
  if (decideForm && head) {
    decideForm.addEventListener("submit", (ev) => {
      const btn = ev.submitter, note = $("note");
      if (btn && btn.value === "dismiss" && /^(high|critical)$/.test(head.dataset.severity) && note && !note.value.trim()) {
        ev.preventDefault(); $("reason-needed").hidden = false; note.focus();
      }
    });
  }

  // A ban's length matters only when the penalty is a ban; confirming as another category offers
  // that category's penalties (the server checks them again).
  const banDays = $("ban-days"), penalties = $("penalties"), catSel = $("category");
  if (banDays && penalties) {
    const sync = () => { const r = penalties.querySelector("input[name=penalty]:checked"); banDays.disabled = !r || r.value !== "ban"; };
    penalties.addEventListener("change", sync);
    const table = JSON.parse(penalties.dataset.table || "{}");
    if (catSel && table.categories) catSel.addEventListener("change", () => {
      const t = table.categories[catSel.value];
      if (!t) return;
      penalties.querySelectorAll("label.penalty-choice").forEach((l) => l.remove());
      const days = banDays.closest("label");
      t.allowed.forEach((p, i) => {
        const l = document.createElement("label"); l.className = "penalty-choice";
        const r = document.createElement("input"); r.type = "radio"; r.name = "penalty"; r.value = p; r.id = `penalty-${p}`;
        r.dataset.key = String(i + 1); r.checked = p === t.default;
        const k = document.createElement("kbd"); k.textContent = String(i + 1);
        l.append(r, ` ${table.names[p] || p} `, k); penalties.insertBefore(l, days);
      });
      days.hidden = !t.allowed.includes("ban"); banDays.value = String(t.ban_days); banDays.max = String(t.max);
      sync();
    });
    sync();
  }

  document.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) return;
    const k = ev.key;
    if (k === "?") { help.hidden = !help.hidden; return; }
    if (k === "Escape") { help.hidden = true; return; }
    if (k === "n") { const f = $("next-form"); if (f) f.requestSubmit(); return; }
    if (k === "g" && page !== "item") return go("/?view=grid");
    if (k === "q" && page !== "queue") return go("/");
    if (page === "item") {
      if (k === "c" && click("btn-confirm")) return ev.preventDefault();
      if (k === "d" && click("btn-dismiss")) return ev.preventDefault();
      if (k === "e" && click("btn-escalate")) return ev.preventDefault();
      if (/^[1-9]$/.test(k)) {  // pick the penalty of a confirmation
        const r = document.querySelector(`#penalties input[data-key="${k}"]`);
        if (r) { r.checked = true; r.dispatchEvent(new Event("change", { bubbles: true })); return ev.preventDefault(); }
      }
      if (k === "u") { const f = $("release"); if (f) f.requestSubmit(); return; }
      if (k === "j") return go($("next") && $("next").href);
      if (k === "k") return go($("prev") && $("prev").href);
      if (video) {
        if (k === " ") { ev.preventDefault(); if (video.paused) video.play(); else video.pause(); return; }
        if (k === "ArrowRight") { video.currentTime = Math.min(video.duration || 0, video.currentTime + 2); return; }
        if (k === "ArrowLeft") { video.currentTime = Math.max(0, video.currentTime - 2); return; }
        if (k === "m") { video.muted = !video.muted; return; }
        if (k === "[") return setRate(-1);
        if (k === "]") return setRate(1);
        if (k === ",") return jumpMarker(-1);
        if (k === ".") return jumpMarker(1);
      }
    }
    if (rows.length && (page === "queue" || page === "stream")) {
      const w = perRow();
      if (k === "j" || k === "ArrowDown") { move(grid ? w : 1); ev.preventDefault(); }
      else if (k === "k" || k === "ArrowUp") { move(grid ? -w : -1); ev.preventDefault(); }
      else if (grid && (k === "l" || k === "ArrowRight")) { move(1); ev.preventDefault(); }
      else if (grid && (k === "h" || k === "ArrowLeft")) { move(-1); ev.preventDefault(); }
      else if (k === "Enter" || k === "o") { go(rows[cur].dataset.href); }
      else if (k === "x" || (grid && k === " ")) {
        const cb = rows[cur].querySelector("input[type=checkbox]"); if (cb) cb.checked = !cb.checked; countSel(); ev.preventDefault();
      }
      else if (k === "a" && page === "queue") { const all = boxes(); const on = !all.every((b) => b && b.checked); all.forEach((b) => { if (b) b.checked = on; }); countSel(); }
      else if (page === "queue" && k === "c") { batch("confirm"); ev.preventDefault(); }
      else if (page === "queue" && k === "d") { batch("dismiss"); ev.preventDefault(); }
      else if (page === "queue" && k === "e") { batch("escalate"); ev.preventDefault(); }
    }
  });
})();
